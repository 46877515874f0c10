// PgRouterStore on real PostgreSQL (label `pg`), through the Router and the
// in-process provider simulator: the registry seeded from the configuration
// (new models inserted, connection fields refreshed, admin tunables kept
// across restarts), UpdateModel round trips, the accounting rows and the
// retry queue. Each test gets a fresh database.
#include "services/llm_router/store/pg_store.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "common/storage/migrations.h"
#include "services/llm_router/router.h"
#include "services/llm_router/selection/pii.h"
#include "services/llm_router/simulator/simulator.h"
#include "services/llm_router/tests/pg_fixture.h"
#include "services/llm_router/tests/test_util.h"

namespace genesis::llmrouter {
namespace {

class PgRouterStoreTest : public RouterPgTest {
 protected:
  void SetUp() override {
    if (!SetUpRouterDatabase()) return;
    ctx_ = CallContext::Background();
    ctx_.request_id = "req-pg-1";
  }

  RouterConfig Config() const {
    RouterConfig config;
    config.models = {testing::SimModel("cloud-a", Protocol::kAnthropic, sim_->url()),
                     testing::SimModel("cloud-b", Protocol::kGemini, sim_->url()),
                     testing::SimModel("local", Protocol::kOpenAi, sim_->url(), Locality::kLocal)};
    config.policies[Task::kChat] = {"cloud-a", "cloud-b", "local"};
    return config;
  }
  // A router on the test database, as a fresh process would build it.
  std::unique_ptr<Router> StartRouter(RouterConfig config, bool record_content = false) {
    RouterOptions options;
    options.executor.max_attempts_per_model = 1;
    options.record_content = record_content;
    auto router = std::make_unique<Router>(
        std::move(config), std::make_unique<PgRouterStore>(pool_.get()), MakeProviderClients(),
        Clock::Real(), [] { return 0.0; }, options);
    auto st = router->Init(CallContext::Background());
    EXPECT_TRUE(st.ok()) << st;
    return router;
  }
  static CompletionRequest Ask(const std::string& text) {
    CompletionRequest r;
    r.messages = {{Role::kUser, text}};
    r.task = Task::kChat;
    r.subject = "user-7";
    r.agent = "sdr";
    return r;
  }
  pqxx::result Query(const std::string& sql) {
    pqxx::connection conn(db_->dsn());
    pqxx::work tx(conn);
    return tx.exec(sql);
  }
  static const ModelSpec* Find(const std::vector<ModelSpec>& models, const std::string& id) {
    for (const auto& m : models) {
      if (m.id == id) return &m;
    }
    return nullptr;
  }

  CallContext ctx_;
};

TEST_F(PgRouterStoreTest, SeedingInsertsRefreshesConnectionAndKeepsTunablesAcrossRestarts) {
  auto router = StartRouter(Config());
  PgRouterStore store(pool_.get());
  auto stored = store.LoadModels(ctx_);
  ASSERT_TRUE(stored.ok()) << stored.status();
  ASSERT_EQ(stored->size(), 3u);
  const ModelSpec* a = Find(*stored, "cloud-a");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->protocol, Protocol::kAnthropic);
  EXPECT_EQ(a->base_url, sim_->url() + "/v1");
  EXPECT_EQ(a->locality, Locality::kCloud);
  EXPECT_TRUE(a->simulated);
  EXPECT_DOUBLE_EQ(a->input_price_per_mtok, 1);
  EXPECT_EQ(Find(*stored, "local")->locality, Locality::kLocal);

  // An admin changes tunables.
  ModelSpec values;
  values.enabled = false;
  values.input_price_per_mtok = 7.5;
  values.quality = 90;
  values.capabilities = kCapChat | kCapJson;
  auto updated =
      router->UpdateModel("models/cloud-a", values,
                          {"enabled", "input_price_per_mtok", "quality", "capabilities"}, ctx_);
  ASSERT_TRUE(updated.ok()) << updated.status();

