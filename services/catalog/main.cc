// genesis-catalog: flags -> validated config -> real dependencies -> server.
#include <gflags/gflags.h>

#include <thread>

#include "common/config.h"
#include "common/logging.h"
#include "common/migrations.h"
#include "common/rpc.h"
#include "common/server.h"
#include "common/service_config.h"
#include "services/catalog/catalog.h"
#include "services/catalog/grpc_service.h"
#include "services/catalog/pg_store.h"
#include "services/catalog/redis_cache.h"

DEFINE_int32(item_cache_ttl_s, 3600, "How long GetItem keeps an item in Redis, in seconds.");
DEFINE_int32(max_item_bytes, 1 << 20,
             "Largest item (title + body + attributes + labels), in bytes.");
DEFINE_int32(search_rank_window, 10000,
             "SearchItems ranks at most this many matching items (0: all); bounds the cost "
             "of words that match a large share of the catalog.");
DEFINE_int32(purge_interval_s, 3600,
             "How often soft-deleted items past their 30-day undelete window are purged; 0 never.");

namespace genesis {
std::vector<Migration> CatalogMigrations();  // generated from migrations/*.sql
}

int main(int argc, char** argv) {
  using namespace genesis;
  ParseFlagsWithEnv(&argc, &argv,
                    "genesis-catalog: typed items with full-text search (genesis.catalog.v1).\n"
                    "Every flag can also be set as GENESIS_<FLAG>, e.g. GENESIS_PG_DSN.");
  ConfigErrors errors;
  ServiceConfig config = ServiceConfigFromFlags("catalog", &errors);
  errors.RequireRange("item_cache_ttl_s", FLAGS_item_cache_ttl_s, 1, 30 * 86400);
  errors.RequireRange("max_item_bytes", FLAGS_max_item_bytes, 1024, 64 << 20);
  errors.RequireRange("purge_interval_s", FLAGS_purge_interval_s, 0, 30 * 86400);
  errors.RequireRange("search_rank_window", FLAGS_search_rank_window, 0, 100000000);
  if (FLAGS_max_item_bytes + (64 << 10) > config.server.max_message_bytes) {
    errors.Add("max_item_bytes", "must be at least 64 KiB below --max_message_bytes");
  }
  errors.ExitIfAny();
  InitLogging(config.log_format, config.log_level);
  auto log = Logger("catalog");

  if (auto code = MigrateForMain(config, "catalog", CatalogMigrations()); code.has_value())
    return *code;

  MetricsRegistry registry;
  PgPool pool(config.pg, &registry);
  std::unique_ptr<RedisClient> redis;
  catalog::CatalogMetrics metrics = catalog::CatalogMetrics::Register(&registry);
  std::unique_ptr<catalog::ItemCache> cache;
  if (!config.redis.url.empty()) {
    auto client = RedisClient::Create(config.redis, &registry);
    if (!client.ok()) {
      log->critical("--redis_url: {}", client.status().message());
      return 2;
    }
    redis = std::move(*client);
    cache = std::make_unique<catalog::RedisItemCache>(
        redis.get(), absl::Seconds(FLAGS_item_cache_ttl_s), metrics);
  } else {
    log->warn("--redis_url is empty: GetItem reads PostgreSQL every time");
    cache = std::make_unique<catalog::NoItemCache>();
  }
  catalog::CatalogOptions options;
  options.max_item_bytes = static_cast<size_t>(FLAGS_max_item_bytes);
  options.search_rank_window = FLAGS_search_rank_window;
  catalog::Catalog logic(std::make_unique<catalog::PgCatalogStore>(&pool), std::move(cache),
                         options, metrics);

  WorkerPool workers("catalog", config.worker_threads, config.max_queued_calls);
  RpcDispatcher dispatcher("genesis.catalog.v1.CatalogService", &workers, &registry,
                           config.max_call_deadline);
  catalog::CatalogGrpcService service(&logic, &dispatcher);

  ServiceHost host(config.server, &registry);
  host.AddService(&service, "genesis.catalog.v1.CatalogService");
  // Neither a database outage nor a Redis one makes the service unready
  // (common/server.h): they are probed for genesis_dependency_up only.
  host.AddDependencyProbe(
      "postgres", [&logic] { return logic.Ready(CallContext::Background(absl::Seconds(2))); });
  if (redis) {
    host.AddDependencyProbe(
        "redis", [&redis] { return redis->Ping(absl::Now() + absl::Milliseconds(500)); });
  }
  host.WatchWorkers(&workers, config.liveness_stall);
  // Purges soft-deleted items past their undelete window, off the request path.
  std::thread purger;
  std::atomic<bool> stop{false};
  if (FLAGS_purge_interval_s > 0) {
    purger = std::thread([&] {
      absl::Time next = absl::Now();
      while (!stop.load()) {
        if (absl::Now() >= next) {
          auto purged = logic.PurgeExpired(CallContext::Background(absl::Minutes(5)));
          if (!purged.ok()) log->warn("purge failed: {}", purged.status().message());
          next = absl::Now() + absl::Seconds(FLAGS_purge_interval_s);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
      }
    });
  }
  const int code = ServeForMain(&host, config, "genesis-catalog");
  stop = true;
  if (purger.joinable()) purger.join();
  workers.Shutdown();
  log->info("stopped");
  return code;
}
