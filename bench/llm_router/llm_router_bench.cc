// llm_router_bench: what the LLM router adds to a model call.
//
// In one process: the provider simulator in instant mode (no latency), the
// router's gRPC server (the real Router, executor, libcurl clients and
// callback server), and the callers. For each load it measures
//   direct:  the router's own HTTP client calling the simulator (no router);
//   router:  Complete over gRPC on loopback, explicit model, same simulator;
// and prints p50/p99 of both and their difference ("added"). Loads: 1 caller,
// 64 callers (closed loop), and a fixed 1,000 req/s (open loop, latency from
// the scheduled send time). Then the most req/s through the router with 64
// callers, and the process's RSS before any load.
// Accounting goes to PostgreSQL with --pg_dsn (as in production), batched
// or synchronous (--accounting_mode); without it, to an in-memory store (the
// figure then excludes the database write). With PostgreSQL the executions
// rows are counted at the end against the calls answered.
#include <gflags/gflags.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <thread>

#include <grpcpp/grpcpp.h>

#include "common/rpc/rpc.h"
#include "common/rpc/stream_rpc.h"
#include "common/runtime/server.h"
#include "common/storage/migrations.h"
#include "common/storage/pg_pool.h"
#include "services/llm_router/accounting/batched_accounting_store.h"
#include "services/llm_router/grpc_service.h"
#include "services/llm_router/router.h"
#include "services/llm_router/simulator/simulator.h"
#include "services/llm_router/store/pg_store.h"
#include "services/llm_router/tests/fake_store.h"

DEFINE_int32(seconds, 5, "Duration of each measured phase.");
DEFINE_int32(workers, 8, "Router worker threads.");
DEFINE_int32(rate, 1000, "Requests per second of the fixed-rate phase.");
DEFINE_string(pg_dsn, "", "Account executions in this PostgreSQL (empty: in memory).");
DEFINE_string(accounting_mode, "batched",
              "With --pg_dsn: 'batched' (queued rows, writer thread; the router's default) or "
              "'sync' (one transaction per call).");

namespace genesis {
std::vector<Migration> LlmRouterMigrations();
}

namespace {

using namespace genesis;
using namespace genesis::llmrouter;
using Clock = std::chrono::steady_clock;

double RssMb() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  }
  return 0;
}

struct Stats {
  std::vector<double> us;
  int errors = 0;
  double seconds = 0;
  double P(double q) {
    if (us.empty()) return 0;
    std::sort(us.begin(), us.end());
    return us[std::min(us.size() - 1, static_cast<size_t>(q * us.size()))];
  }
};

// Runs `call` from `callers` threads for `seconds`; closed loop, or open
// loop at `rate` req/s in total when rate > 0.
Stats Run(int callers, int seconds, int rate, const std::function<bool()>& call) {
  std::vector<Stats> per(callers);
  std::vector<std::thread> threads;
  const auto start = Clock::now();
  const auto end = start + std::chrono::seconds(seconds);
  for (int t = 0; t < callers; ++t) {
    threads.emplace_back([&, t] {
      const auto period = rate > 0 ? std::chrono::nanoseconds(1'000'000'000LL * callers / rate)
                                   : std::chrono::nanoseconds(0);
      auto next = start + period * t / callers;
      while (true) {
        if (rate > 0) {
          std::this_thread::sleep_until(next);
        }
        const auto sent = rate > 0 ? next : Clock::now();
        if (sent >= end) break;
        const bool ok = call();
        per[t].us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - sent).count());
        if (!ok) ++per[t].errors;
        next += period;
      }
    });
  }
  for (auto& th : threads) th.join();
  Stats all;
  for (auto& s : per) {
    all.us.insert(all.us.end(), s.us.begin(), s.us.end());
    all.errors += s.errors;
  }
  all.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return all;
}

}  // namespace

