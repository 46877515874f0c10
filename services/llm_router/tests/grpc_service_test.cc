// The transport end to end in-process: a real gRPC server on a free port,
// the real router on the fake store and the in-process provider simulator.
// Covers StreamComplete over gRPC (chunks, the summary, fallback before the
// first token, a client that goes away) and a unary call for comparison.
#include "services/llm_router/grpc_service.h"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "common/base/status.h"
#include "common/runtime/server.h"
#include "services/llm_router/simulator/simulator.h"
#include "services/llm_router/tests/fake_store.h"
#include "services/llm_router/tests/test_util.h"
#include "tests/testing/operator_identity.h"
#include "tests/testing/required_fields.h"

namespace genesis::llmrouter {
namespace {

constexpr char kService[] = "genesis.llmrouter.v1.LlmRouterService";

bool Eventually(const std::function<bool()>& done, absl::Duration timeout = absl::Seconds(5)) {
  const absl::Time end = absl::Now() + timeout;
  while (absl::Now() < end) {
    if (done()) return true;
    absl::SleepFor(absl::Milliseconds(5));
  }
  return done();
}

class LlmRouterGrpcTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = sim::ProviderSimulator::Start("127.0.0.1", 0);
    ASSERT_TRUE(s.ok()) << s.status();
    sim_ = std::move(*s);
    RouterConfig config;
    config.models = {testing::SimModel("cloud-a", Protocol::kAnthropic, sim_->url()),
                     testing::SimModel("cloud-b", Protocol::kOpenAi, sim_->url())};
    config.policies[Task::kChat] = {"cloud-a", "cloud-b"};
    auto store = std::make_unique<testing::FakeRouterStore>();
    store_ = store.get();
    RouterOptions options;
    options.executor.max_attempts_per_model = 1;
    router_ = std::make_unique<Router>(
        std::move(config), std::move(store), MakeProviderClients(), &clock_, [] { return 0.0; },
        options);
    ASSERT_TRUE(router_->Init(CallContext::Background()).ok());

    workers_ = std::make_unique<WorkerPool>("test", 4, 64);
    dispatcher_ =
        std::make_unique<RpcDispatcher>(kService, workers_.get(), &registry_, absl::Seconds(30),
                                        genesis::testing::TestGatewayTrust());
    streams_ = std::make_unique<ServerStreamDispatcher>(kService, workers_.get(), &registry_,
                                                        absl::Seconds(30),
                                                        genesis::testing::TestGatewayTrust());
    service_ =
        std::make_unique<LlmRouterGrpcService>(router_.get(), dispatcher_.get(), streams_.get());
    ServerOptions options_host;
    options_host.metrics_port = -1;
    options_host.shutdown_grace = absl::Seconds(2);
    host_ = std::make_unique<ServiceHost>(options_host, &registry_);
    host_->AddService(service_.get(), kService);
    ASSERT_TRUE(host_->Start().ok());
    stub_ = v1::LlmRouterService::NewStub(grpc::CreateChannel(
        "127.0.0.1:" + std::to_string(host_->grpc_port()), grpc::InsecureChannelCredentials()));
  }
  void TearDown() override {
    host_->Shutdown();
    workers_->Shutdown();
  }

  static v1::StreamCompleteRequest Ask(const std::string& text, int max_tokens = 0) {
    v1::StreamCompleteRequest req;
    auto* m = req.add_messages();
    m->set_role(v1::ROLE_USER);
    m->set_content(text);
    req.set_task(v1::TASK_CHAT);
    req.set_max_tokens(max_tokens);
    req.set_subject("user-7");
    return req;
  }

