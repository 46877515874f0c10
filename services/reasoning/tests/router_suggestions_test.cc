// LLM assist over the LLM router: the parsing of model answers (plain,
// fenced, among prose, bad entries, garbage), the prompts' bounds, the flag's
// address rule, and RouterSuggestionClient against an in-process fake
// LlmRouterService on 127.0.0.1 (the request it sends, the deadline, the
// error mapping), also through the Reasoning logic (suggestions never written).
#include "services/reasoning/router_suggestions.h"

#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <pthread.h>

#include <functional>
#include <mutex>
#include <optional>
#include <thread>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "services/reasoning/events.h"
#include "services/reasoning/reasoning.h"
#include "services/reasoning/tests/fake_store.h"
#include "tests/testing/fake_llm_router.h"

namespace genesis::reasoning {
namespace {

namespace llm = genesis::llmrouter::v1;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

Hypothesis Hyp(std::string id, std::string statement, double prior = 1.0) {
  Hypothesis h;
  h.id = std::move(id);
  h.statement = std::move(statement);
  h.prior = prior;
  return h;
}

Evidence Draft(std::string description) {
  Evidence e;
  e.description = std::move(description);
  return e;
}

Case TwoHypotheses() {
  Case c;
  c.id = "c1";
  c.question = "Why did sign-ups drop in March?";
  c.context = "The landing page changed on March 3.";
  c.hypotheses = {Hyp("h1", "The new landing page", 2), Hyp("h2", "Seasonality")};
  Evidence e;
  e.id = "e1";
  e.description = "Traffic fell 30% on March 3";
  e.reliability = 0.8;
  c.evidence = {e};
  return c;
}

std::vector<std::string> Statements(const HypothesisSuggestions& s) {
  std::vector<std::string> out;
  for (const auto& h : s.suggestions) out.push_back(h.statement);
  return out;
}

// ---------------------------------------------------------------------------
// Parsing

TEST(ReasoningAssistParseTest, PlainJsonHypotheses) {
  auto r = ParseHypothesisAnswer(
      R"({"hypotheses":[{"statement":"A competitor's campaign","prior":0.5,"explanation":"timing"},
                        {"statement":"Tracking broke"}]})",
      TwoHypotheses(), 5);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(Statements(*r), ElementsAre("A competitor's campaign", "Tracking broke"));
  EXPECT_DOUBLE_EQ(r->suggestions[0].prior, 0.5);
  EXPECT_EQ(r->suggestions[0].explanation, "timing");
  EXPECT_DOUBLE_EQ(r->suggestions[1].prior, 1.0);  // absent: the default weight
  EXPECT_EQ(r->dropped, 0);
}

TEST(ReasoningAssistParseTest, FencedJsonAmongProse) {
  auto r = ParseHypothesisAnswer(
      "Here are my suggestions:\n```json\n{\"hypotheses\": [{\"statement\": \"Tracking broke\", "
      "\"prior\": 1}]}\n```\nI hope this helps {really}.",
      TwoHypotheses(), 5);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(Statements(*r), ElementsAre("Tracking broke"));
}

TEST(ReasoningAssistParseTest, JsonAmongProseWithoutFences) {
  // An unbalanced brace before the object and braces inside strings.
  auto r = ParseHypothesisAnswer(
      "Sure { here it is: {\"hypotheses\":[{\"statement\":\"A bug in {signup} form\"}]} -- done",
      TwoHypotheses(), 5);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(Statements(*r), ElementsAre("A bug in {signup} form"));
}

TEST(ReasoningAssistParseTest, BareArrayIsTheList) {
  auto r = ParseHypothesisAnswer(R"([{"statement":"Tracking broke"}])", TwoHypotheses(), 5);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(Statements(*r), ElementsAre("Tracking broke"));
}