  // A restart with a configuration that moved cloud-a, changed its seed
  // prices and added a model.
  RouterConfig next = Config();
  next.models[0].base_url = "http://127.0.0.1:1/v1";
  next.models[0].provider_model = "claude-next";
  next.models[0].protocol = Protocol::kOpenAi;
  next.models[0].input_price_per_mtok = 3;
  next.models[0].quality = 10;
  next.models.push_back(testing::SimModel("cloud-new", Protocol::kGemini, sim_->url()));
  router = StartRouter(next);

  stored = store.LoadModels(ctx_);
  ASSERT_TRUE(stored.ok()) << stored.status();
  ASSERT_EQ(stored->size(), 4u);
  a = Find(*stored, "cloud-a");
  EXPECT_EQ(a->base_url, "http://127.0.0.1:1/v1");  // connection: the configuration's
  EXPECT_EQ(a->provider_model, "claude-next");
  EXPECT_EQ(a->protocol, Protocol::kOpenAi);
  EXPECT_FALSE(a->enabled);  // tunables: the admin's
  EXPECT_DOUBLE_EQ(a->input_price_per_mtok, 7.5);
  EXPECT_EQ(a->quality, 90);
  EXPECT_EQ(a->capabilities, kCapChat | kCapJson);
  ASSERT_NE(Find(*stored, "cloud-new"), nullptr);
  EXPECT_EQ(Find(*stored, "cloud-new")->protocol, Protocol::kGemini);

