// reasoning_bench: builds a case of H hypotheses x E evidence items (default
// 20 x 1,000) in PostgreSQL through the Reasoning logic, then measures
// InferCase with the case loaded from PostgreSQL on every call:
//   load   PgReasoningStore::GetCase alone;
//   math   Infer(InferenceInputOf(case)) alone, on the loaded case;
//   logic  Reasoning::InferCase = load + math (the target);
//   grpc   InferCase through an in-process gRPC server (the real transport,
//          RpcDispatcher and proto conversion) and a blocking client.
// One caller, calls back to back; the client, the service and PostgreSQL share
// the machine. See bench/README.md ("Reasoning") for figures and commands.
#include <gflags/gflags.h>
#include <grpcpp/grpcpp.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/base/status.h"
#include "common/rpc/call_context.h"
#include "common/runtime/config.h"
#include "common/runtime/server.h"
#include "common/storage/migrations.h"
#include "common/storage/pg_pool.h"
#include "services/reasoning/events.h"
#include "services/reasoning/grpc_service.h"
#include "services/reasoning/pg_store.h"
#include "services/reasoning/reasoning.h"

// --pg_dsn is the shared service flag (common/runtime/service_config.cc).
DECLARE_string(pg_dsn);
DEFINE_int32(hypotheses, 20, "Hypotheses in the benchmark case.");
DEFINE_int32(evidence, 1000, "Evidence items in the benchmark case (each rates every hypothesis).");
DEFINE_int32(iterations, 1000, "Measured calls per scenario.");
DEFINE_int32(warmup, 50, "Unmeasured calls before each scenario.");
DEFINE_uint64(seed, 20261124, "Seed of the generated ratings.");

namespace genesis {
std::vector<Migration> ReasoningMigrations();
}