  struct Streamed {
    std::vector<std::string> chunks;  // text messages
    std::vector<v1::CompleteResponse> summaries;
    grpc::Status status;
  };
  Streamed Stream(const v1::StreamCompleteRequest& req, grpc::ClientContext* ctx) {
    Streamed out;
    auto reader = stub_->StreamComplete(ctx, req);
    v1::StreamCompleteResponse r;
    while (reader->Read(&r)) {
      if (r.has_summary()) {
        EXPECT_TRUE(r.text().empty());
        out.summaries.push_back(r.summary());
      } else {
        EXPECT_TRUE(out.summaries.empty()) << "text after the summary";
        out.chunks.push_back(r.text());
      }
    }
    out.status = reader->Finish();
    return out;
  }
  double Handled(const std::string& code) {
    return registry_
        .AddCounter("genesis_grpc_server_handled_total", "",
                    {"grpc_service", "grpc_method", "grpc_code"})
        .WithLabels({kService, "StreamComplete", code})
        .Value();
  }

  std::unique_ptr<sim::ProviderSimulator> sim_;
  testing::FakeRouterStore* store_;
  ManualClock clock_;
  std::unique_ptr<Router> router_;
  MetricsRegistry registry_;
  std::unique_ptr<WorkerPool> workers_;
  std::unique_ptr<RpcDispatcher> dispatcher_;
  std::unique_ptr<ServerStreamDispatcher> streams_;
  std::unique_ptr<LlmRouterGrpcService> service_;
  std::unique_ptr<ServiceHost> host_;
  std::unique_ptr<v1::LlmRouterService::Stub> stub_;
};

// Every REQUIRED field of every method (from the descriptors) is refused when
// empty, naming its path; OUTPUT_ONLY fields in creates and updates are not.
TEST_F(LlmRouterGrpcTest, FieldBehavioursAgreeWithWhatTheServiceRefuses) {
  auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(host_->grpc_port()),
                                     grpc::InsecureChannelCredentials());
  // Tool calls belong to an assistant message of a conversation that
  // declares its tools and has a user message: the filled requests of the
  // completion methods are made such a conversation, so that a missing field
  // of a tool call is refused for that field alone.
  auto prepare = [](const google::protobuf::MethodDescriptor* method,
                    google::protobuf::Message* m) {
    v1::CompleteRequest* complete = nullptr;
    if (auto* r = dynamic_cast<v1::CompleteRequest*>(m)) complete = r;
    if (auto* r = dynamic_cast<v1::SelectRequest*>(m)) complete = r->mutable_request();
    auto shape = [](auto* r) {
      if (r->messages_size() == 0) return;
      r->mutable_messages(0)->set_role(v1::ROLE_ASSISTANT);
      auto* user = r->add_messages();
      user->set_role(v1::ROLE_USER);
      user->set_content("hello");
      r->add_tools()->set_name("x");
    };
    if (complete) shape(complete);
    if (auto* r = dynamic_cast<v1::StreamCompleteRequest*>(m)) shape(r);
  };
  auto seen = genesis::testing::ExpectRequiredFieldsRefused(
      channel, "genesis.llmrouter.v1.LlmRouterService", prepare);
  for (const char* want :
       {"CompleteRequest:messages", "CompleteRequest:messages[0].content",
        "StreamCompleteRequest:messages[0].role", "CompleteRequest:messages[0].tool_calls[0].id",
        "StreamCompleteRequest:tools[0].name", "SetBudgetRequest:budget.owner",
        "GetUsageReportRequest:start_time", "CreateExperimentRequest:experiment.task"}) {
    EXPECT_TRUE(seen.count(want)) << want;
  }
}

TEST_F(LlmRouterGrpcTest, StreamsChunksThenTheSummary) {
  grpc::ClientContext ctx;
  ctx.AddMetadata("x-request-id", "stream-1");
  Streamed s = Stream(Ask("one two three four five"), &ctx);
  ASSERT_TRUE(s.status.ok()) << s.status.error_message();
  EXPECT_GE(s.chunks.size(), 2u);  // really streamed, not one message
  std::string text;
  for (const auto& c : s.chunks) text += c;
  EXPECT_EQ(text, "echo: one two three four five");
  ASSERT_EQ(s.summaries.size(), 1u);
  const auto& sum = s.summaries[0];
  EXPECT_TRUE(sum.text().empty());  // the caller has it already
  EXPECT_EQ(sum.model(), "models/cloud-a");
  EXPECT_EQ(sum.usage().output_tokens(), 6);  // the simulator counts the words
  EXPECT_GT(sum.usage().input_tokens(), 0);
  EXPECT_GT(sum.cost_usd(), 0);
  EXPECT_TRUE(sum.simulated());
  ASSERT_EQ(sum.attempts_size(), 1);
  EXPECT_EQ(sum.attempts(0).outcome(), v1::ATTEMPT_OUTCOME_OK);

  auto rows = store_->executions();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].request_id, "stream-1");
  EXPECT_TRUE(rows[0].streamed);
  EXPECT_EQ(rows[0].outcome, "ok");
  EXPECT_EQ(rows[0].usage.output_tokens, 6);
  EXPECT_TRUE(Eventually([&] { return Handled("OK") == 1; }));
}

