// genesis-catalog: flags -> validated config -> real dependencies -> server
// (the skeleton is common/runtime/service_runtime.h; this file is the catalog's wiring).
#include <gflags/gflags.h>

#include "common/runtime/service_runtime.h"
#include "common/runtime/worker_loop.h"
#include "common/storage/redis_subscriber.h"
#include "services/catalog/catalog.h"
#include "services/catalog/grpc_service.h"
#include "services/catalog/local_cache.h"
#include "services/catalog/pg_store.h"
#include "services/catalog/redis_cache.h"
#include "services/catalog/xapian_index.h"

DEFINE_int32(item_cache_ttl_s, 3600, "How long GetItem keeps an item in Redis, in seconds.");
DEFINE_int32(item_local_cache_entries, 100000,
             "Items GetItem keeps in this process' memory in front of Redis (0: none; needs "
             "--redis_url, whose pub/sub carries the invalidations).");
DEFINE_int32(item_local_cache_mb, 64,
             "Memory bound of the in-process item cache, in MiB (items counted by their text, "
             "attributes and labels plus a fixed overhead).");
DEFINE_int32(item_local_cache_max_age_ms, 5000,
             "An item read from Redis is served from memory for at most this long, even if "
             "no invalidation arrives: the bound on staleness should one be lost.");
DEFINE_int32(max_item_bytes, 1 << 20,
             "Largest item (title + body + attributes + labels), in bytes.");
DEFINE_int32(search_rank_window, 10000,
             "SearchItems ranks at most this many matching items (0: all); bounds the cost "
             "of words that match a large share of the catalog.");
DEFINE_string(search_engine, "postgres",
              "What ranks SearchItems: postgres (PostgreSQL's full-text index) or xapian (a "
              "search index per replica, fed from PostgreSQL's change log).");
DEFINE_string(search_index_dir, "",
              "With --search_engine=xapian: the directory of this replica's search index (kept "
              "across restarts; one process per directory). Empty: in memory, rebuilt at every "
              "start.");
DEFINE_int32(search_index_poll_ms, 200,
             "With --search_engine=xapian: how often the index looks for changes made through "
             "other replicas (this replica's own writes wake it at once).");
DEFINE_int32(search_index_wait_ms, 1000,
             "With --search_engine=xapian: how long a search waits for the index to apply this "
             "replica's earlier writes before answering from PostgreSQL instead.");
DEFINE_int32(search_index_log_retention_h, 24,
             "How long the search index's change log is kept; a replica whose index is further "
             "behind rebuilds it.");
DEFINE_bool(search_index_rebuild, false,
            "With --search_engine=xapian: rebuild the index from PostgreSQL at start even when "
            "it is up to date.");
DEFINE_int32(purge_interval_s, 3600,
             "How often soft-deleted items past their 30-day undelete window are purged; 0 never.");

namespace genesis {
std::vector<Migration> CatalogMigrations();  // generated from migrations/*.sql
}

