// genesis-llm-router: flags -> validated config -> real dependencies -> server
// (the skeleton is common/runtime/service_runtime.h; this file is the service's wiring).
#include <gflags/gflags.h>

#include <random>

#include "common/runtime/service_runtime.h"
#include "services/llm_router/accounting/batched_accounting_store.h"
#include "services/llm_router/execution/redis_rate_limiter.h"
#include "services/llm_router/execution/redis_response_cache.h"
#include "services/llm_router/grpc_service.h"
#include "services/llm_router/router.h"
#include "services/llm_router/store/execution_partitions.h"
#include "services/llm_router/store/pg_store.h"

DEFINE_string(models_config, "services/llm_router/config/models.json",
              "The models and per-task policies to seed the registry with (JSON).");
DEFINE_string(simulator_url, "",
              "Base URL of genesis-llm-simulator (http://127.0.0.1:PORT); empty: simulated "
              "models stay unconfigured. Real providers use their keys from the environment "
              "(OPENAI_API_KEY, ANTHROPIC_API_KEY, GEMINI_API_KEY, DEEPSEEK_API_KEY, XAI_API_KEY) "
              "and OLLAMA_BASE_URL.");
DEFINE_int32(provider_timeout_ms, 30000,
             "Longest one call to a provider may take, in ms (also cut to the caller's deadline).");
DEFINE_int32(stream_first_byte_timeout_ms, 10000,
             "Stream: longest wait for a provider's first text (time to first token), in ms; also "
             "cut to the "
             "attempt's share of the caller's remaining deadline (remaining / models left to "
             "try), so a hung model leaves time for its fallbacks. A plain call waits its share "
             "(at most --provider_timeout_ms) for the whole answer.");
DEFINE_int32(stream_idle_timeout_ms, 10000,
             "Stream: longest gap between a provider's chunks after the first, in ms.");
DEFINE_int32(retry_max_attempts, 3, "Tries per model for retryable failures (429, 5xx).");
DEFINE_int32(retry_initial_backoff_ms, 200,
             "Interactive calls: backoff before the first retry on the same model, doubled "
             "each time (with jitter); never past the caller's deadline.");
DEFINE_int32(retry_max_backoff_ms, 2000,
             "Interactive calls: longest backoff. A Retry-After (429) is waited when it fits in "
             "the model's share of the remaining deadline, else the next model is tried.");
DEFINE_int32(settings_read_timeout_ms, 2000,
             "Longest wait for a subject's settings (sandbox mode) or budgets before a call, in "
             "ms; past it (or on a database error) the call fails UNAVAILABLE, retriable.");
DEFINE_int32(breaker_failures, 5, "Consecutive failures that open a model's circuit breaker.");
DEFINE_int32(breaker_open_s, 60, "How long an open circuit breaker stays open, in seconds.");
DEFINE_int32(default_max_tokens, 1024, "max_tokens when a request gives none.");
DEFINE_int32(response_cache_ttl_s, 3600,
             "How long an answer stays in the Redis response cache, in seconds (0: no cache).");
DEFINE_int32(refresh_interval_s, 30,
             "How often the models' tunables, running experiments and feedback posteriors are "
             "re-read from the database (other router instances change them), in seconds.");
DEFINE_uint64(thompson_seed, 0,
              "Seed of the feedback-weighted selection's random draws (0: random).");
DEFINE_int32(settings_cache_ms, 1000,
             "How long a subject's sandbox flag and a 'no budget applies' answer are reused "
             "before PostgreSQL is read again (changes through this router apply at once; "
             "through another instance within this time). 0: read on every call.");
DEFINE_string(accounting_mode, "batched",
              "How executions rows are written: 'batched' (queued, inserted by a writer thread "
              "in batches; a kill -9 loses at most the queue, normally the last "
              "--accounting_flush_ms) or 'sync' (one transaction in every call).");
DEFINE_int32(accounting_batch_rows, 500, "Batched accounting: rows per insert.");
DEFINE_int32(accounting_flush_ms, 100,
             "Batched accounting: longest time a row waits in the queue, in ms.");
DEFINE_int32(accounting_queue_rows, 20000,
             "Batched accounting: rows queued at most; beyond, a call writes its row itself.");
DEFINE_bool(record_content, false,
            "Keep prompts and answers (personal data masked) in the executions table.");