TEST(ReasoningAssistParseTest, InvalidHypothesesAreDroppedAndCounted) {
  auto r = ParseHypothesisAnswer(R"({"hypotheses":[
      {"statement":"Good one","prior":3},
      {"statement":"Negative prior","prior":-1},
      {"statement":"Word prior","prior":"high"},
      {"prior":1},
      {"statement":"   "},
      {"statement":42},
      "not an object",
      {"statement":"  seasonality "},
      {"statement":"good one"},
      {"statement":"Second good","prior":0},
      {"statement":"Over the max"}]})",
                                 TwoHypotheses(), 2);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(Statements(*r), ElementsAre("Good one", "Second good"));
  // Negative, word, missing, blank, number, not an object, already in the case,
  // repeated: 8. The surplus over `max` is not "dropped".
  EXPECT_EQ(r->dropped, 8);
}

TEST(ReasoningAssistParseTest, RatingsWithLikelihoodsAndAchNames) {
  Case c = TwoHypotheses();
  c.hypotheses.push_back(Hyp("h3", "Tracking broke"));
  auto r = ParseRatingAnswer(R"(```
{"ratings":[{"hypothesis":"h1","likelihood":0.9,"explanation":"same day"},
            {"hypothesis":"cases/c1/hypotheses/h2","rating":"inconsistent_weak"},
            {"hypothesis":"H3","rating":"ACH_RATING_NEUTRAL"}]}
```)",
                             c);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->suggestions.size(), 3u);
  EXPECT_EQ(r->suggestions[0].rating.hypothesis_id, "h1");
  EXPECT_EQ(r->suggestions[0].rating.likelihood, 0.9);
  EXPECT_EQ(r->suggestions[0].explanation, "same day");
  EXPECT_EQ(r->suggestions[1].rating.hypothesis_id, "h2");
  EXPECT_EQ(r->suggestions[1].rating.ach, AchRating::kInconsistentWeak);
  EXPECT_FALSE(r->suggestions[1].rating.likelihood.has_value());
  EXPECT_EQ(r->suggestions[2].rating.hypothesis_id, "h3");
  EXPECT_EQ(r->suggestions[2].rating.ach, AchRating::kNeutral);
  EXPECT_EQ(r->dropped, 0);
}

TEST(ReasoningAssistParseTest, InvalidRatingsAreDroppedAndCounted) {
  auto r = ParseRatingAnswer(R"(The ratings: {"ratings":[
      {"hypothesis":"h1","likelihood":1.5},
      {"hypothesis":"h1","likelihood":-0.1},
      {"hypothesis":"h1","likelihood":"0.5"},
      {"hypothesis":"h9","likelihood":0.5},
      {"hypothesis":"cases/other/hypotheses/h1","likelihood":0.5},
      {"hypothesis":"h1","likelihood":0.5,"rating":"NEUTRAL"},
      {"hypothesis":"h1"},
      {"hypothesis":"h1","rating":"MAYBE"},
      {"likelihood":0.5},
      {"hypothesis":"h2","likelihood":0},
      {"hypothesis":"h2","likelihood":1}]} Thanks.)",
                             TwoHypotheses());
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->suggestions.size(), 1u);
  EXPECT_EQ(r->suggestions[0].rating.hypothesis_id, "h2");
  EXPECT_EQ(r->suggestions[0].rating.likelihood, 0.0);
  EXPECT_EQ(r->dropped, 10);  // every other entry; the second h2 repeats it
}

TEST(ReasoningAssistParseTest, GarbageIsUnavailableWithAClearMessage) {
  for (const char* text :
       {"", "I cannot help with that.", "{not json", R"({"other":[1,2]})",
        R"({"hypotheses":"none"})", "```json\n{\"hypotheses\": [\n```", "echo: Question: why?"}) {
    auto r = ParseHypothesisAnswer(text, TwoHypotheses(), 5);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable) << text;
    EXPECT_THAT(r.status().message(), HasSubstr("no JSON object with a \"hypotheses\" list"))
        << text;
  }
  auto r = ParseRatingAnswer(R"({"hypotheses":[{"statement":"x"}]})", TwoHypotheses());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(r.status().message(), HasSubstr("\"ratings\""));
}

