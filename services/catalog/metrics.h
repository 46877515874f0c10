// Every counter the Catalog exports besides the per-RPC ones (common/rpc/rpc.h)
// and the pool gauges (common/storage/pg_pool.h).
#pragma once

#include "common/base/metrics.h"

namespace genesis::catalog {

struct CatalogMetrics {
  Counter* cache_hits = nullptr;    // GetItem served from Redis
  Counter* cache_misses = nullptr;  // GetItem read from PostgreSQL
  Counter* cache_errors = nullptr;  // Redis failed; the call went on without it
  Counter* items_purged = nullptr;  // soft-deleted items removed for good

  static CatalogMetrics Register(MetricsRegistry* registry) {
    CatalogMetrics m;
    auto& cache =
        registry->AddCounter("genesis_catalog_item_cache_total",
                             "GetItem cache lookups by result (hit, miss, error).", {"result"});
    m.cache_hits = &cache.WithLabels({"hit"});
    m.cache_misses = &cache.WithLabels({"miss"});
    m.cache_errors = &cache.WithLabels({"error"});
    m.items_purged = &registry
                          ->AddCounter("genesis_catalog_items_purged_total",
                                       "Soft-deleted items purged after the undelete window.")
                          .WithLabels({});
    return m;
  }
};

}  // namespace genesis::catalog