DEFINE_int32(execution_retention_days, 730,
             "Drop executions rows (and the feedback on them) older than this many days; the "
             "table is partitioned by day, so whole days go at once (0: keep every row).");

namespace genesis {
std::vector<Migration> LlmRouterMigrations();  // generated from migrations/*.sql
}

int main(int argc, char** argv) {
  using namespace genesis;
  ServiceRuntime rt({.name = "llm_router",
                     .description = "genesis-llm-router: selects and calls language models "
                                    "(genesis.llmrouter.v1).",
                     .migrations = LlmRouterMigrations,
                     .uses_redis = true,
                     // It answers calls without subject or agent, and cached
                     // settings, with no database (README, "Liveness").
                     .ready_needs_primary = false},
                    &argc, &argv);
  ConfigErrors& errors = rt.errors();
  errors.RequireNonEmpty("models_config", FLAGS_models_config);
  errors.RequireRange("provider_timeout_ms", FLAGS_provider_timeout_ms, 100, 600000);
  errors.RequireRange("stream_first_byte_timeout_ms", FLAGS_stream_first_byte_timeout_ms, 100,
                      600000);
  errors.RequireRange("stream_idle_timeout_ms", FLAGS_stream_idle_timeout_ms, 100, 600000);
  errors.RequireRange("settings_read_timeout_ms", FLAGS_settings_read_timeout_ms, 10, 60000);
  errors.RequireRange("retry_max_attempts", FLAGS_retry_max_attempts, 1, 10);
  errors.RequireRange("retry_initial_backoff_ms", FLAGS_retry_initial_backoff_ms, 1, 60000);
  errors.RequireRange("retry_max_backoff_ms", FLAGS_retry_max_backoff_ms, 1, 300000);
  errors.RequireRange("breaker_failures", FLAGS_breaker_failures, 1, 1000);
  errors.RequireRange("breaker_open_s", FLAGS_breaker_open_s, 1, 86400);
  errors.RequireRange("response_cache_ttl_s", FLAGS_response_cache_ttl_s, 0, 30 * 86400);
  errors.RequireRange("refresh_interval_s", FLAGS_refresh_interval_s, 1, 3600);
  errors.RequireRange("settings_cache_ms", FLAGS_settings_cache_ms, 0, 60000);
  errors.RequireRange("default_max_tokens", FLAGS_default_max_tokens, 1, 65536);
  errors.RequireOneOf("accounting_mode", FLAGS_accounting_mode, {"batched", "sync"});
  errors.RequireRange("accounting_batch_rows", FLAGS_accounting_batch_rows, 1, 10000);
  errors.RequireRange("accounting_flush_ms", FLAGS_accounting_flush_ms, 1, 60000);
  errors.RequireRange("accounting_queue_rows", FLAGS_accounting_queue_rows, 1, 1000000);
  errors.RequireRange("execution_retention_days", FLAGS_execution_retention_days, 0, 36500);
  if (!FLAGS_simulator_url.empty() && FLAGS_simulator_url.rfind("http://", 0) != 0) {
    errors.Add("simulator_url", "must start with http://");
  }
  auto router_config = llmrouter::LoadRouterConfig(FLAGS_models_config, FLAGS_simulator_url,
                                                   llmrouter::ProcessEnv());
  if (!router_config.ok())
    errors.Add("models_config", std::string(router_config.status().message()));
  if (auto code = rt.Init()) return *code;
  const auto& log = rt.log();
  llmrouter::RouterOptions options;
  options.default_max_tokens = FLAGS_default_max_tokens;
  options.record_content = FLAGS_record_content;
  options.executor.provider_timeout = absl::Milliseconds(FLAGS_provider_timeout_ms);
  options.executor.stream_first_byte_timeout =
      absl::Milliseconds(FLAGS_stream_first_byte_timeout_ms);
  options.executor.stream_idle_timeout = absl::Milliseconds(FLAGS_stream_idle_timeout_ms);
  options.settings_read_timeout = absl::Milliseconds(FLAGS_settings_read_timeout_ms);
  options.executor.max_attempts_per_model = FLAGS_retry_max_attempts;
  options.executor.initial_backoff = absl::Milliseconds(FLAGS_retry_initial_backoff_ms);
  options.executor.max_backoff = absl::Milliseconds(FLAGS_retry_max_backoff_ms);
  options.health.failure_threshold = FLAGS_breaker_failures;
  options.health.open_for = absl::Seconds(FLAGS_breaker_open_s);
  llmrouter::RouterDeps deps;
  deps.metrics = llmrouter::RouterMetrics::Register(&rt.registry());
  options.refresh_interval = absl::Seconds(FLAGS_refresh_interval_s);
  options.thompson_seed = FLAGS_thompson_seed;
  options.settings_cache_ttl = absl::Milliseconds(FLAGS_settings_cache_ms);
  RedisClient* redis = rt.redis();
  if (redis != nullptr) {
    deps.rate_limiter =
        std::make_unique<llmrouter::RedisRateLimiter>(redis, "llm_router:rate:", deps.metrics);
  } else {
    log->warn("provider rate limits counted per instance (--redis_url empty)");
  }
  if (redis && FLAGS_response_cache_ttl_s > 0) {
    deps.cache = std::make_unique<llmrouter::RedisResponseCache>(
        redis, absl::Seconds(FLAGS_response_cache_ttl_s), deps.metrics);
  } else {
    log->warn("response cache off (--redis_url empty or --response_cache_ttl_s=0)");
  }
  std::unique_ptr<llmrouter::RouterStore> store =
      std::make_unique<llmrouter::PgRouterStore>(&rt.pool());
  llmrouter::BatchedAccountingStore* batched = nullptr;
  if (FLAGS_accounting_mode == "batched") {
    llmrouter::BatchedAccountingOptions batch;
    batch.max_batch_rows = static_cast<size_t>(FLAGS_accounting_batch_rows);
    batch.flush_interval = absl::Milliseconds(FLAGS_accounting_flush_ms);
    batch.max_queued_rows = static_cast<size_t>(FLAGS_accounting_queue_rows);
    auto b =
        std::make_unique<llmrouter::BatchedAccountingStore>(std::move(store), batch, deps.metrics);
    batched = b.get();
    store = std::move(b);
  }
  log->info("accounting: {}", FLAGS_accounting_mode);
  auto rng = std::make_shared<std::mt19937_64>(std::random_device{}());
  auto rng_mu = std::make_shared<std::mutex>();
  llmrouter::Router router(
      std::move(*router_config), std::move(store), llmrouter::MakeProviderClients(), Clock::Real(),
      [rng, rng_mu] {
        std::lock_guard<std::mutex> lock(*rng_mu);
        return std::uniform_real_distribution<double>(0, 1)(*rng);
      },
      options, std::move(deps));
  if (auto st = router.Init(CallContext::Background(absl::Seconds(30))); !st.ok()) {
    log->critical("cannot load the model registry: {}", st.message());
    return 1;
  }

  llmrouter::LlmRouterGrpcService service(
      &router, &rt.Dispatcher("genesis.llmrouter.v1.LlmRouterService"),
      &rt.StreamDispatcher("genesis.llmrouter.v1.LlmRouterService"));
  // Readiness is the host's own (not a dependency's): the registry is loaded
  // before it starts.
  rt.AddService(&service, "genesis.llmrouter.v1.LlmRouterService");
  // The executions table's daily partitions: made ahead, dropped past the
  // retention (store/execution_partitions.h); again at once while a round
  // changed something, else once an hour. Replicas take turns.
  llmrouter::ExecutionPartitionOptions partition_options;
  partition_options.retention = absl::Hours(24) * FLAGS_execution_retention_days;
  llmrouter::ExecutionPartitions partitions(&rt.pool(), partition_options);
  rt.AddLoop("llm_router.partitions", 1, absl::Hours(1), [&]() -> absl::StatusOr<int> {
    GENESIS_ASSIGN_OR_RETURN(
        llmrouter::PartitionWork work,
        partitions.Maintain(absl::Now(), CallContext::Background(absl::Seconds(60))));
    if (work.created + work.dropped > 0) {
      log->info("executions partitions: {} created, {} dropped, {} rows moved", work.created,
                work.dropped, work.moved);
    }
    return static_cast<int>(std::min<int64_t>(work.total(), 1 << 30));
  });
  if (batched) {
    // Calls are drained: write what is queued before the pool goes away.
    rt.OnStop([batched, &log] {
      const size_t lost = batched->Close();
      if (lost > 0) log->error("{} accounting row(s) could not be written", lost);
    });
  }
  return rt.Serve();
}