namespace {

using namespace genesis;
using namespace genesis::reasoning;
using SteadyClock = std::chrono::steady_clock;

struct Stats {
  double p50, p95, p99, max, mean;
};

Stats Summarise(std::vector<double> ms) {
  std::sort(ms.begin(), ms.end());
  auto at = [&](double q) {
    return ms[std::min(ms.size() - 1, static_cast<size_t>(q * static_cast<double>(ms.size())))];
  };
  double sum = 0;
  for (double v : ms) sum += v;
  return {at(0.50), at(0.95), at(0.99), ms.back(), sum / static_cast<double>(ms.size())};
}

// Runs `fn` warmup + iterations times; exits on the first error.
template <typename Fn>
Stats Measure(const char* name, Fn fn) {
  std::vector<double> ms;
  for (int i = 0; i < FLAGS_warmup + FLAGS_iterations; ++i) {
    const auto start = SteadyClock::now();
    absl::Status st = fn();
    const double elapsed =
        std::chrono::duration<double, std::milli>(SteadyClock::now() - start).count();
    if (!st.ok()) {
      std::fprintf(stderr, "%s failed: %s\n", name, st.ToString().c_str());
      std::exit(1);
    }
    if (i >= FLAGS_warmup) ms.push_back(elapsed);
  }
  Stats s = Summarise(ms);
  std::printf("%-6s %8d %8.3f %8.3f %8.3f %8.3f %8.3f\n", name, FLAGS_iterations, s.p50, s.p95,
              s.p99, s.max, s.mean);
  return s;
}

// A case whose first hypothesis is mildly favoured: every item rates every
// hypothesis, half with likelihoods and half with ACH ratings, reliability
// 0.5-1 (likelihoods with two decimals), so the discount and the sensitivity check both do real
// work.
absl::StatusOr<std::string> BuildCase(Reasoning* logic, const CallContext& ctx) {
  Case c;
  c.question = "Which of the candidate causes explains the outage?";
  c.owner = "bench";
  GENESIS_ASSIGN_OR_RETURN(Case created, logic->CreateCase(c, ctx));
  const std::string name = CaseName(created.id);
  for (int h = 0; h < FLAGS_hypotheses; ++h) {
    Hypothesis hyp;
    hyp.statement = absl::StrCat("Candidate cause number ", h + 1);
    hyp.prior = 1.0 + (h % 3);
    GENESIS_RETURN_IF_ERROR(logic->CreateHypothesis(name, hyp, "", ctx).status());
  }
  std::mt19937_64 rng(FLAGS_seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  const AchRating ach[] = {AchRating::kConsistentStrong, AchRating::kConsistentWeak,
                           AchRating::kNeutral, AchRating::kInconsistentWeak,
                           AchRating::kInconsistentStrong};
  for (int e = 0; e < FLAGS_evidence; ++e) {
    Evidence ev;
    ev.description = absl::StrCat("Observation ", e + 1, " from the incident timeline");
    ev.source = absl::StrCat("https://incidents.example.com/2026/obs/", e + 1);
    ev.reliability = 0.5 + 0.5 * u(rng);
    for (int h = 0; h < FLAGS_hypotheses; ++h) {
      Rating r;
      r.hypothesis_id = absl::StrCat("h", h + 1);
      if (e % 2 == 0) {
        // Two decimals, as people enter them ("0.65").
        r.likelihood =
            std::round(std::min(1.0, 0.3 + 0.4 * u(rng) + (h == 0 ? 0.02 : 0.0)) * 100) / 100;
      } else {
        r.ach = ach[static_cast<size_t>(u(rng) * 5) % 5];
      }
      ev.ratings.push_back(std::move(r));
    }
    GENESIS_RETURN_IF_ERROR(logic->CreateEvidence(name, ev, "", ctx).status());
  }
  return name;
}

}  // namespace

int main(int argc, char** argv) {
  ParseFlagsWithEnv(&argc, &argv,
                    "reasoning_bench: InferCase latency on a 20 x 1,000 case loaded from "
                    "PostgreSQL. Needs --pg_dsn (or GENESIS_PG_DSN).");
  ConfigErrors errors;
  errors.RequireNonEmpty("pg_dsn", FLAGS_pg_dsn);
  errors.RequireRange("hypotheses", FLAGS_hypotheses, 1, 1000);
  errors.RequireRange("evidence", FLAGS_evidence, 0, 100000);
  errors.RequireRange("iterations", FLAGS_iterations, 1, 10000000);
  errors.ExitIfAny();
  spdlog::set_level(spdlog::level::warn);

  if (auto st = ApplyMigrations(FLAGS_pg_dsn, "reasoning", ReasoningMigrations()); !st.ok()) {
    std::fprintf(stderr, "migrations: %s\n", st.ToString().c_str());
    return 1;
  }
  PgPoolOptions pg;
  pg.dsn = FLAGS_pg_dsn;
  pg.size = 4;
  pg.name = "reasoning";
  MetricsRegistry registry;
  PgPool pool(pg, &registry);
  ReasoningOptions options;
  options.max_hypotheses = std::max(100, FLAGS_hypotheses);
  options.max_evidence = std::max(10000, FLAGS_evidence);
  Reasoning logic(std::make_unique<PgReasoningStore>(&pool), nullptr, options);
  PgReasoningStore store(&pool);
  const CallContext ctx = CallContext::Background(absl::Minutes(30));

  const auto load_start = SteadyClock::now();
  auto name = BuildCase(&logic, ctx);
  if (!name.ok()) {
    std::fprintf(stderr, "building the case: %s\n", name.status().ToString().c_str());
    return 1;
  }
  const double load_s = std::chrono::duration<double>(SteadyClock::now() - load_start).count();
  const std::string id = *ParseCaseName(*name);
  auto loaded = store.GetCase(id, ctx);
  auto first = logic.InferCase(*name, std::nullopt, ctx);
  if (!loaded.ok() || !first.ok()) {
    std::fprintf(stderr, "first inference failed\n");
    return 1;
  }

  std::printf("Reasoning benchmark: %d hypotheses x %d evidence items (%zu ratings), one caller\n",
              FLAGS_hypotheses, FLAGS_evidence,
              static_cast<size_t>(FLAGS_hypotheses) * static_cast<size_t>(FLAGS_evidence));
  std::printf("Case %s built through the logic in %.1f s (%d CreateEvidence calls)\n",
              name->c_str(), load_s, FLAGS_evidence);
  std::printf(
      "Result: leading %s (posterior %.4f), pivotal evidence: %s\n",
      first->state.hypotheses[first->result.leading].id.c_str(),
      first->result.posterior[first->result.leading],
      first->result.pivotal ? first->state.evidence[*first->result.pivotal].id.c_str() : "none");
  std::printf("\n%-6s %8s %8s %8s %8s %8s %8s   (milliseconds)\n", "what", "calls", "p50", "p95",
              "p99", "max", "mean");

  Measure("load", [&] { return store.GetCase(id, ctx).status(); });
  Measure("math", [&] { return Infer(InferenceInputOf(*loaded)).status(); });
  Stats logic_stats =
      Measure("logic", [&] { return logic.InferCase(*name, std::nullopt, ctx).status(); });

  WorkerPool workers("reasoning", 4, 64);
  RpcDispatcher dispatcher("genesis.reasoning.v1.ReasoningService", &workers, &registry,
                           absl::Seconds(30), IdentityTrust{});
  ReasoningGrpcService service(&logic, &dispatcher);
  ServerOptions server_options;
  server_options.metrics_port = -1;
  ServiceHost host(server_options, &registry);
  host.AddService(&service, "genesis.reasoning.v1.ReasoningService");
  if (auto st = host.Start(); !st.ok()) {
    std::fprintf(stderr, "server: %s\n", st.ToString().c_str());
    return 1;
  }
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 << 20);
  auto stub = v1::ReasoningService::NewStub(grpc::CreateCustomChannel(
      absl::StrCat("127.0.0.1:", host.grpc_port()), grpc::InsecureChannelCredentials(), args));
  v1::InferCaseRequest req;
  req.set_name(*name);
  size_t response_bytes = 0;
  Stats grpc_stats = Measure("grpc", [&] {
    grpc::ClientContext call;
    call.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    v1::Inference resp;
    grpc::Status st = stub->InferCase(&call, req, &resp);
    response_bytes = resp.ByteSizeLong();
    return st.ok()
               ? absl::OkStatus()
               : absl::Status(static_cast<absl::StatusCode>(st.error_code()), st.error_message());
  });
  host.Shutdown();
  workers.Shutdown();

  std::printf("\nInferCase response: %zu bytes\n", response_bytes);
  std::printf("Target: InferCase p95 <= 5 ms, loading included\n");
  std::printf("  %s  logic (load + math)            p95 %.3f ms\n",
              logic_stats.p95 <= 5.0 ? "PASS" : "MISS", logic_stats.p95);
  std::printf("  %s  grpc (load + math + transport) p95 %.3f ms\n",
              grpc_stats.p95 <= 5.0 ? "PASS" : "MISS", grpc_stats.p95);
  return 0;
}
