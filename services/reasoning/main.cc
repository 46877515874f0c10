// genesis-reasoning: flags -> validated config -> real dependencies -> server
// (the skeleton is common/runtime/service_runtime.h; this file is the service's wiring).
#include <gflags/gflags.h>

#include "common/runtime/service_runtime.h"
#include "services/reasoning/grpc_service.h"
#include "services/reasoning/pg_store.h"
#include "services/reasoning/reasoning.h"
#include "services/reasoning/router_suggestions.h"
#include "services/reasoning/suggestions.h"

DEFINE_string(llm_router_address, "",
              "gRPC target of genesis-llm-router (host:port, dns:///host:port: calls balanced over "
              "every address) for LLM assist (SuggestHypotheses/SuggestRatings "
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
  ServiceRuntime rt({.name = "reasoning",
                     .description = "genesis-reasoning: hypotheses, evidence, inference and "
                                    "decisions with an audit trail (genesis.reasoning.v1).",
                     .migrations = ReasoningMigrations},
                    &argc, &argv);
  ConfigErrors& errors = rt.errors();
  errors.RequireRange("max_hypotheses", FLAGS_max_hypotheses, 2, 1000);
  errors.RequireRange("max_evidence", FLAGS_max_evidence, 1, 100000);
  if (!FLAGS_llm_router_address.empty()) {
    if (auto st = reasoning::ValidateRouterAddress(FLAGS_llm_router_address); !st.ok()) {
      errors.Add("llm_router_address", std::string(st.message()));
    }
  }
  errors.RequireRange("llm_timeout_ms", FLAGS_llm_timeout_ms, 100, 600000);
  if (auto code = rt.Init()) return *code;

  reasoning::ReasoningOptions options;
  options.max_hypotheses = FLAGS_max_hypotheses;
  options.max_evidence = FLAGS_max_evidence;
  std::unique_ptr<reasoning::SuggestionClient> assist;
  if (FLAGS_llm_router_address.empty()) {
    rt.log()->warn("LLM assist is not configured (--llm_router_address is empty)");
    assist = std::make_unique<reasoning::UnconfiguredSuggestionClient>();
  } else {
    reasoning::RouterSuggestionOptions assist_options;
    assist_options.max_timeout = absl::Milliseconds(FLAGS_llm_timeout_ms);
    assist = reasoning::MakeRouterSuggestionClient(
        FLAGS_llm_router_address, MeshChannelCredentials(rt.config().server.tls), assist_options);
    rt.log()->info("LLM assist through the LLM router at {}", FLAGS_llm_router_address);
  }
  reasoning::Reasoning logic(std::make_unique<reasoning::PgReasoningStore>(&rt.pool()),
                             std::move(assist), options,
                             reasoning::ReasoningMetrics::Register(&rt.registry()));
  reasoning::ReasoningGrpcService service(&logic,
                                          &rt.Dispatcher("genesis.reasoning.v1.ReasoningService"));
  rt.AddService(&service, "genesis.reasoning.v1.ReasoningService");
  return rt.Serve();
}
