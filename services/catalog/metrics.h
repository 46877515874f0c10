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
  // SearchItems answered by PostgreSQL although a search index is configured,
  // by reason: "building" (not built yet), "lagging" (it had not applied this
  // replica's writes within --search_index_wait_ms), "error" (it failed).
  Counter* search_fallback_building = nullptr;
  Counter* search_fallback_lagging = nullptr;
  Counter* search_fallback_error = nullptr;
  Counter* index_changes_applied = nullptr;  // item changes applied to the search index
  Counter* index_rebuilds = nullptr;         // complete rebuilds of the search index
  Gauge* index_ready = nullptr;              // 1 once the search index is built
  Gauge* index_items = nullptr;              // items in the search index
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
    auto& fallback = registry->AddCounter(
        "genesis_catalog_search_fallback_total",
        "SearchItems answered by PostgreSQL instead of the search index, by reason.", {"reason"});
    m.search_fallback_building = &fallback.WithLabels({"building"});
    m.search_fallback_lagging = &fallback.WithLabels({"lagging"});
    m.search_fallback_error = &fallback.WithLabels({"error"});
    m.index_changes_applied =
        &registry
             ->AddCounter("genesis_catalog_search_index_changes_total",
                          "Item changes applied to this replica's search index.")
             .WithLabels({});
    m.index_rebuilds = &registry
                            ->AddCounter("genesis_catalog_search_index_rebuilds_total",
                                         "Complete rebuilds of this replica's search index.")
                            .WithLabels({});
    m.index_ready = &registry
                         ->AddGauge("genesis_catalog_search_index_ready",
                                    "1 once this replica's search index is built.")
                         .WithLabels({});
    m.index_items = &registry
                         ->AddGauge("genesis_catalog_search_index_items",
                                    "Items in this replica's search index.")
                         .WithLabels({});
    return m;
  }
};

}  // namespace genesis::catalog