int main(int argc, char** argv) {
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  InitLogging(LogFormat::kText, "warn");
  sim::SimulatorOptions sim_options;
  sim_options.instant = true;
  auto sim = sim::ProviderSimulator::Start("127.0.0.1", 0, sim_options);
  if (!sim.ok()) {
    std::fprintf(stderr, "simulator: %s\n", std::string(sim.status().message()).c_str());
    return 1;
  }
  ModelSpec model;
  model.id = "sim-bench";
  model.provider = "simulator";
  model.provider_model = "sim-bench";
  model.protocol = Protocol::kOpenAi;
  model.base_url = (*sim)->url() + "/v1";
  model.simulated = model.configured = true;
  model.locality = Locality::kLocal;
  RouterConfig config;
  config.models = {model};
  config.policies[Task::kChat] = {"sim-bench"};

  std::unique_ptr<PgPool> pool;
  std::unique_ptr<RouterStore> store;
  BatchedAccountingStore* batched = nullptr;
  if (!FLAGS_pg_dsn.empty()) {
    if (auto st = ApplyMigrations(FLAGS_pg_dsn, "llm_router", LlmRouterMigrations()); !st.ok()) {
      std::fprintf(stderr, "migrations: %s\n", std::string(st.message()).c_str());
      return 1;
    }
    PgPoolOptions po;
    po.dsn = FLAGS_pg_dsn;
    po.size = 8;
    pool = std::make_unique<PgPool>(po, nullptr);
    store = std::make_unique<PgRouterStore>(pool.get());
    if (FLAGS_accounting_mode == "batched") {
      auto b =
          std::make_unique<BatchedAccountingStore>(std::move(store), BatchedAccountingOptions{});
      batched = b.get();
      store = std::move(b);
    } else if (FLAGS_accounting_mode != "sync") {
      std::fprintf(stderr, "--accounting_mode must be batched or sync\n");
      return 1;
    }
  } else {
    store = std::make_unique<testing::FakeRouterStore>();
  }
  Router router(
      config, std::move(store), MakeProviderClients(), genesis::Clock::Real(), [] { return 0.5; },
      RouterOptions{});
  if (auto st = router.Init(CallContext::Background()); !st.ok()) {
    std::fprintf(stderr, "init: %s\n", std::string(st.message()).c_str());
    return 1;
  }
  MetricsRegistry registry;
  WorkerPool workers("llm_router", FLAGS_workers, 4096);
  const char* kService = "genesis.llmrouter.v1.LlmRouterService";
  RpcDispatcher dispatcher(kService, &workers, &registry, absl::Seconds(30), IdentityTrust{});
  ServerStreamDispatcher streams(kService, &workers, &registry, absl::Seconds(30), IdentityTrust{});
  LlmRouterGrpcService service(&router, &dispatcher, &streams);
  ServerOptions host_options;
  host_options.metrics_port = -1;
  ServiceHost host(host_options, &registry);
  host.AddService(&service, kService);
  if (auto st = host.Start(); !st.ok()) {
    std::fprintf(stderr, "server: %s\n", std::string(st.message()).c_str());
    return 1;
  }
  const double idle_rss = RssMb();
  auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(host.grpc_port()),
                                     grpc::InsecureChannelCredentials());
  auto stub = v1::LlmRouterService::NewStub(channel);
  auto client = MakeProviderClients();
  std::vector<Message> messages = {{Role::kUser, "olá, tudo bem?"}};

  auto direct = [&] {
    ProviderRequest req;
    req.model = &model;
    req.messages = &messages;
    req.max_tokens = 16;
    req.timeout = absl::Seconds(10);
    return client->Complete(req).status.ok();
  };
  v1::CompleteRequest request;
  auto* m = request.add_messages();
  m->set_role(v1::ROLE_USER);
  m->set_content("olá, tudo bem?");
  request.set_model("models/sim-bench");
  request.set_max_tokens(16);
  request.set_no_cache(true);
  auto routed = [&] {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    v1::CompleteResponse resp;
    return stub->Complete(&ctx, request, &resp).ok() && !resp.text().empty();
  };
  auto executions = [&]() -> int64_t {
    if (!pool) return 0;
    auto n = pool->ReadOnly(
        absl::Now() + absl::Seconds(10), [](pqxx::read_transaction& tx) -> absl::StatusOr<int64_t> {
          return tx.exec1("SELECT count(*) FROM llm_router.executions")[0].as<int64_t>();
        });
    return n.ok() ? *n : -1;
  };
  const int64_t rows_before = executions();
  int64_t answered = 0;
  // Warm up connections and handles.
  Run(4, 1, 0, direct);
  Stats warm = Run(4, 1, 0, routed);
  answered += static_cast<int64_t>(warm.us.size()) - warm.errors;

  std::printf("llm_router_bench: %d s per phase, %d router workers, accounting %s, %u cpus\n",
              FLAGS_seconds, FLAGS_workers,
              FLAGS_pg_dsn.empty()                 ? "in memory"
              : FLAGS_accounting_mode == "batched" ? "PostgreSQL, batched"
                                                   : "PostgreSQL, sync",
              std::thread::hardware_concurrency());
  std::printf("%-22s %10s %10s %10s %10s %10s %10s %9s %7s\n", "load", "direct p50", "p99",
              "router p50", "p99", "added p50", "added p99", "req/s", "errors");
  struct Phase {
    const char* name;
    int callers;
    int rate;
  };
  for (const Phase& p :
       {Phase{"1 caller", 1, 0}, Phase{"64 callers", 64, 0}, Phase{"fixed rate", 64, FLAGS_rate}}) {
    Stats d = Run(p.callers, FLAGS_seconds, p.rate, direct);
    Stats r = Run(p.callers, FLAGS_seconds, p.rate, routed);
    answered += static_cast<int64_t>(r.us.size()) - r.errors;
    const double dp50 = d.P(0.5), dp99 = d.P(0.99), rp50 = r.P(0.5), rp99 = r.P(0.99);
    std::string name = p.rate > 0 ? std::to_string(p.rate) + " req/s" : p.name;
    std::printf("%-22s %8.0fus %8.0fus %8.0fus %8.0fus %8.0fus %8.0fus %9.0f %7d\n", name.c_str(),
                dp50, dp99, rp50, rp99, rp50 - dp50, rp99 - dp99,
                static_cast<double>(r.us.size()) / r.seconds, r.errors + d.errors);
  }
  std::printf("idle RSS of this process (router + simulator + client): %.1f MB\n", idle_rss);
  std::printf("RSS after the load: %.1f MB\n", RssMb());
  host.Shutdown();
  workers.Shutdown();
  if (batched) {
    const absl::Time start = absl::Now();
    const size_t left = batched->pending_rows();
    const size_t lost = batched->Close();
    std::printf("close: wrote the %zu queued row(s) in %.1f ms, %zu lost\n", left,
                absl::ToDoubleMilliseconds(absl::Now() - start), lost);
  }
  if (pool) {
    std::printf("executions rows written: %lld for %lld calls answered\n",
                static_cast<long long>(executions() - rows_before),
                static_cast<long long>(answered));
  }
  return 0;
}
