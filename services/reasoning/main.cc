// genesis-reasoning: flags -> validated config -> real dependencies -> server.
#include <gflags/gflags.h>

#include "common/config.h"
#include "common/logging.h"
#include "common/migrations.h"
#include "common/rpc.h"
#include "common/server.h"
#include "common/service_config.h"
#include "services/reasoning/grpc_service.h"
#include "services/reasoning/pg_store.h"
#include "services/reasoning/reasoning.h"
#include "services/reasoning/router_suggestions.h"
#include "services/reasoning/suggestions.h"

DEFINE_string(llm_router_address, "",
              "host:port of genesis-llm-router for LLM assist (SuggestHypotheses/SuggestRatings "
              "call its Complete with task \"reasoning\"); empty: LLM assist is not configured "
              "and those RPCs answer FAILED_PRECONDITION.");
DEFINE_int32(llm_timeout_ms, 60000,
             "Longest wait for one LLM assist answer, in ms (the caller's deadline may be "
             "shorter).");
DEFINE_int32(max_hypotheses, 100, "Most hypotheses a case may have.");
DEFINE_int32(max_evidence, 10000, "Most evidence items a case may have.");

namespace genesis {
std::vector<Migration> ReasoningMigrations();  // generated from migrations/*.sql
}

int main(int argc, char** argv) {
  using namespace genesis;
  ParseFlagsWithEnv(&argc, &argv,
                    "genesis-reasoning: hypotheses, evidence, inference and decisions with an "
                    "audit trail (genesis.reasoning.v1).\n"
                    "Every flag can also be set as GENESIS_<FLAG>, e.g. GENESIS_PG_DSN.");
  ConfigErrors errors;
  ServiceConfig config = ServiceConfigFromFlags("reasoning", &errors);
  errors.RequireRange("max_hypotheses", FLAGS_max_hypotheses, 2, 1000);
  errors.RequireRange("max_evidence", FLAGS_max_evidence, 1, 100000);
  if (!FLAGS_llm_router_address.empty()) {
    if (auto st = reasoning::ValidateRouterAddress(FLAGS_llm_router_address); !st.ok()) {
      errors.Add("llm_router_address", std::string(st.message()));
    }
  }
  errors.RequireRange("llm_timeout_ms", FLAGS_llm_timeout_ms, 100, 600000);
  errors.ExitIfAny();
  InitLogging(config.log_format, config.log_level);
  auto log = Logger("reasoning");

  if (auto code = MigrateForMain(config, "reasoning", ReasoningMigrations()); code.has_value())
    return *code;
  if (!config.redis.url.empty())
    log->info("--redis_url is set but the Reasoning service uses no cache");

  MetricsRegistry registry;
  PgPool pool(config.pg, &registry);
  reasoning::ReasoningOptions options;
  options.max_hypotheses = FLAGS_max_hypotheses;
  options.max_evidence = FLAGS_max_evidence;
  std::unique_ptr<reasoning::SuggestionClient> assist;
  if (FLAGS_llm_router_address.empty()) {
    log->warn("LLM assist is not configured (--llm_router_address is empty)");
    assist = std::make_unique<reasoning::UnconfiguredSuggestionClient>();
  } else {
    reasoning::RouterSuggestionOptions assist_options;
    assist_options.max_timeout = absl::Milliseconds(FLAGS_llm_timeout_ms);
    assist = reasoning::MakeRouterSuggestionClient(FLAGS_llm_router_address, assist_options);
    log->info("LLM assist through the LLM router at {}", FLAGS_llm_router_address);
  }
  reasoning::Reasoning logic(std::make_unique<reasoning::PgReasoningStore>(&pool),
                             std::move(assist), options,
                             reasoning::ReasoningMetrics::Register(&registry));

  WorkerPool workers("reasoning", config.worker_threads, config.max_queued_calls);
  RpcDispatcher dispatcher("genesis.reasoning.v1.ReasoningService", &workers, &registry,
                           config.max_call_deadline);
  reasoning::ReasoningGrpcService service(&logic, &dispatcher);

  ServiceHost host(config.server, &registry);
  host.AddService(&service, "genesis.reasoning.v1.ReasoningService");
  // Neither a database outage nor a Redis one makes the service unready
  // (common/server.h): they are probed for genesis_dependency_up only.
  host.AddDependencyProbe(
      "postgres", [&logic] { return logic.Ready(CallContext::Background(absl::Seconds(2))); });
  host.WatchWorkers(&workers, config.liveness_stall);
  const int code = ServeForMain(&host, config, "genesis-reasoning");
  workers.Shutdown();
  log->info("stopped");
  return code;
}
