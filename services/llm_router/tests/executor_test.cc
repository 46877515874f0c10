// Retries, backoff, Retry-After, circuit breakers and fallbacks, against the
// simulator over real HTTP, with a fake clock (backoffs advance it instead
// of sleeping).
#include "services/llm_router/execution/executor.h"

#include <gtest/gtest.h>

#include "services/llm_router/simulator/simulator.h"
#include "services/llm_router/tests/test_util.h"

namespace genesis::llmrouter {
namespace {

using sim::ModelScript;

class ExecutorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = sim::ProviderSimulator::Start("127.0.0.1", 0);
    ASSERT_TRUE(s.ok()) << s.status();
    sim_ = std::move(*s);
    client_ = MakeProviderClients();
    a_ = testing::SimModel("sim-a", Protocol::kOpenAi, sim_->url());
    b_ = testing::SimModel("sim-b", Protocol::kAnthropic, sim_->url());
    c_ = testing::SimModel("sim-c", Protocol::kGemini, sim_->url());
    ExecutorOptions options;
    options.initial_backoff = absl::Seconds(2);
    options.max_backoff = absl::Seconds(8);
    options.provider_timeout = absl::Seconds(5);
    executor_ = std::make_unique<Executor>(
        client_.get(), &health_, &clock_, [] { return 0.0; }, options);
    messages_ = {{Role::kUser, "ping"}};
    params_.messages = &messages_;
    params_.max_tokens = 50;
    params_.deadline = clock_.Now() + absl::Seconds(60);
  }
  void Fail(const std::string& model, int status, int count = -1, double retry_after = -1) {
    ModelScript s;
    s.fail_status = status;
    s.fail_count = count;
    s.retry_after_s = retry_after;
    sim_->Script(model, s);
  }

  std::unique_ptr<sim::ProviderSimulator> sim_;
  std::unique_ptr<ProviderClient> client_;
  HealthBook health_;
  ManualClock clock_;
  std::unique_ptr<Executor> executor_;
  ModelSpec a_, b_, c_;
  std::vector<Message> messages_;
  ExecutionParams params_;
};

TEST_F(ExecutorTest, RetriesWithExponentialBackoffThenSucceeds) {
  Fail("sim-a", 503, /*count=*/2);
  Execution ex = executor_->Run({&a_, &b_}, params_, nullptr);
  ASSERT_TRUE(ex.status.ok()) << ex.status;
  EXPECT_EQ(ex.model->id, "sim-a");
  EXPECT_EQ(ex.reply.text, "echo: ping");
  ASSERT_EQ(ex.attempts.size(), 3u);
  EXPECT_EQ(ex.attempts[0].http_status, 503);
  // Jitter factor 0.5 (random 0): 2 s * 0.5, then 4 s * 0.5.
  EXPECT_EQ(clock_.sleeps(), (std::vector<absl::Duration>{absl::Seconds(1), absl::Seconds(2)}));
  EXPECT_EQ(sim_->Requests("sim-b"), 0);
}

TEST_F(ExecutorTest, FallsBackAfterRetriesAreSpent) {
  Fail("sim-a", 500);
  Execution ex = executor_->Run({&a_, &b_}, params_, nullptr);
  ASSERT_TRUE(ex.status.ok()) << ex.status;
  EXPECT_EQ(ex.model->id, "sim-b");
  EXPECT_EQ(sim_->Requests("sim-a"), 3);
  EXPECT_EQ(ex.attempts.size(), 4u);
}

TEST_F(ExecutorTest, RetryAfterIsHonouredAndALongOneMovesOn) {
  Fail("sim-a", 429, /*count=*/1, /*retry_after=*/5);
  Execution ex = executor_->Run({&a_, &b_}, params_, nullptr);
  ASSERT_TRUE(ex.status.ok()) << ex.status;
  EXPECT_EQ(ex.model->id, "sim-a");
  EXPECT_EQ(clock_.sleeps(), std::vector<absl::Duration>{absl::Seconds(5)});

  Fail("sim-a", 429, /*count=*/1, /*retry_after=*/120);  // past max_backoff
  ex = executor_->Run({&a_, &b_}, params_, nullptr);
  ASSERT_TRUE(ex.status.ok()) << ex.status;
  EXPECT_EQ(ex.model->id, "sim-b");
  EXPECT_EQ(clock_.sleeps().size(), 1u);  // no new wait
}

