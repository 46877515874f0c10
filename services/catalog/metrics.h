// Every counter the Catalog exports besides the per-RPC ones (common/rpc/rpc.h)
// and the pool gauges (common/storage/pg_pool.h).
#pragma once

#include "common/base/metrics.h"

namespace genesis::catalog {

struct CatalogMetrics {
  Counter* cache_hits = nullptr;    // GetItem served from a cache tier (memory or Redis)
  Counter* cache_misses = nullptr;  // GetItem read from PostgreSQL
  Counter* cache_errors = nullptr;  // Redis failed; the call went on without it
  Counter* items_purged = nullptr;  // soft-deleted items removed for good
  // The in-process tier in front of Redis (local_cache.h).
  Counter* local_hits = nullptr;       // served from this process' memory
  Counter* local_misses = nullptr;     // not held (or too old): Redis asked
  Counter* local_bypassed = nullptr;   // not consulted: the invalidation feed is down
  Counter* local_expired = nullptr;    // dropped at lookup, older than the max age
  Counter* local_evictions = nullptr;  // dropped to stay within the entry/byte bounds

  static CatalogMetrics Register(MetricsRegistry* registry) {
    CatalogMetrics m;
    auto& cache =
        registry->AddCounter("genesis_catalog_item_cache_total",
                             "GetItem cache lookups by result (hit, miss, error).", {"result"});
    m.cache_hits = &cache.WithLabels({"hit"});
    m.cache_misses = &cache.WithLabels({"miss"});
    m.cache_errors = &cache.WithLabels({"error"});
    auto& local = registry->AddCounter(
        "genesis_catalog_item_local_cache_total",
        "GetItem lookups in the in-process tier by result (hit, miss, bypassed: the "
        "invalidation feed was down) and entries dropped (expired, evicted).",
        {"result"});
    m.local_hits = &local.WithLabels({"hit"});
    m.local_misses = &local.WithLabels({"miss"});
    m.local_bypassed = &local.WithLabels({"bypassed"});
    m.local_expired = &local.WithLabels({"expired"});
    m.local_evictions = &local.WithLabels({"evicted"});
    m.items_purged = &registry
                          ->AddCounter("genesis_catalog_items_purged_total",
                                       "Soft-deleted items purged after the undelete window.")
                          .WithLabels({});
    return m;
  }
};

}  // namespace genesis::catalog