TEST(ReasoningAssistParseTest, StatementsThatCannotBeStoredAreDropped) {
  // "\u0000" is valid JSON, but CreateHypothesis refuses a statement with NUL;
  // an explanation keeps its text with U+FFFD in place of the NUL.
  auto r = ParseHypothesisAnswer(
      R"({"hypotheses":[{"statement":"Tracking\u0000 broke"},
                        {"statement":"A competitor","explanation":"same\u0000week"}]})",
      TwoHypotheses(), 5);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(Statements(*r), ElementsAre("A competitor"));
  EXPECT_EQ(r->suggestions[0].explanation, "same\xEF\xBF\xBDweek");
  EXPECT_EQ(r->dropped, 1);

  auto ratings = ParseRatingAnswer(
      R"({"ratings":[{"hypothesis":"h1","likelihood":0.5,"explanation":"\u0000"}]})",
      TwoHypotheses());
  ASSERT_TRUE(ratings.ok()) << ratings.status();
  ASSERT_EQ(ratings->suggestions.size(), 1u);
  EXPECT_EQ(ratings->suggestions[0].explanation, "\xEF\xBF\xBD");
}

// Runs `f` on a thread with a 1 MiB stack, as small as a server's worker
// thread may have.
void OnSmallStack(std::function<void()> f) {
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, 1 << 20);
  pthread_t thread;
  auto run = [](void* p) -> void* {
    (*static_cast<std::function<void()>*>(p))();
    return nullptr;
  };
  ASSERT_EQ(pthread_create(&thread, &attr, run, &f), 0);
  pthread_join(thread, nullptr);
  pthread_attr_destroy(&attr);
}

TEST(ReasoningAssistParseTest, DeeplyNestedJunkInTheListIsDropped) {
  // 100,000 nested arrays (200 KB, under the answer limit): the list used to be
  // copied out of the parsed answer, a recursion as deep as the nesting that
  // overflowed the stack.
  const int depth = 100000;
  const std::string junk = absl::StrCat(std::string(depth, '['), std::string(depth, ']'));
  OnSmallStack([&] {
    auto r = ParseHypothesisAnswer(
        absl::StrCat(R"({"hypotheses":[{"statement":"Tracking broke"},)", junk, "]}"),
        TwoHypotheses(), 5);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_THAT(Statements(*r), ElementsAre("Tracking broke"));
    EXPECT_EQ(r->dropped, 1);
    auto ratings = ParseRatingAnswer(absl::StrCat("[", junk, "]"), TwoHypotheses());
    ASSERT_TRUE(ratings.ok()) << ratings.status();
    EXPECT_EQ(ratings->dropped, 1);
  });
}

TEST(ReasoningAssistParseTest, EmptyListIsOk) {
  auto r = ParseRatingAnswer(R"({"ratings":[]})", TwoHypotheses());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->suggestions.empty());
  EXPECT_EQ(r->dropped, 0);
}

TEST(ReasoningAssistPromptTest, DescribesTheCaseWithinBounds) {
  Case c = TwoHypotheses();
  std::string text = DescribeCase(c);
  EXPECT_THAT(text, HasSubstr("Question: Why did sign-ups drop in March?"));
  EXPECT_THAT(text, HasSubstr("The landing page changed on March 3."));
  EXPECT_THAT(text, HasSubstr("- h1 (prior 2): The new landing page"));
  EXPECT_THAT(text, HasSubstr("- e1 (reliability 0.8): Traffic fell 30% on March 3"));
  // The echoing simulator must not turn the prompt into an answer.
  EXPECT_THAT(text, Not(HasSubstr("{")));

  // 10,000 items of 16 KiB of two-byte characters: bounded, valid UTF-8.
  std::string long_text;
  for (int i = 0; i < 8 * 1024; ++i) long_text += "é";
  c.context = long_text;
  c.evidence.clear();
  for (int i = 0; i < 10000; ++i) {
    Evidence e;
    e.id = absl::StrCat("e", i + 1);
    e.description = long_text;
    c.evidence.push_back(e);
  }
  text = DescribeCase(c);
  EXPECT_LT(text.size(), 40u * 1024);
  EXPECT_THAT(text, HasSubstr("more items not shown)"));
  EXPECT_NO_THROW((void)nlohmann::json(text).dump());  // dump() throws on broken UTF-8
}

