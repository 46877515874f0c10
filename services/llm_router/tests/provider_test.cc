// The three wire protocols over real HTTP against the in-process simulator:
// answers, usage, streaming events, and how failures map to statuses.
#include "services/llm_router/providers/provider.h"

#include <gtest/gtest.h>

#include "services/llm_router/simulator/simulator.h"
#include "services/llm_router/tests/test_util.h"

namespace genesis::llmrouter {
namespace {

using sim::ModelScript;
using sim::ProviderSimulator;

class ProviderTest : public ::testing::TestWithParam<Protocol> {
 protected:
  void SetUp() override {
    auto s = ProviderSimulator::Start("127.0.0.1", 0);
    ASSERT_TRUE(s.ok()) << s.status();
    sim_ = std::move(*s);
    client_ = MakeProviderClients();
    model_ = testing::SimModel("sim-m", GetParam(), sim_->url());
    messages_ = {{Role::kSystem, "be brief"}, {Role::kUser, "hello there router"}};
    request_.model = &model_;
    request_.messages = &messages_;
    request_.max_tokens = 100;
    request_.timeout = absl::Seconds(5);
  }

  std::unique_ptr<ProviderSimulator> sim_;
  std::unique_ptr<ProviderClient> client_;
  ModelSpec model_;
  std::vector<Message> messages_;
  ProviderRequest request_;
};

TEST_P(ProviderTest, PlainAnswerWithUsage) {
  ProviderResult r = client_->Complete(request_);
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_EQ(r.http_status, 200);
  EXPECT_EQ(r.reply.text, "echo: hello there router");
  EXPECT_EQ(r.reply.usage.output_tokens, 4);
  EXPECT_GT(r.reply.usage.input_tokens, 0);
  EXPECT_EQ(r.reply.finish_reason, "stop");
}

TEST_P(ProviderTest, StreamDeliversChunksAndFinalUsage) {
  std::vector<std::string> chunks;
  ProviderResult r = client_->Stream(request_, [&](std::string_view t) {
    chunks.emplace_back(t);
    return true;
  });
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_EQ(chunks, (std::vector<std::string>{"echo:", " hello", " there", " router"}));
  EXPECT_EQ(r.reply.text, "echo: hello there router");
  EXPECT_EQ(r.reply.usage.output_tokens, 4);
  EXPECT_GT(r.reply.usage.input_tokens, 0);
  EXPECT_EQ(r.reply.finish_reason, "stop");
}

TEST_P(ProviderTest, ScriptedTokenCountsAreReported) {
  ModelScript s;
  s.input_tokens = 1234;
  s.output_tokens = 56;
  sim_->Script("sim-m", s);
  ProviderResult plain = client_->Complete(request_);
  ProviderResult streamed = client_->Stream(request_, [](std::string_view) { return true; });
  for (const auto* r : {&plain, &streamed}) {
    ASSERT_TRUE(r->status.ok()) << r->status;
    EXPECT_EQ(r->reply.usage.input_tokens, 1234);
    EXPECT_EQ(r->reply.usage.output_tokens, 56);
  }
}

TEST_P(ProviderTest, RateLimitIsResourceExhaustedWithRetryAfter) {
  ModelScript s;
  s.fail_status = 429;
  s.retry_after_s = 2;
  sim_->Script("sim-m", s);
  ProviderResult r = client_->Complete(request_);
  EXPECT_EQ(r.status.code(), absl::StatusCode::kResourceExhausted) << r.status;
  EXPECT_EQ(r.http_status, 429);
  ASSERT_TRUE(r.retry_after.has_value());
  EXPECT_EQ(*r.retry_after, absl::Seconds(2));
  EXPECT_TRUE(IsRetryable(r.status));
  ProviderResult s2 = client_->Stream(request_, [](std::string_view) { return true; });
  EXPECT_EQ(s2.status.code(), absl::StatusCode::kResourceExhausted) << s2.status;
}

TEST_P(ProviderTest, ServerErrorIsUnavailableAndCarriesTheProviderMessage) {
  ModelScript s;
  s.fail_status = 503;
  sim_->Script("sim-m", s);
  ProviderResult r = client_->Complete(request_);
  EXPECT_EQ(r.status.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(r.status.message().find("simulated failure (HTTP 503)"), std::string::npos) << r.status;
}

TEST_P(ProviderTest, HangingProviderTimesOut) {
  ModelScript s;
  s.hang = true;
  sim_->Script("sim-m", s);
  request_.timeout = absl::Milliseconds(200);
  const absl::Time start = absl::Now();
  ProviderResult r = client_->Complete(request_);
  EXPECT_EQ(r.status.code(), absl::StatusCode::kDeadlineExceeded) << r.status;
  EXPECT_LT(absl::Now() - start, absl::Seconds(3));
}

TEST_P(ProviderTest, StreamCutBeforeItsEndIsUnavailable) {
  ModelScript s;
  s.drop_after_chunks = 2;
  sim_->Script("sim-m", s);
  std::string got;
  ProviderResult r = client_->Stream(request_, [&](std::string_view t) {
    got.append(t);
    return true;
  });
  EXPECT_EQ(r.status.code(), absl::StatusCode::kUnavailable) << r.status;
  EXPECT_EQ(got, "echo: hello");
}

TEST_P(ProviderTest, ReaderCanStopAStream) {
  int chunks = 0;
  ProviderResult r = client_->Stream(request_, [&](std::string_view) { return ++chunks < 2; });
  EXPECT_EQ(r.status.code(), absl::StatusCode::kCancelled) << r.status;
  EXPECT_EQ(chunks, 2);
}

INSTANTIATE_TEST_SUITE_P(Wire, ProviderTest,
                         ::testing::Values(Protocol::kOpenAi, Protocol::kAnthropic,
                                           Protocol::kGemini),
                         [](const auto& info) { return std::string(ProtocolName(info.param)); });

TEST(ProviderErrorsTest, UnreachableProviderIsUnavailable) {
  auto client = MakeProviderClients();
  ModelSpec m = testing::SimModel("x", Protocol::kOpenAi, "http://127.0.0.1:1");
  std::vector<Message> messages{{Role::kUser, "hi"}};
  ProviderRequest req;
  req.model = &m;
  req.messages = &messages;
  ProviderResult r = client->Complete(req);
  EXPECT_EQ(r.status.code(), absl::StatusCode::kUnavailable) << r.status;
}

}  // namespace
}  // namespace genesis::llmrouter