TEST_F(LlmRouterGrpcTest, FallsBackWhenTheFirstModelFailsBeforeAnyText) {
  sim::ModelScript down;
  down.fail_status = 503;
  sim_->Script("cloud-a", down);
  grpc::ClientContext ctx;
  Streamed s = Stream(Ask("olá mundo"), &ctx);
  ASSERT_TRUE(s.status.ok()) << s.status.error_message();
  std::string text;
  for (const auto& c : s.chunks) text += c;
  EXPECT_EQ(text, "echo: olá mundo");  // only the second model's answer, once
  ASSERT_EQ(s.summaries.size(), 1u);
  EXPECT_EQ(s.summaries[0].model(), "models/cloud-b");
  ASSERT_EQ(s.summaries[0].attempts_size(), 2);
  EXPECT_EQ(s.summaries[0].attempts(0).model(), "models/cloud-a");
  EXPECT_EQ(s.summaries[0].attempts(0).outcome(), v1::ATTEMPT_OUTCOME_FAILED);
  EXPECT_EQ(s.summaries[0].attempts(0).http_status(), 503);
  EXPECT_EQ(sim_->Requests("cloud-a"), 1);
  EXPECT_EQ(sim_->Requests("cloud-b"), 1);
}

TEST_F(LlmRouterGrpcTest, FailureAfterTextReachesTheCallerIsNotRetriedElsewhere) {
  sim::ModelScript drop;
  drop.drop_after_chunks = 2;
  sim_->Script("cloud-a", drop);
  grpc::ClientContext ctx;
  Streamed s = Stream(Ask("one two three four five"), &ctx);
  EXPECT_EQ(s.status.error_code(), grpc::StatusCode::UNAVAILABLE) << s.status.error_message();
  EXPECT_FALSE(s.chunks.empty());
  EXPECT_TRUE(s.summaries.empty());
  EXPECT_EQ(sim_->Requests("cloud-b"), 0);
}