TEST(ReasoningAssistPromptTest, SystemPromptsAskForStrictJson) {
  EXPECT_THAT(HypothesesSystemPrompt(3), HasSubstr("at most 3"));
  EXPECT_THAT(HypothesesSystemPrompt(3), HasSubstr(R"({"hypotheses":[{"statement")"));
  EXPECT_THAT(RatingsSystemPrompt(), HasSubstr(R"({"ratings":[{"hypothesis":"h1","likelihood")"));
}

TEST(ReasoningAssistAddressTest, HostPortOrAMeshTarget) {
  for (const char* ok : {"127.0.0.1:50051", "llm-router:9000", "[::1]:1", "a.b_c-d:65535",
                         "dns:///llm-router:9000", "ipv4:127.0.0.1:1,127.0.0.1:2"}) {
    EXPECT_TRUE(ValidateRouterAddress(ok).ok()) << ok;
  }
  for (const char* bad : {"127.0.0.1", ":50051", "host:", "host:0", "host:65536", "host:12x",
                          "http://host:80", "ho st:80", "[::1:80", "dns:"}) {
    EXPECT_EQ(ValidateRouterAddress(bad).code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

// ---------------------------------------------------------------------------
// RouterSuggestionClient against a fake LlmRouterService

using FakeRouter = genesis::testing::FakeLlmRouter;

class ReasoningAssistRouterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(&router_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    ASSERT_GT(port_, 0);
    client_ = MakeRouterSuggestionClient(Address(), grpc::InsecureChannelCredentials());
    ctx_.request_id = "req-42";
    ctx_.subject = "alice";
  }
  void TearDown() override {
    if (server_) server_->Shutdown(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
  }
  std::string Address() const { return absl::StrCat("127.0.0.1:", port_); }

  FakeRouter router_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<RouterSuggestionClient> client_;
  CallContext ctx_ = CallContext::Background(absl::Seconds(20));
};

TEST_F(ReasoningAssistRouterTest, ProposeSendsTheCaseAsTaskReasoning) {
  router_.text = R"(```json
{"hypotheses":[{"statement":"Tracking broke","prior":0.5,"explanation":"same day"},
               {"statement":"seasonality"}]}
```)";
  auto r = client_->ProposeHypotheses(TwoHypotheses(), 3, {.sensitive = true}, ctx_);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(Statements(*r), ElementsAre("Tracking broke"));
  EXPECT_EQ(r->suggestions[0].explanation, "same day");
  EXPECT_EQ(r->dropped, 1);  // "seasonality" is already in the case
  EXPECT_EQ(r->model, "models/sim-local");

  const llm::CompleteRequest& req = router_.last_request;
  EXPECT_EQ(req.task(), llm::TASK_REASONING);
  EXPECT_TRUE(req.sensitive());
  EXPECT_EQ(req.subject(), "alice");
  EXPECT_EQ(req.agent(), "genesis-reasoning");
  EXPECT_TRUE(req.no_cache());
  EXPECT_GT(req.max_tokens(), 0);
  ASSERT_EQ(req.messages_size(), 2);
  EXPECT_EQ(req.messages(0).role(), llm::ROLE_SYSTEM);
  EXPECT_THAT(req.messages(0).content(), HasSubstr("at most 3"));
  EXPECT_THAT(req.messages(0).content(), HasSubstr("JSON only"));
  EXPECT_EQ(req.messages(1).role(), llm::ROLE_USER);
  EXPECT_THAT(req.messages(1).content(), HasSubstr("Why did sign-ups drop in March?"));
  EXPECT_THAT(req.messages(1).content(), HasSubstr("The landing page changed on March 3."));
  EXPECT_THAT(req.messages(1).content(), HasSubstr("- h2 (prior 1): Seasonality"));
  EXPECT_THAT(req.messages(1).content(), HasSubstr("Traffic fell 30% on March 3"));
  EXPECT_EQ(router_.last_request_id, "req-42");
  // The caller's deadline reached the router (gRPC may round it a little).
  EXPECT_LE(router_.last_deadline, ctx_.deadline + absl::Milliseconds(50));
  EXPECT_GT(router_.last_deadline, ctx_.deadline - absl::Seconds(1));
}

TEST_F(ReasoningAssistRouterTest, RateSendsTheDraftAndParsesRatings) {
  router_.text =
      R"(Ratings follow. {"ratings":[{"hypothesis":"h1","likelihood":0.9},{"hypothesis":"h2","rating":"CONSISTENT_WEAK"},{"hypothesis":"h7","likelihood":0.5}]})";
  Evidence draft;
  draft.description = "Support tickets mention a broken form";
  draft.source = "https://support.example.com/t/1";
  auto r = client_->RateEvidence(TwoHypotheses(), draft, {}, ctx_);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->suggestions.size(), 2u);
  EXPECT_EQ(r->suggestions[0].rating.likelihood, 0.9);
  EXPECT_EQ(r->suggestions[1].rating.ach, AchRating::kConsistentWeak);
  EXPECT_EQ(r->dropped, 1);
  const llm::CompleteRequest& req = router_.last_request;
  EXPECT_FALSE(req.sensitive());
  EXPECT_THAT(req.messages(0).content(), HasSubstr(R"({"ratings":)"));
  EXPECT_THAT(req.messages(1).content(),
              HasSubstr("New evidence item to rate: Support tickets mention a broken form"));
  EXPECT_THAT(req.messages(1).content(), HasSubstr("Source: https://support.example.com/t/1"));
  EXPECT_THAT(req.messages(1).content(), HasSubstr("- h1 (prior 2): The new landing page"));
}

TEST_F(ReasoningAssistRouterTest, UnparsableAnswerIsUnavailableNamingTheModel) {
  router_.text = "echo: Question: Why did sign-ups drop in March?";
  auto r = client_->ProposeHypotheses(TwoHypotheses(), 3, {}, ctx_);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(r.status().message(), HasSubstr("models/sim-local: the model's answer held no JSON"));
}

TEST_F(ReasoningAssistRouterTest, RouterErrorsAreMapped) {
  struct Case {
    grpc::StatusCode router;
    absl::StatusCode want;
  };
  for (auto [router, want] : std::vector<Case>{
           {grpc::StatusCode::UNAVAILABLE, absl::StatusCode::kUnavailable},
           {grpc::StatusCode::FAILED_PRECONDITION, absl::StatusCode::kFailedPrecondition},
           {grpc::StatusCode::RESOURCE_EXHAUSTED, absl::StatusCode::kResourceExhausted},
           {grpc::StatusCode::INVALID_ARGUMENT, absl::StatusCode::kInternal},
           {grpc::StatusCode::INTERNAL, absl::StatusCode::kUnavailable},
       }) {
    router_.status = grpc::Status(router, "P0: no local model can take a sensitive request");
    auto r = client_->ProposeHypotheses(TwoHypotheses(), 3, {.sensitive = true}, ctx_);
    EXPECT_EQ(r.status().code(), want) << static_cast<int>(router);
    EXPECT_THAT(r.status().message(), HasSubstr("P0: no local model can take a sensitive request"));
  }
}

TEST_F(ReasoningAssistRouterTest, CallerDeadlineEndsTheCall) {
  router_.hang = true;
  CallContext ctx = CallContext::Background(absl::Milliseconds(300));
  auto r = client_->ProposeHypotheses(TwoHypotheses(), 3, {}, ctx);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_LT(absl::Now(), ctx.deadline + absl::Seconds(2));
}

TEST_F(ReasoningAssistRouterTest, MaxTimeoutCapsALongDeadline) {
  router_.hang = true;
  RouterSuggestionOptions options;
  options.max_timeout = absl::Milliseconds(300);
  auto client = MakeRouterSuggestionClient(Address(), grpc::InsecureChannelCredentials(), options);
  const absl::Time start = absl::Now();
  auto r = client->RateEvidence(TwoHypotheses(), Draft("x"), {}, ctx_);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
}

TEST_F(ReasoningAssistRouterTest, ExpiredDeadlineDoesNotCall) {
  CallContext ctx = ctx_;
  ctx.deadline = absl::Now() - absl::Seconds(1);
  auto r = client_->ProposeHypotheses(TwoHypotheses(), 3, {}, ctx);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(router_.calls, 0);
}

TEST_F(ReasoningAssistRouterTest, NoRouterListeningIsUnavailable) {
  server_->Shutdown(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
  server_->Wait();
  auto client = MakeRouterSuggestionClient(Address(), grpc::InsecureChannelCredentials());
  auto r =
      client->ProposeHypotheses(TwoHypotheses(), 3, {}, CallContext::Background(absl::Seconds(5)));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(r.status().message(), HasSubstr("LLM router unavailable"));
  server_.reset();
}

TEST_F(ReasoningAssistRouterTest, ThroughTheLogicNothingIsWritten) {
  ReasoningOptions options;
  Reasoning logic(std::make_unique<testing::FakeReasoningStore>(),
                  MakeRouterSuggestionClient(Address(), grpc::InsecureChannelCredentials()),
                  options);
  Case draft;
  draft.question = "Why did sign-ups drop?";
  draft.owner = "ana";
  auto created = logic.CreateCase(draft, ctx_);
  ASSERT_TRUE(created.ok()) << created.status();
  const std::string name = CaseName(created->id);
  Hypothesis h;
  h.statement = "Seasonality";
  ASSERT_TRUE(logic.CreateHypothesis(name, h, "", ctx_).ok());
  auto before = logic.GetCase(name, std::nullopt, ctx_);
  ASSERT_TRUE(before.ok());

  router_.text =
      R"({"hypotheses":[{"statement":"Tracking broke"},{"statement":"Bad","prior":-2}]})";
  auto hyps = logic.SuggestHypotheses(name, 0, {.sensitive = true}, ctx_);
  ASSERT_TRUE(hyps.ok()) << hyps.status();
  EXPECT_THAT(Statements(*hyps), ElementsAre("Tracking broke"));
  EXPECT_EQ(hyps->dropped, 1);
  EXPECT_EQ(hyps->model, "models/sim-local");
  EXPECT_TRUE(router_.last_request.sensitive());
  EXPECT_THAT(router_.last_request.messages(0).content(), HasSubstr("at most 5"));

  router_.text = R"({"ratings":[{"hypothesis":"h1","likelihood":0.2}]})";
  Evidence e;
  e.description = "Last March was flat";
  auto ratings = logic.SuggestRatings(name, e, {}, ctx_);
  ASSERT_TRUE(ratings.ok()) << ratings.status();
  ASSERT_EQ(ratings->suggestions.size(), 1u);
  EXPECT_EQ(ratings->suggestions[0].rating.likelihood, 0.2);

  auto after = logic.GetCase(name, std::nullopt, ctx_);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->version, before->version);
  EXPECT_EQ(after->hypotheses.size(), 1u);
  EXPECT_TRUE(after->evidence.empty());
}

}  // namespace
}  // namespace genesis::reasoning