TEST_F(ExecutorTest, TimeoutFallsBack) {
  ModelScript hang;
  hang.hang = true;
  sim_->Script("sim-a", hang);
  ExecutorOptions options;
  options.provider_timeout = absl::Milliseconds(150);
  options.max_attempts_per_model = 1;
  Executor executor(
      client_.get(), &health_, &clock_, [] { return 0.0; }, options);
  Execution ex = executor.Run({&a_, &c_}, params_, nullptr);
  ASSERT_TRUE(ex.status.ok()) << ex.status;
  EXPECT_EQ(ex.model->id, "sim-c");
  EXPECT_NE(ex.attempts[0].error.find("timed out"), std::string::npos) << ex.attempts[0].error;
}

TEST_F(ExecutorTest, EverythingFailsListsEveryAttempt) {
  Fail("sim-a", 503);
  Fail("sim-b", 401);  // not retryable: one try, then the next model
  Execution ex = executor_->Run({&a_, &b_, &c_}, params_, nullptr);
  ASSERT_TRUE(ex.status.ok()) << ex.status;
  EXPECT_EQ(ex.model->id, "sim-c");
  EXPECT_EQ(sim_->Requests("sim-b"), 1);

  Fail("sim-c", 502);
  ex = executor_->Run({&a_, &b_, &c_}, params_, nullptr);
  EXPECT_EQ(ex.status.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(ex.status.message().find("sim-b try 1: HTTP 401"), std::string::npos) << ex.status;
  EXPECT_NE(ex.status.message().find("sim-c try 3: HTTP 502"), std::string::npos) << ex.status;
}

// A request the provider refuses as invalid or too large is the caller's
// fault: one call, no retry, no other model, and the breaker stays closed
// however often it happens.
TEST_F(ExecutorTest, ARequestTheProviderRefusesIsNotRetriedNorFallenBackNorCounted) {
  for (int status : {400, 413, 422}) {
    Fail("sim-a", status);
    const int before = sim_->Requests("sim-a");
    for (int i = 0; i < 10; ++i) {
      Execution ex = executor_->Run({&a_, &b_}, params_, nullptr);
      ASSERT_EQ(ex.status.code(), absl::StatusCode::kInvalidArgument) << ex.status;
      EXPECT_NE(ex.status.message().find(absl::StrCat(
                    "sim-a refused the request as invalid or too large (HTTP ", status)),
                std::string::npos)
          << ex.status;
      ASSERT_EQ(ex.attempts.size(), 1u);
    }
    EXPECT_EQ(sim_->Requests("sim-a") - before, 10) << status;
    EXPECT_EQ(sim_->Requests("sim-b"), 0) << status;
    EXPECT_EQ(health_.State("sim-a", clock_.Now()), BreakerState::kClosed) << status;
    EXPECT_TRUE(clock_.sleeps().empty());
  }
}

// A prompt larger than the provider accepts (the simulator's limit is 1 MiB,
// as a real API has one) comes back 413: the caller's fault as above, not a
// broken connection that would be retried and open the breaker for everyone.
TEST_F(ExecutorTest, APromptOverTheProvidersSizeLimitIsRefusedOnceForThatCallerOnly) {
  std::vector<Message> huge = {{Role::kUser, std::string(1600 * 1024, 'x')}};
  ExecutionParams params = params_;
  params.messages = &huge;
  for (int i = 0; i < 6; ++i) {
    Execution ex = executor_->Run({&c_, &a_}, params, nullptr);
    ASSERT_EQ(ex.status.code(), absl::StatusCode::kInvalidArgument) << ex.status;
    EXPECT_NE(ex.status.message().find("HTTP 413"), std::string::npos) << ex.status;
    ASSERT_EQ(ex.attempts.size(), 1u);
  }
  EXPECT_EQ(sim_->Requests("sim-a"), 0);
  EXPECT_EQ(health_.State("sim-c", clock_.Now()), BreakerState::kClosed);
  // Everyone else's calls still go to the model.
  Execution ok = executor_->Run({&c_, &a_}, params_, nullptr);
  ASSERT_TRUE(ok.status.ok()) << ok.status;
  EXPECT_EQ(ok.model->id, "sim-c");
}

// What a provider says can name its internal URLs, addresses or echo a key:
// the caller gets it redacted.
TEST_F(ExecutorTest, ProviderErrorTextIsRedactedForTheCaller) {
  ModelScript s;
  s.fail_status = 503;
  s.fail_message = "upstream http://10.1.2.3:8080/internal/v1 down (key sk-live-abcdef123456)";
  sim_->Script("sim-a", s);
  Fail("sim-b", 503);
  Execution ex = executor_->Run({&a_, &b_}, params_, nullptr);
  ASSERT_EQ(ex.status.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(ex.status.message().find("10.1.2.3"), std::string::npos) << ex.status;
  EXPECT_EQ(ex.status.message().find("sk-live"), std::string::npos) << ex.status;
  EXPECT_EQ(ex.attempts[0].error.find("10.1.2.3"), std::string::npos) << ex.attempts[0].error;
  EXPECT_NE(ex.attempts[0].error.find("upstream <url> down"), std::string::npos)
      << ex.attempts[0].error;
}

TEST_F(ExecutorTest, BreakerOpensAfterFiveFailuresAndHalfOpensAfterSixtySeconds) {
  Fail("sim-a", 503);
  executor_->Run({&a_, &b_}, params_, nullptr);  // 3 failures
  executor_->Run({&a_, &b_}, params_, nullptr);  // 5 failures: open
  EXPECT_EQ(health_.State("sim-a", clock_.Now()), BreakerState::kOpen);
  EXPECT_EQ(sim_->Requests("sim-a"), 5);
  Execution ex = executor_->Run({&a_, &b_}, params_, nullptr);
  ASSERT_TRUE(ex.status.ok());
  EXPECT_EQ(ex.attempts[0].outcome, AttemptOutcome::kSkippedCircuitOpen);
  EXPECT_EQ(sim_->Requests("sim-a"), 5);  // not called while open

  clock_.Advance(absl::Seconds(61));
  EXPECT_EQ(health_.State("sim-a", clock_.Now()), BreakerState::kHalfOpen);
  EXPECT_TRUE(health_.TryAcquire("sim-a", clock_.Now()));   // the one probe
  EXPECT_FALSE(health_.TryAcquire("sim-a", clock_.Now()));  // nobody else meanwhile
  health_.OnFailure("sim-a", clock_.Now());                 // the probe failed: open again
  EXPECT_EQ(health_.State("sim-a", clock_.Now()), BreakerState::kOpen);

  clock_.Advance(absl::Seconds(61));
  sim_->Reset();  // sim-a healthy again
  params_.deadline = clock_.Now() + absl::Seconds(60);
  ex = executor_->Run({&a_, &b_}, params_, nullptr);
  ASSERT_TRUE(ex.status.ok()) << ex.status;
  EXPECT_EQ(ex.model->id, "sim-a");
  EXPECT_EQ(health_.State("sim-a", clock_.Now()), BreakerState::kClosed);
}

TEST_F(ExecutorTest, StreamFallsBackOnlyBeforeTheFirstToken) {
  Fail("sim-a", 503);
  std::string got;
  TextSink sink = [&](std::string_view t) {
    got.append(t);
    return true;
  };
  Execution ex = executor_->Run({&a_, &c_}, params_, &sink);
  ASSERT_TRUE(ex.status.ok()) << ex.status;
  EXPECT_EQ(ex.model->id, "sim-c");
  EXPECT_EQ(got, "echo: ping");

  ModelScript drop;
  drop.drop_after_chunks = 1;
  sim_->Script("sim-b", drop);
  messages_ = {{Role::kUser, "one two three"}};
  got.clear();
  ex = executor_->Run({&b_, &c_}, params_, &sink);
  EXPECT_EQ(ex.status.code(), absl::StatusCode::kUnavailable) << ex.status;
  EXPECT_TRUE(ex.streamed_any);
  EXPECT_EQ(got, "echo:");
  EXPECT_EQ(sim_->Requests("sim-c"), 1);  // only the first stream used it
}

TEST_F(ExecutorTest, DeadlineBoundsTheRetries) {
  Fail("sim-a", 503);
  params_.deadline = clock_.Now() + absl::Seconds(1);  // shorter than any backoff
  Execution ex = executor_->Run({&a_}, params_, nullptr);
  EXPECT_EQ(sim_->Requests("sim-a"), 1);
  EXPECT_TRUE(clock_.sleeps().empty());
  EXPECT_EQ(ex.status.code(), absl::StatusCode::kUnavailable);
}

TEST_F(ExecutorTest, AHungModelGetsOnlyItsShareOfTheDeadlineAndIsNotRetried) {
  ModelScript hang;
  hang.hang = true;
  sim_->Script("sim-a", hang);
  // Three models, 1.5 s left: the first may wait 0.5 s for its answer.
  params_.deadline = clock_.Now() + absl::Milliseconds(1500);
  Execution ex = executor_->Run({&a_, &b_, &c_}, params_, nullptr);
  ASSERT_TRUE(ex.status.ok()) << ex.status;
  EXPECT_EQ(ex.model->id, "sim-b");
  EXPECT_EQ(sim_->Requests("sim-a"), 1);  // a timeout moves on at once
  EXPECT_NE(ex.attempts[0].error.find("no answer within 500 ms"), std::string::npos)
      << ex.attempts[0].error;
  EXPECT_TRUE(clock_.sleeps().empty());

  // A stream waits for its first byte the same way.
  std::string got;
  TextSink sink = [&](std::string_view t) {
    got.append(t);
    return true;
  };
  ex = executor_->Run({&a_, &b_, &c_}, params_, &sink);
  ASSERT_TRUE(ex.status.ok()) << ex.status;
  EXPECT_EQ(ex.model->id, "sim-b");
  EXPECT_EQ(got, "echo: ping");
  EXPECT_NE(ex.attempts[0].error.find("no text within 500 ms"), std::string::npos)
      << ex.attempts[0].error;

  // A stream that sends its header event and then nothing (sim-b speaks
  // Anthropic: message_start at once) is hung too.
  ModelScript silent;
  silent.stall_after_chunks = 0;
  sim_->Script("sim-b", silent);
  got.clear();
  ex = executor_->Run({&b_, &a_, &c_}, params_, &sink);
  ASSERT_TRUE(ex.status.ok()) << ex.status;
  EXPECT_EQ(ex.model->id, "sim-c");  // sim-a still hangs
  EXPECT_EQ(got, "echo: ping");
  EXPECT_NE(ex.attempts[0].error.find("no text within 500 ms"), std::string::npos)
      << ex.attempts[0].error;
}

TEST_F(ExecutorTest, AStreamThatStallsAfterTextEndsWithAnErrorAndIsNotRestarted) {
  ModelScript stall;
  stall.stall_after_chunks = 1;
  sim_->Script("sim-b", stall);
  ExecutorOptions options;
  options.stream_idle_timeout = absl::Milliseconds(300);
  Executor executor(
      client_.get(), &health_, &clock_, [] { return 0.0; }, options);
  messages_ = {{Role::kUser, "one two three"}};
  std::string got;
  TextSink sink = [&](std::string_view t) {
    got.append(t);
    return true;
  };
  Execution ex = executor.Run({&b_, &c_}, params_, &sink);
  EXPECT_EQ(ex.status.code(), absl::StatusCode::kUnavailable) << ex.status;
  EXPECT_NE(ex.status.message().find("stalled"), std::string::npos) << ex.status;
  EXPECT_NE(ex.status.message().find("not restarted"), std::string::npos) << ex.status;
  EXPECT_EQ(got, "echo:");
  EXPECT_EQ(sim_->Requests("sim-c"), 0);
}

TEST_F(ExecutorTest, RetryAfterIsHonouredOnlyWhenItFitsTheModelsShareOfTheDeadline) {
  // 60 s left for two models: 40 s does not fit the first one's half.
  Fail("sim-a", 429, /*count=*/1, /*retry_after=*/40);
  Execution ex = executor_->Run({&a_, &b_}, params_, nullptr);
  ASSERT_TRUE(ex.status.ok()) << ex.status;
  EXPECT_EQ(ex.model->id, "sim-b");
  EXPECT_TRUE(clock_.sleeps().empty());
  // The last (here: only) model may use all that is left.
  sim_->Reset();
  Fail("sim-a", 429, /*count=*/1, /*retry_after=*/40);
  ex = executor_->Run({&a_}, params_, nullptr);
  ASSERT_TRUE(ex.status.ok()) << ex.status;
  EXPECT_EQ(ex.model->id, "sim-a");
  EXPECT_EQ(clock_.sleeps(), std::vector<absl::Duration>{absl::Seconds(40)});
  // Past the deadline it is not waited at all.
  sim_->Reset();
  Fail("sim-a", 429, /*count=*/1, /*retry_after=*/120);
  params_.deadline = clock_.Now() + absl::Seconds(60);
  ex = executor_->Run({&a_}, params_, nullptr);
  EXPECT_EQ(ex.status.code(), absl::StatusCode::kUnavailable) << ex.status;
  EXPECT_EQ(clock_.sleeps().size(), 1u);
}

TEST_F(ExecutorTest, TransportErrorsDoNotNameTheProviderUrl) {
  ModelSpec gone = testing::SimModel("sim-gone", Protocol::kOpenAi, "http://127.0.0.1:1");
  Execution ex = executor_->Run({&gone}, params_, nullptr);
  EXPECT_EQ(ex.status.code(), absl::StatusCode::kUnavailable) << ex.status;
  EXPECT_EQ(ex.status.message().find("127.0.0.1"), std::string::npos) << ex.status;
  EXPECT_NE(ex.status.message().find("sim-gone"), std::string::npos) << ex.status;
}

}  // namespace
}  // namespace genesis::llmrouter