TEST_F(LlmRouterGrpcTest, BadRequestFailsBeforeAnyMessage) {
  grpc::ClientContext ctx;
  v1::StreamCompleteRequest req;  // no messages
  Streamed s = Stream(req, &ctx);
  EXPECT_EQ(s.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(s.chunks.empty());
  EXPECT_TRUE(s.summaries.empty());
  google::rpc::Status details = RpcStatusOf(s.status);
  ASSERT_EQ(details.details_size(), 2);  // BadRequest, then the ErrorInfo
  EXPECT_EQ(ErrorInfoOf(details)->domain(), "llmrouter.genesis.dev");
  google::rpc::BadRequest bad;
  ASSERT_TRUE(details.details(0).UnpackTo(&bad));
  ASSERT_GE(bad.field_violations_size(), 1);
  EXPECT_EQ(bad.field_violations(0).field(), "messages");
}

TEST_F(LlmRouterGrpcTest, UnknownEnumValuesAreRefusedNamingEachFieldUnaryAndStreaming) {
  // Proto3 keeps 99 in the field; the router used to take it for "unset" and
  // answer. Now both doors refuse it before any model is called.
  v1::StreamCompleteRequest streamed = Ask("olá");
  streamed.set_task(static_cast<v1::Task>(99));
  streamed.set_strategy(static_cast<v1::Strategy>(99));
  grpc::ClientContext ctx;
  Streamed s = Stream(streamed, &ctx);
  ASSERT_EQ(s.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.status.error_message();
  google::rpc::BadRequest bad;
  ASSERT_TRUE(RpcStatusOf(s.status).details(0).UnpackTo(&bad));
  ASSERT_EQ(bad.field_violations_size(), 2);
  EXPECT_EQ(bad.field_violations(0).field(), "task");
  EXPECT_EQ(bad.field_violations(1).field(), "strategy");

  v1::CompleteRequest unary;
  *unary.mutable_messages() = streamed.messages();
  unary.mutable_constraints()->add_required_capabilities(static_cast<v1::Capability>(99));
  grpc::ClientContext uctx;
  v1::CompleteResponse resp;
  grpc::Status st = stub_->Complete(&uctx, unary, &resp);
  ASSERT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << st.error_message();
  ASSERT_TRUE(RpcStatusOf(st).details(0).UnpackTo(&bad));
  ASSERT_EQ(bad.field_violations_size(), 1);
  EXPECT_EQ(bad.field_violations(0).field(), "constraints.required_capabilities[0]");
  EXPECT_EQ(sim_->Requests("cloud-a"), 0);
}

TEST_F(LlmRouterGrpcTest, ClientCancellingMidStreamStopsTheModel) {
  // 40 words, 250 ms apart: ten seconds if nobody stopped it.
  sim::ModelScript slow;
  slow.chunk_delay_ms = 250;
  sim_->Script("cloud-a", slow);
  std::string words;
  for (int i = 0; i < 39; ++i) absl::StrAppend(&words, "w", i, " ");
  grpc::ClientContext ctx;
  auto reader = stub_->StreamComplete(&ctx, Ask(words + "end", 100));
  v1::StreamCompleteResponse r;
  ASSERT_TRUE(reader->Read(&r));
  EXPECT_EQ(r.text(), "echo:");
  const absl::Time cancelled_at = absl::Now();
  ctx.TryCancel();
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);

  // The router accounts only once the executor has returned: the row proves
  // the model's stream was abandoned, well before its ten seconds.
  ASSERT_TRUE(Eventually([&] { return store_->executions().size() == 1; }, absl::Seconds(3)));
  EXPECT_LT(absl::Now() - cancelled_at, absl::Seconds(3));
  auto row = store_->executions()[0];
  EXPECT_EQ(row.outcome, "failed");
  EXPECT_TRUE(row.streamed);
  EXPECT_EQ(row.attempts, 1);
  EXPECT_EQ(sim_->Requests("cloud-b"), 0);  // no fallback after text reached the caller
  EXPECT_TRUE(store_->retries().empty());   // a caller who left is not retried
  EXPECT_TRUE(Eventually([&] { return Handled("CANCELLED") == 1; }));
}

TEST_F(LlmRouterGrpcTest, UnaryCompleteStillServed) {
  grpc::ClientContext ctx;
  v1::CompleteRequest req;
  auto* m = req.add_messages();
  m->set_role(v1::ROLE_USER);
  m->set_content("hello");
  v1::CompleteResponse resp;
  ASSERT_TRUE(stub_->Complete(&ctx, req, &resp).ok());
  EXPECT_EQ(resp.text(), "echo: hello");
  EXPECT_EQ(resp.model(), "models/cloud-a");
}

TEST_F(LlmRouterGrpcTest, BudgetsOverGrpc) {
  auto field_of = [](const grpc::Status& st) {
    google::rpc::BadRequest bad;
    google::rpc::Status details = RpcStatusOf(st);
    if (details.details_size() < 1 || !details.details(0).UnpackTo(&bad) ||
        bad.field_violations_size() < 1) {
      return std::string();
    }
    return bad.field_violations(0).field();
  };
  {
    grpc::ClientContext ctx;
    genesis::testing::AsOperator(&ctx);
    v1::SetBudgetRequest req;
    req.mutable_budget()->set_owner("user-7");
    req.mutable_budget()->set_token_limit(1);
    v1::Budget resp;
    auto st = stub_->SetBudget(&ctx, req, &resp);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_EQ(field_of(st), "budget.scope");
  }
  {
    grpc::ClientContext ctx;
    genesis::testing::AsOperator(&ctx);
    v1::SetBudgetRequest req;
    req.mutable_budget()->set_scope(v1::BUDGET_SCOPE_SUBJECT);
    req.mutable_budget()->set_owner("user-7");
    req.mutable_budget()->set_period(v1::BUDGET_PERIOD_DAY);
    req.mutable_budget()->set_token_limit(1);
    v1::Budget resp;
    ASSERT_TRUE(stub_->SetBudget(&ctx, req, &resp).ok());
    EXPECT_EQ(resp.owner(), "user-7");
    EXPECT_EQ(resp.token_limit(), 1);
    EXPECT_EQ(resp.used_tokens(), 0);
  }
  auto complete = [&] {
    grpc::ClientContext ctx;
    v1::CompleteRequest req;
    auto* m = req.add_messages();
    m->set_role(v1::ROLE_USER);
    m->set_content("hello");
    req.set_subject("user-7");
    v1::CompleteResponse resp;
    return stub_->Complete(&ctx, req, &resp);
  };
  ASSERT_TRUE(complete().ok());
  grpc::Status spent = complete();
  EXPECT_EQ(spent.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_NE(spent.error_message().find("subject 'user-7' per day"), std::string::npos);
  {
    grpc::ClientContext ctx;
    v1::ListBudgetsRequest req;
    v1::ListBudgetsResponse resp;
    ASSERT_TRUE(stub_->ListBudgets(&ctx, req, &resp).ok());
    ASSERT_EQ(resp.budgets_size(), 1);
    EXPECT_GT(resp.budgets(0).used_tokens(), 1);
  }
  {
    grpc::ClientContext ctx;
    v1::GetUsageReportRequest req;  // no time range
    v1::UsageReport resp;
    auto st = stub_->GetUsageReport(&ctx, req, &resp);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_EQ(field_of(st), "start_time");
  }
}

TEST_F(LlmRouterGrpcTest, SubjectSettingsOverGrpc) {
  {
    grpc::ClientContext ctx;
    genesis::testing::AsOperator(&ctx);
    v1::UpdateSubjectSettingsRequest req;
    req.mutable_settings()->set_name("users/7");
    v1::SubjectSettings resp;
    auto st = stub_->UpdateSubjectSettings(&ctx, req, &resp);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_NE(st.error_message().find("settings.name"), std::string::npos);
  }
  {
    grpc::ClientContext ctx;
    genesis::testing::AsOperator(&ctx);
    v1::UpdateSubjectSettingsRequest req;
    req.mutable_settings()->set_name("subjects/user-7/settings");
    req.mutable_settings()->set_sandbox(true);
    v1::SubjectSettings resp;
    ASSERT_TRUE(stub_->UpdateSubjectSettings(&ctx, req, &resp).ok());
    EXPECT_TRUE(resp.sandbox());
  }
  {
    grpc::ClientContext ctx;
    v1::GetSubjectSettingsRequest req;
    req.set_name("subjects/user-7/settings");
    v1::SubjectSettings resp;
    ASSERT_TRUE(stub_->GetSubjectSettings(&ctx, req, &resp).ok());
    EXPECT_TRUE(resp.sandbox());
    EXPECT_EQ(resp.name(), "subjects/user-7/settings");
  }
  grpc::ClientContext ctx;
  v1::CompleteRequest req;
  auto* m = req.add_messages();
  m->set_role(v1::ROLE_USER);
  m->set_content("hello");
  req.set_subject("user-7");
  v1::CompleteResponse resp;
  ASSERT_TRUE(stub_->Complete(&ctx, req, &resp).ok());
  EXPECT_TRUE(resp.sandbox());
  EXPECT_EQ(resp.text(), "echo: hello");
}

}  // namespace
}  // namespace genesis::llmrouter