  // The restarted router serves the merged view.
  auto m = router->GetModel("models/cloud-a");
  ASSERT_TRUE(m.ok());
  EXPECT_FALSE(m->enabled);
  EXPECT_EQ(m->quality, 90);
  EXPECT_EQ(m->base_url, "http://127.0.0.1:1/v1");
  EXPECT_TRUE(m->configured);  // keys and configured come from the configuration
}

TEST_F(PgRouterStoreTest, UpdateModelRoundTrips) {
  auto router = StartRouter(Config());
  ModelSpec values;
  values.output_price_per_mtok = 12.25;
  values.context_window = 32000;
  values.capabilities = kCapChat | kCapTools | kCapVision | kCapLongContext;
  auto updated = router->UpdateModel(
      "cloud-b", values, {"output_price_per_mtok", "context_window", "capabilities"}, ctx_);
  ASSERT_TRUE(updated.ok()) << updated.status();

  PgRouterStore store(pool_.get());
  auto stored = store.LoadModels(ctx_);
  ASSERT_TRUE(stored.ok());
  const ModelSpec* b = Find(*stored, "cloud-b");
  ASSERT_NE(b, nullptr);
  EXPECT_DOUBLE_EQ(b->output_price_per_mtok, 12.25);
  EXPECT_DOUBLE_EQ(b->input_price_per_mtok, 1);  // not in the mask
  EXPECT_EQ(b->context_window, 32000);
  EXPECT_EQ(b->capabilities, kCapChat | kCapTools | kCapVision | kCapLongContext);
  EXPECT_TRUE(b->enabled);
  auto caps = Query("SELECT capabilities::text FROM llm_router.models WHERE id = 'cloud-b'");
  EXPECT_EQ(caps[0][0].as<std::string>(), "{chat,tools,vision,long_context}");

  ModelSpec ghost = *b;
  ghost.id = "ghost";
  EXPECT_EQ(store.SaveTunables(ghost, ctx_).code(), absl::StatusCode::kNotFound);
}

TEST_F(PgRouterStoreTest, AccountsEveryExecutionWithoutContentByDefault) {
  auto router = StartRouter(Config());
  auto c = router->Complete(Ask("um dois três"), ctx_);
  ASSERT_TRUE(c.ok()) << c.status();
  auto rows = Query(
      "SELECT request_id, subject, agent, task, model_id, provider, input_tokens, output_tokens, "
      "cost_usd, latency_ms, attempts, outcome, error, sensitive, streamed, simulated, "
      "prompt IS NULL, response IS NULL FROM llm_router.executions");
  ASSERT_EQ(rows.size(), 1u);
  const auto& r = rows[0];
  EXPECT_EQ(r[0].as<std::string>(), "req-pg-1");
  EXPECT_EQ(r[1].as<std::string>(), "user-7");
  EXPECT_EQ(r[2].as<std::string>(), "sdr");
  EXPECT_EQ(r[3].as<std::string>(), "chat");
  EXPECT_EQ(r[4].as<std::string>(), "cloud-a");
  EXPECT_EQ(r[5].as<std::string>(), "simulator");
  EXPECT_EQ(r[6].as<int64_t>(), c->usage.input_tokens);
  EXPECT_EQ(r[7].as<int64_t>(), c->usage.output_tokens);
  EXPECT_EQ(r[7].as<int64_t>(), 4);  // "echo:" and three words
  EXPECT_DOUBLE_EQ(r[8].as<double>(), c->cost_usd);
  EXPECT_GT(r[8].as<double>(), 0);
  EXPECT_GT(r[9].as<double>(), 0);
  EXPECT_NEAR(r[9].as<double>(), absl::ToDoubleMilliseconds(c->latency), 0.01);
  EXPECT_EQ(r[10].as<int>(), 1);
  EXPECT_EQ(r[11].as<std::string>(), "ok");
  EXPECT_EQ(r[12].as<std::string>(), "");
  EXPECT_FALSE(r[13].as<bool>());
  EXPECT_FALSE(r[14].as<bool>());
  EXPECT_TRUE(r[15].as<bool>());
  EXPECT_TRUE(r[16].as<bool>());  // no prompt kept
  EXPECT_TRUE(r[17].as<bool>());  // no answer kept

  // A stream is accounted too, marked as such.
  std::string text;
  auto s = router->StreamComplete(
      Ask("quatro cinco"),
      [&](std::string_view t) {
        text.append(t);
        return true;
      },
      ctx_);
  ASSERT_TRUE(s.ok()) << s.status();
  auto streamed =
      Query("SELECT streamed, output_tokens FROM llm_router.executions WHERE streamed ORDER BY id");
  ASSERT_EQ(streamed.size(), 1u);
  EXPECT_EQ(streamed[0][1].as<int64_t>(), 3);
}

TEST_F(PgRouterStoreTest, RecordsContentOnlyWhenAskedAndMasksPersonalData) {
  auto router = StartRouter(Config(), /*record_content=*/true);
  const std::string cpf = "529.982.247-25";
  auto c = router->Complete(Ask("meu cpf é " + cpf + ", me ligue"), ctx_);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->model_id, "local");  // P0: personal data stays local
  auto rows =
      Query("SELECT prompt, response, sensitive, model_id, attempts FROM llm_router.executions");
  ASSERT_EQ(rows.size(), 1u);
  const std::string prompt = rows[0][0].as<std::string>();
  const std::string response = rows[0][1].as<std::string>();
  EXPECT_EQ(prompt.find(cpf), std::string::npos) << prompt;
  EXPECT_EQ(response.find(cpf), std::string::npos) << response;
  EXPECT_NE(prompt.find("[cpf]"), std::string::npos) << prompt;
  EXPECT_NE(prompt.find("me ligue"), std::string::npos) << prompt;
  EXPECT_NE(response.find("[cpf]"), std::string::npos) << response;
  EXPECT_TRUE(rows[0][2].as<bool>());
  EXPECT_EQ(rows[0][3].as<std::string>(), "local");
}

// A model's answer may carry "\u0000" and an error body a cut character: the execution row is
// still written, on both the per-call and the batched (COPY) path, with U+FFFD in their place
// (a NUL used to end the prompt silently or fail the whole batch, losing its accounting).
TEST_F(PgRouterStoreTest, ContentWithNulOrInvalidUtf8IsAccountedWithReplacement) {
  if (!pool_) GTEST_SKIP();
  PgRouterStore store(pool_.get());
  ExecutionRecord e;
  e.request_id = "nul-1";
  e.subject = "user-7";
  e.outcome = "ok";
  e.usage.input_tokens = 3;
  e.prompt = std::string("a\0b", 3);
  e.response = "x\xffy";
  e.error = "cut \xc3";
  auto one = store.RecordExecution(e, ctx_);
  ASSERT_TRUE(one.ok()) << one.status();
  auto ids = store.ReserveExecutionIds(1, ctx_);
  ASSERT_TRUE(ids.ok()) << ids.status();
  ExecutionRecord batched = e;
  batched.id = (*ids)[0];
  batched.request_id = "nul-2";
  batched.time = absl::Now();
  auto many = store.RecordExecutions({batched}, ctx_);
  ASSERT_TRUE(many.ok()) << many.status();
  auto rows = Query(
      "SELECT prompt, response, error FROM llm_router.executions "
      "WHERE request_id IN ('nul-1', 'nul-2') ORDER BY request_id");
  ASSERT_EQ(rows.size(), 2u);
  for (const auto& row : rows) {
    EXPECT_EQ(row[0].as<std::string>(),
              "a\xef\xbf\xbd"
              "b");
    EXPECT_EQ(row[1].as<std::string>(), "x\xef\xbf\xbdy");
    EXPECT_EQ(row[2].as<std::string>(), "cut \xef\xbf\xbd");
  }
}