int main(int argc, char** argv) {
  using namespace genesis;
  ServiceRuntime rt({.name = "catalog",
                     .description = "genesis-catalog: typed items with full-text search "
                                    "(genesis.catalog.v1).",
                     .migrations = CatalogMigrations,
                     .uses_redis = true},
                    &argc, &argv);
  ConfigErrors& errors = rt.errors();
  errors.RequireRange("item_cache_ttl_s", FLAGS_item_cache_ttl_s, 1, 30 * 86400);
  errors.RequireRange("item_local_cache_entries", FLAGS_item_local_cache_entries, 0, 10000000);
  errors.RequireRange("item_local_cache_mb", FLAGS_item_local_cache_mb, 1, 64 << 10);
  errors.RequireRange("item_local_cache_max_age_ms", FLAGS_item_local_cache_max_age_ms, 1,
                      3600 * 1000);
  errors.RequireRange("max_item_bytes", FLAGS_max_item_bytes, 1024, 64 << 20);
  errors.RequireRange("purge_interval_s", FLAGS_purge_interval_s, 0, 30 * 86400);
  errors.RequireRange("search_rank_window", FLAGS_search_rank_window, 0, 100000000);
  if (FLAGS_search_engine != "postgres" && FLAGS_search_engine != "xapian") {
    errors.Add("search_engine", "must be postgres or xapian");
  }
  errors.RequireRange("search_index_poll_ms", FLAGS_search_index_poll_ms, 10, 60000);
  errors.RequireRange("search_index_wait_ms", FLAGS_search_index_wait_ms, 0, 60000);
  errors.RequireRange("search_index_log_retention_h", FLAGS_search_index_log_retention_h, 1,
                      24 * 365);
  if (FLAGS_max_item_bytes + (64 << 10) > rt.config().server.max_message_bytes) {
    errors.Add("max_item_bytes", "must be at least 64 KiB below --max_message_bytes");
  }
  if (auto code = rt.Init()) return *code;

  catalog::CatalogMetrics metrics = catalog::CatalogMetrics::Register(&rt.registry());
  std::unique_ptr<catalog::ItemCache> cache;
  // The in-process tier and the subscriber that feeds it invalidations; the
  // subscriber is stopped (OnStop) before the logic that owns the tier goes.
  std::unique_ptr<RedisSubscriber> subscriber;
  catalog::TieredItemCache* tier = nullptr;
  if (rt.redis() != nullptr) {
    // Invalidations are published whether or not this process keeps items in
    // memory: other replicas may.
    auto shared = std::make_unique<catalog::RedisItemCache>(
        rt.redis(), absl::Seconds(FLAGS_item_cache_ttl_s), metrics,
        catalog::RedisItemCache::kInvalidationChannel);
    if (FLAGS_item_local_cache_entries > 0) {
      RedisSubscriberOptions so;
      so.channels = {catalog::RedisItemCache::kInvalidationChannel};
      so.name = "catalog_items";
      subscriber = std::make_unique<RedisSubscriber>(
          rt.redis(), so,
          RedisSubscriber::Handler{
              .on_message = [&tier](const std::string&,
                                    const std::string& message) { tier->OnMessage(message); },
              .on_subscribed = [&tier] { tier->Clear(); },
              .on_lost = [&tier] { tier->Clear(); }},
          &rt.registry());
      catalog::LocalCacheOptions lo;
      lo.max_entries = static_cast<size_t>(FLAGS_item_local_cache_entries);
      lo.max_bytes = static_cast<size_t>(FLAGS_item_local_cache_mb) << 20;
      lo.max_age = absl::Milliseconds(FLAGS_item_local_cache_max_age_ms);
      auto tiered = std::make_unique<catalog::TieredItemCache>(
          std::move(shared), lo, [s = subscriber.get()] { return s->Live(); }, metrics);
      tier = tiered.get();
      rt.registry().AddCallbackGauge(
          "genesis_catalog_item_local_cache_entries", "Items held in the in-process tier.",
          [tier] { return static_cast<double>(tier->local().entries()); });
      rt.registry().AddCallbackGauge(
          "genesis_catalog_item_local_cache_bytes",
          "Bytes the in-process tier counts against --item_local_cache_mb.",
          [tier] { return static_cast<double>(tier->local().bytes()); });
      cache = std::move(tiered);
    } else {
      cache = std::move(shared);
    }
  } else {
    rt.log()->warn("--redis_url is empty: GetItem reads PostgreSQL every time");
    cache = std::make_unique<catalog::NoItemCache>();
  }
  catalog::CatalogOptions options;
  options.max_item_bytes = static_cast<size_t>(FLAGS_max_item_bytes);
  options.search_rank_window = FLAGS_search_rank_window;
  options.search_index_wait = absl::Milliseconds(FLAGS_search_index_wait_ms);
  options.index_log_retention = absl::Hours(FLAGS_search_index_log_retention_h);
  std::unique_ptr<catalog::SearchIndex> index;
  if (FLAGS_search_engine == "xapian") {
    auto opened = catalog::XapianSearchIndex::Open({.dir = FLAGS_search_index_dir});
    if (!opened.ok()) {
      rt.log()->critical("--search_index_dir: {}", opened.status().message());
      return 1;
    }
    index = std::move(*opened);
  }
  catalog::Catalog logic(std::make_unique<catalog::PgCatalogStore>(&rt.pool()), std::move(cache),
                         options, metrics, std::move(index));
  catalog::CatalogGrpcService service(&logic, &rt.Dispatcher("genesis.catalog.v1.CatalogService"));
  rt.AddService(&service, "genesis.catalog.v1.CatalogService");
  if (subscriber != nullptr) {
    subscriber->Start();
    rt.OnStop([&subscriber] { subscriber->Stop(); });
  }

  // Purges soft-deleted items past their undelete window, off the request path:
  // at start, then every --purge_interval_s (a failure waits for the next round).
  if (FLAGS_purge_interval_s > 0) {
    rt.AddLoop("catalog.purge", 1, absl::Seconds(FLAGS_purge_interval_s),
               [&]() -> absl::StatusOr<int> {
                 auto purged = logic.PurgeExpired(CallContext::Background(absl::Minutes(5)));
                 if (!purged.ok()) rt.log()->warn("purge failed: {}", purged.status().message());
                 return 0;
               });
  }
  // Keeps the search index in step with PostgreSQL (builds it first when needed).
  if (catalog::IndexSync* sync = logic.index_sync()) {
    if (FLAGS_search_index_rebuild) sync->RequestRebuild();
    WorkerLoop& loop =
        rt.AddLoop("catalog.search_index", 1, absl::Milliseconds(FLAGS_search_index_poll_ms),
                   [&rt, sync]() -> absl::StatusOr<int> {
                     auto n = sync->Step(CallContext::Background(absl::Hours(6)));
                     if (!n.ok()) rt.log()->warn("search index: {}", n.status().message());
                     return n.ok() ? *n : 0;
                   });
    sync->set_wake([&loop] { loop.Notify(); });
  }
  const int code = rt.Serve();
  if (subscriber != nullptr) subscriber->Stop();  // already, unless serving failed early
  return code;
}