TEST_F(PgRouterStoreTest, TotalFailureIsAccountedAndQueuedForRetry) {
  auto router = StartRouter(Config());
  sim::ModelScript down;
  down.fail_status = 503;
  for (const char* m : {"cloud-a", "cloud-b", "local"}) sim_->Script(m, down);
  auto c = router->Complete(Ask("alguém aí?"), ctx_);
  ASSERT_EQ(c.status().code(), absl::StatusCode::kUnavailable) << c.status();

  auto ex = Query(
      "SELECT outcome, attempts, model_id IS NULL, provider IS NULL, output_tokens, cost_usd, "
      "error FROM llm_router.executions");
  ASSERT_EQ(ex.size(), 1u);
  EXPECT_EQ(ex[0][0].as<std::string>(), "failed");
  EXPECT_EQ(ex[0][1].as<int>(), 3);
  EXPECT_TRUE(ex[0][2].as<bool>());
  EXPECT_TRUE(ex[0][3].as<bool>());
  EXPECT_EQ(ex[0][4].as<int64_t>(), 0);
  EXPECT_DOUBLE_EQ(ex[0][5].as<double>(), 0);
  EXPECT_NE(ex[0][6].as<std::string>().find("every model failed"), std::string::npos);

  auto q = Query(
      "SELECT request_id, subject, agent, task, request::text, attempts::text, error, state "
      "FROM llm_router.retry_queue");
  ASSERT_EQ(q.size(), 1u);
  EXPECT_EQ(q[0][0].as<std::string>(), "req-pg-1");
  EXPECT_EQ(q[0][1].as<std::string>(), "user-7");
  EXPECT_EQ(q[0][2].as<std::string>(), "sdr");
  EXPECT_EQ(q[0][3].as<std::string>(), "chat");
  auto request = nlohmann::json::parse(q[0][4].as<std::string>());
  EXPECT_EQ(request["messages"][0]["content"], "alguém aí?");
  auto attempts = nlohmann::json::parse(q[0][5].as<std::string>());
  ASSERT_EQ(attempts.size(), 3u);
  EXPECT_EQ(attempts[0]["model"], "cloud-a");
  EXPECT_EQ(attempts[0]["http_status"], 503);
  EXPECT_NE(q[0][6].as<std::string>().find("every model failed"), std::string::npos);
  EXPECT_EQ(q[0][7].as<std::string>(), "pending");
}

TEST_F(PgRouterStoreTest, RefusedRequestsAreAccountedAsRejected) {
  auto router = StartRouter(Config());
  ModelSpec off;
  off.enabled = false;
  ASSERT_TRUE(router->UpdateModel("local", off, {"enabled"}, ctx_).ok());
  CompletionRequest r = Ask("segredo");
  r.sensitive = true;  // P0 with the only local model disabled
  auto c = router->Complete(r, ctx_);
  ASSERT_EQ(c.status().code(), absl::StatusCode::kFailedPrecondition) << c.status();
  auto rows = Query("SELECT outcome, attempts, sensitive FROM llm_router.executions");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][0].as<std::string>(), "rejected");
  EXPECT_EQ(rows[0][1].as<int>(), 0);
  EXPECT_TRUE(rows[0][2].as<bool>());
  EXPECT_EQ(Query("SELECT count(*) FROM llm_router.retry_queue")[0][0].as<int>(), 0);
}

}  // namespace
}  // namespace genesis::llmrouter
