// The Reasoning logic on the fake store: input rules, the state machine, the
// decision rules, the audit trail, replay "as of", etags and LLM assist.
#include "services/reasoning/reasoning.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <tuple>

#include "common/base/status.h"
#include "services/reasoning/events.h"
#include "services/reasoning/tests/fake_store.h"

namespace genesis::reasoning {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

class FakeSuggestions final : public SuggestionClient {
 public:
  absl::StatusOr<HypothesisSuggestions> ProposeHypotheses(const Case& c, int max,
                                                          const AssistOptions& options,
                                                          const CallContext&) override {
    last_case = c.id;
    last_max = max;
    last_sensitive = options.sensitive;
    return HypothesisSuggestions{hypotheses, 1, "models/fake"};
  }
  absl::StatusOr<RatingSuggestions> RateEvidence(const Case& c, const Evidence& e,
                                                 const AssistOptions& options,
                                                 const CallContext&) override {
    last_case = c.id;
    last_description = e.description;
    last_sensitive = options.sensitive;
    return RatingSuggestions{ratings, 0, "models/fake"};
  }
  std::vector<HypothesisSuggestion> hypotheses;
  std::vector<RatingSuggestion> ratings;
  std::string last_case, last_description;
  int last_max = 0;
  bool last_sensitive = false;
};

class ReasoningTest : public ::testing::Test {
 protected:
  void SetUp() override { Make(nullptr); }

  void Make(std::unique_ptr<SuggestionClient> suggestions) {
    ReasoningOptions options;
    options.clock = &clock_;
    auto store = std::make_unique<testing::FakeReasoningStore>();
    store_ = store.get();
    logic_ = std::make_unique<Reasoning>(std::move(store), std::move(suggestions), options);
  }

  std::string NewCase() {
    Case c;
    c.question = "Why did sign-ups drop?";
    c.owner = "ana";
    auto r = logic_->CreateCase(c, ctx_);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? CaseName(r->id) : "";
  }

  std::string AddHypothesis(const std::string& name, const std::string& statement,
                            double prior = 1.0) {
    Hypothesis h;
    h.statement = statement;
    h.prior = prior;
    auto r = logic_->CreateHypothesis(name, h, "", ctx_);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? r->hypotheses.back().id : "";
  }

  absl::StatusOr<Case> AddEvidence(const std::string& name,
                                   std::vector<std::pair<std::string, double>> likelihoods,
                                   double reliability = 1.0) {
    Evidence e;
    e.description = "observation";
    e.source = "https://example.com/report";
    e.reliability = reliability;
    for (auto& [h, l] : likelihoods) e.ratings.push_back({h, l, AchRating::kUnspecified});
    return logic_->CreateEvidence(name, e, "", ctx_);
  }

  static std::vector<std::string> Fields(const absl::Status& st) {
    std::vector<std::string> out;
    for (auto& [f, d] : FieldViolationsOf(st)) out.push_back(f);
    return out;
  }

  ManualClock clock_{absl::FromUnixSeconds(1'800'000'000)};
  CallContext ctx_ = CallContext::Background();
  testing::FakeReasoningStore* store_;
  std::unique_ptr<Reasoning> logic_;
};

TEST_F(ReasoningTest, CreateCaseRequiresQuestionAndOwner) {
  auto r = logic_->CreateCase(Case{}, ctx_);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Fields(r.status()), ElementsAre("case.question", "case.owner"));
  const std::string name = NewCase();
  auto got = logic_->GetCase(name, std::nullopt, ctx_);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->state, CaseState::kOpen);
  EXPECT_EQ(got->creator, "anonymous");
  EXPECT_EQ(got->version, 1);
  EXPECT_EQ(logic_->GetCase("cases/nope", std::nullopt, ctx_).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(logic_->GetCase("bad", std::nullopt, ctx_).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(ReasoningTest, BadInputNamesTheField) {
  const std::string name = NewCase();
  const std::string h1 = AddHypothesis(name, "A");
  Hypothesis negative;
  negative.statement = "B";
  negative.prior = -0.5;
  auto h = logic_->CreateHypothesis(name, negative, "", ctx_);
  EXPECT_EQ(h.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Fields(h.status()), ElementsAre("hypothesis.prior"));

  auto over = AddEvidence(name, {{h1, 1.5}});
  EXPECT_EQ(over.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Fields(over.status()), ElementsAre("evidence.ratings[0].likelihood"));

  auto unknown = AddEvidence(name, {{h1, 0.5}, {"h9", 0.5}});
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Fields(unknown.status()), ElementsAre("evidence.ratings[1].hypothesis"));
  EXPECT_THAT(unknown.status().message(), HasSubstr("'h9' is not a hypothesis of"));

  auto twice = AddEvidence(name, {{h1, 0.5}, {name + "/hypotheses/" + h1, 0.5}});
  EXPECT_THAT(Fields(twice.status()), ElementsAre("evidence.ratings[1].hypothesis"));

  auto unreliable = AddEvidence(name, {{h1, 0.5}}, 1.2);
  EXPECT_THAT(Fields(unreliable.status()), ElementsAre("evidence.reliability"));
  auto missing = AddEvidence(name, {{h1, 0.5}}, std::nan(""));
  EXPECT_THAT(Fields(missing.status()), ElementsAre("evidence.reliability"));

  Evidence bad_source;
  bad_source.description = "x";
  bad_source.reliability = 1;
  bad_source.source = "not a uri";
  EXPECT_THAT(Fields(logic_->CreateEvidence(name, bad_source, "", ctx_).status()),
              ElementsAre("evidence.source"));
  bad_source.source = "items/0193";
  EXPECT_TRUE(logic_->CreateEvidence(name, bad_source, "", ctx_).ok());

  Evidence no_value;
  no_value.description = "x";
  no_value.reliability = 1;
  no_value.ratings.push_back({h1, std::nullopt, AchRating::kUnspecified});
  EXPECT_THAT(Fields(logic_->CreateEvidence(name, no_value, "", ctx_).status()),
              ElementsAre("evidence.ratings[0]"));
}

TEST_F(ReasoningTest, EvidenceAcceptsFullNamesAndAchRatings) {
  const std::string name = NewCase();
  const std::string h1 = AddHypothesis(name, "A");
  const std::string h2 = AddHypothesis(name, "B");
  Evidence e;
  e.description = "the logs";
  e.reliability = 1;
  e.ratings = {{name + "/hypotheses/" + h1, std::nullopt, AchRating::kConsistentStrong},
               {h2, std::nullopt, AchRating::kInconsistentStrong}};
  auto added = logic_->CreateEvidence(name, e, "", ctx_);
  ASSERT_TRUE(added.ok()) << added.status();
  EXPECT_EQ(added->evidence.back().id, "e1");
  EXPECT_EQ(added->evidence.back().ratings[0].hypothesis_id, "h1");
  EXPECT_EQ(added->evidence.back().observe_time, clock_.Now());
  auto inf = logic_->InferCase(name, std::nullopt, ctx_);
  ASSERT_TRUE(inf.ok()) << inf.status();
  EXPECT_NEAR(inf->result.posterior[0], 0.9, 1e-12);  // 0.9 / (0.9 + 0.1)
}

TEST_F(ReasoningTest, OnlyOneNoneOfTheseHypothesis) {
  const std::string name = NewCase();
  Hypothesis none;
  none.none_of_these = true;
  auto first = logic_->CreateHypothesis(name, none, "", ctx_);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->hypotheses.back().statement, "None of these");
  auto second = logic_->CreateHypothesis(name, none, "", ctx_);
  EXPECT_THAT(Fields(second.status()), ElementsAre("hypothesis.none_of_these"));
}

TEST_F(ReasoningTest, DecisionRules) {
  const std::string name = NewCase();
  const std::string h1 = AddHypothesis(name, "A");
  const std::string h2 = AddHypothesis(name, "B");
  ASSERT_TRUE(AddEvidence(name, {{h1, 0.8}, {h2, 0.2}}).ok());

  DecideParams p{h2, "gut feeling", std::nullopt, "", ""};
  auto refused = logic_->DecideCase(name, p, ctx_);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(refused.status().message(), HasSubstr("hypothesis: "));
  EXPECT_THAT(refused.status().message(), HasSubstr("override_reason"));

  p.hypothesis = "h7";
  EXPECT_THAT(Fields(logic_->DecideCase(name, p, ctx_).status()), ElementsAre("hypothesis"));
  p.hypothesis = h1;
  p.rationale = "";
  EXPECT_THAT(Fields(logic_->DecideCase(name, p, ctx_).status()), ElementsAre("rationale"));
  p.rationale = "the evidence";
  p.confidence = 1.5;
  EXPECT_THAT(Fields(logic_->DecideCase(name, p, ctx_).status()), ElementsAre("confidence"));
  p.confidence.reset();

  auto decided = logic_->DecideCase(name, p, ctx_);
  ASSERT_TRUE(decided.ok()) << decided.status();
  EXPECT_EQ(decided->state, CaseState::kDecided);
  ASSERT_EQ(decided->decisions.size(), 1u);
  EXPECT_EQ(decided->decisions[0].hypothesis_id, "h1");
  EXPECT_EQ(decided->decisions[0].leading_hypothesis_id, "h1");
  EXPECT_NEAR(decided->decisions[0].confidence, 0.8, 1e-12);  // defaults to the posterior

  // A decided case takes no evidence, no second decision, and can be closed.
  auto late = AddEvidence(name, {{h1, 0.5}});
  EXPECT_EQ(late.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(late.status().message(), HasSubstr("DECIDED"));
  EXPECT_EQ(logic_->DecideCase(name, p, ctx_).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(logic_->ReopenCase(name, "", "", ctx_).status().code(),
            absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(logic_->CloseCase(name, "", ctx_).ok());
  EXPECT_EQ(logic_->CloseCase(name, "", ctx_).status().code(),
            absl::StatusCode::kFailedPrecondition);

  // Reopened, the override path records the reason; the first decision stays as it was.
  ASSERT_TRUE(logic_->ReopenCase(name, "new data arrived", "", ctx_).ok());
  EXPECT_EQ(logic_->ReopenCase(name, "again", "", ctx_).status().code(),
            absl::StatusCode::kFailedPrecondition);
  DecideParams o{name + "/hypotheses/h2", "policy says B", 0.3, "regulator requires B", ""};
  auto overridden = logic_->DecideCase(name, o, ctx_);
  ASSERT_TRUE(overridden.ok()) << overridden.status();
  ASSERT_EQ(overridden->decisions.size(), 2u);
  EXPECT_EQ(overridden->decisions[0].hypothesis_id, "h1");
  EXPECT_EQ(overridden->decisions[0].rationale, "the evidence");
  EXPECT_EQ(overridden->decisions[1].hypothesis_id, "h2");
  EXPECT_EQ(overridden->decisions[1].leading_hypothesis_id, "h1");
  EXPECT_EQ(overridden->decisions[1].override_reason, "regulator requires B");
  EXPECT_EQ(overridden->decisions[1].confidence, 0.3);
}

TEST_F(ReasoningTest, TiedHypothesisCountsAsLeading) {
  const std::string name = NewCase();
  AddHypothesis(name, "A");
  const std::string h2 = AddHypothesis(name, "B");
  auto r = logic_->DecideCase(name, {h2, "coin toss", std::nullopt, "", ""}, ctx_);
  EXPECT_TRUE(r.ok()) << r.status();
}

TEST_F(ReasoningTest, ImpossibleInferenceNeedsAnOverride) {
  const std::string name = NewCase();
  const std::string h1 = AddHypothesis(name, "A");
  const std::string h2 = AddHypothesis(name, "B");
  ASSERT_TRUE(AddEvidence(name, {{h1, 0.0}, {h2, 0.0}}).ok());
  auto inf = logic_->InferCase(name, std::nullopt, ctx_);
  EXPECT_EQ(inf.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(inf.status().message(), HasSubstr("evidence/e1"));
  EXPECT_EQ(logic_->DecideCase(name, {h1, "r", std::nullopt, "", ""}, ctx_).status().code(),
            absl::StatusCode::kFailedPrecondition);
  auto forced = logic_->DecideCase(name, {h1, "r", 0.5, "the data is broken", ""}, ctx_);
  ASSERT_TRUE(forced.ok()) << forced.status();
  EXPECT_EQ(forced->decisions[0].leading_hypothesis_id, "");
}

TEST_F(ReasoningTest, CloseNeedsADecision) {
  const std::string name = NewCase();
  auto r = logic_->CloseCase(name, "", ctx_);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(r.status().message(), HasSubstr("decide it"));
}

TEST_F(ReasoningTest, StaleEtagIsAborted) {
  const std::string name = NewCase();
  Hypothesis h;
  h.statement = "A";
  EXPECT_TRUE(logic_->CreateHypothesis(name, h, "1", ctx_).ok());
  auto stale = logic_->CreateHypothesis(name, h, "1", ctx_);
  EXPECT_EQ(stale.status().code(), absl::StatusCode::kAborted);
  EXPECT_TRUE(logic_->CreateHypothesis(name, h, "2", ctx_).ok());
}

TEST_F(ReasoningTest, CreatesWithARequestIdAreSafeToRetry) {
  Case c;
  c.question = "Why did churn rise?";
  c.owner = "ana";
  auto first = logic_->CreateCase(c, "case-req-1", ctx_);
  ASSERT_TRUE(first.ok()) << first.status();
  auto again = logic_->CreateCase(c, "case-req-1", ctx_);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->id, first->id);
  EXPECT_EQ(store_->CaseCount(), 1u);
  Case other = c;
  other.question = "Something else?";
  EXPECT_EQ(ReasonOf(logic_->CreateCase(other, "case-req-1", ctx_).status()), "REQUEST_ID_REUSED");

  const std::string name = CaseName(first->id);
  Hypothesis h;
  h.statement = "Prices went up";
  h.prior = 1;
  auto added = logic_->CreateHypothesis(name, h, "", "hyp-req-1", ctx_);
  ASSERT_TRUE(added.ok()) << added.status();
  AddHypothesis(name, "Competitor launched");
  // The retry returns the hypothesis the first attempt added, not the newest, and adds none.
  auto retried = logic_->CreateHypothesis(name, h, "", "hyp-req-1", ctx_);
  ASSERT_TRUE(retried.ok()) << retried.status();
  EXPECT_EQ(retried->hypotheses.back().id, added->hypotheses.back().id);
  EXPECT_EQ(retried->hypotheses.back().statement, "Prices went up");
  auto now = logic_->GetCase(name, std::nullopt, ctx_);
  ASSERT_TRUE(now.ok());
  EXPECT_EQ(now->hypotheses.size(), 2u);
  h.statement = "Different";
  EXPECT_EQ(ReasonOf(logic_->CreateHypothesis(name, h, "", "hyp-req-1", ctx_).status()),
            "REQUEST_ID_REUSED");

  Evidence e;
  e.description = "survey";
  e.source = "https://example.com/survey";
  e.reliability = 0.9;
  e.ratings = {{added->hypotheses.back().id, 0.8, AchRating::kUnspecified}};
  auto ev = logic_->CreateEvidence(name, e, "", "ev-req-1", ctx_);
  ASSERT_TRUE(ev.ok()) << ev.status();
  auto ev_again = logic_->CreateEvidence(name, e, "", "ev-req-1", ctx_);
  ASSERT_TRUE(ev_again.ok()) << ev_again.status();
  EXPECT_EQ(ev_again->evidence.size(), 1u);
  EXPECT_EQ(Fields(logic_->CreateEvidence(name, e, "", std::string(129, 'z'), ctx_).status()),
            std::vector<std::string>{"request_id"});
}

// AIP-158: an oversized page_size is clamped to the maximum, on every list.
TEST_F(ReasoningTest, EveryListClampsAnOversizedPageSize) {
  const std::string name = NewCase();
  auto cases = logic_->ListCases(1 << 30, "", ctx_);
  ASSERT_TRUE(cases.ok()) << cases.status();
  EXPECT_EQ(cases->values.size(), 1u);
  auto events = logic_->ListCaseEvents(name, 1 << 30, "", ctx_);
  ASSERT_TRUE(events.ok()) << events.status();
  EXPECT_EQ(events->values.size(), 1u);
}

// Each error names its specific reason (README.md, "Error reasons").
TEST_F(ReasoningTest, ErrorsNameTheirReason) {
  auto missing = logic_->GetCase("cases/nope", std::nullopt, ctx_);
  EXPECT_EQ(ReasonOf(missing.status()), "CASE_NOT_FOUND");
  EXPECT_EQ(ErrorInfoOf(missing.status())->metadata().at("case"), "cases/nope");
  Hypothesis h;
  h.statement = "A";
  EXPECT_EQ(ReasonOf(logic_->CreateHypothesis("cases/nope", h, "", ctx_).status()),
            "CASE_NOT_FOUND");
  const std::string name = NewCase();
  EXPECT_EQ(ReasonOf(logic_->CloseCase(name, "", ctx_).status()), "CASE_STATE_CONFLICT");
  EXPECT_EQ(ReasonOf(logic_->CreateHypothesis(name, h, "9", ctx_).status()), "ETAG_MISMATCH");
  EXPECT_EQ(ReasonOf(logic_->InferCase(name, std::nullopt, ctx_).status()), "NO_HYPOTHESES");
}

TEST_F(ReasoningTest, UpdateCaseChangesOnlyMaskedFields) {
  const std::string name = NewCase();
  Case fields;
  fields.context = "March numbers";
  fields.question = "ignored";
  auto r = logic_->UpdateCase(name, fields, {"context"}, "", ctx_);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->context, "March numbers");
  EXPECT_EQ(r->question, "Why did sign-ups drop?");
  EXPECT_EQ(logic_->UpdateCase(name, fields, {"state"}, "", ctx_).status().code(),
            absl::StatusCode::kInvalidArgument);
  fields.owner = "";
  EXPECT_THAT(Fields(logic_->UpdateCase(name, fields, {"owner"}, "", ctx_).status()),
              ElementsAre("case.owner"));
}

TEST_F(ReasoningTest, AuditTrailRecordsWhoWhenWhat) {
  CallContext bob = CallContext::Background();
  bob.subject = "bob@example.com";
  Case c;
  c.question = "Q";
  c.owner = "bob";
  auto created = logic_->CreateCase(c, bob);
  ASSERT_TRUE(created.ok());
  const std::string name = CaseName(created->id);
  clock_.Advance(absl::Minutes(1));
  const std::string h1 = AddHypothesis(name, "A");  // anonymous
  clock_.Advance(absl::Minutes(1));
  ASSERT_TRUE(AddEvidence(name, {{h1, 0.7}}).ok());
  clock_.Advance(absl::Minutes(1));
  ASSERT_TRUE(logic_->DecideCase(name, {h1, "only one", std::nullopt, "", ""}, bob).ok());

  auto events = logic_->ListCaseEvents(name, 0, "", ctx_);
  ASSERT_TRUE(events.ok()) << events.status();
  std::vector<std::pair<std::string, std::string>> got;
  for (const auto& e : events->values) got.emplace_back(EventTypeName(e.type), e.actor);
  EXPECT_THAT(
      got,
      ElementsAre(Pair("CASE_CREATED", "bob@example.com"), Pair("HYPOTHESIS_ADDED", "anonymous"),
                  Pair("EVIDENCE_ADDED", "anonymous"), Pair("DECIDED", "bob@example.com")));
  EXPECT_EQ(events->values[1].time, absl::FromUnixSeconds(1'800'000'060));
  EXPECT_EQ(events->values[3].data["rationale"], "only one");
  EXPECT_EQ(events->values[3].version, 4);

  // Pages of two.
  auto p1 = logic_->ListCaseEvents(name, 2, "", ctx_);
  ASSERT_TRUE(p1.ok());
  ASSERT_EQ(p1->values.size(), 2u);
  auto p2 = logic_->ListCaseEvents(name, 2, p1->next_page_token, ctx_);
  ASSERT_TRUE(p2.ok());
  EXPECT_EQ(p2->values[0].version, 3);
  EXPECT_TRUE(p2->next_page_token.empty());
  EXPECT_EQ(logic_->ListCaseEvents("cases/other", 2, p1->next_page_token, ctx_).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(ReasoningTest, ReplayAsOfShowsThePast) {
  const absl::Time t0 = clock_.Now();
  const std::string name = NewCase();
  clock_.Advance(absl::Minutes(1));
  const std::string h1 = AddHypothesis(name, "A");
  const std::string h2 = AddHypothesis(name, "B");
  clock_.Advance(absl::Minutes(1));
  const absl::Time t_before_evidence = clock_.Now() - absl::Seconds(1);
  ASSERT_TRUE(AddEvidence(name, {{h1, 0.9}, {h2, 0.1}}).ok());
  clock_.Advance(absl::Minutes(1));
  ASSERT_TRUE(logic_->DecideCase(name, {h1, "clear", std::nullopt, "", ""}, ctx_).ok());

  EXPECT_EQ(logic_->GetCase(name, t0 - absl::Seconds(1), ctx_).status().code(),
            absl::StatusCode::kNotFound);
  auto at0 = logic_->GetCase(name, t0, ctx_);
  ASSERT_TRUE(at0.ok()) << at0.status();
  EXPECT_TRUE(at0->hypotheses.empty());
  EXPECT_EQ(at0->version, 1);

  auto before = logic_->GetCase(name, t_before_evidence, ctx_);
  ASSERT_TRUE(before.ok());
  EXPECT_EQ(before->hypotheses.size(), 2u);
  EXPECT_TRUE(before->evidence.empty());
  EXPECT_EQ(before->state, CaseState::kOpen);
  auto inferred_then = logic_->InferCase(name, t_before_evidence, ctx_);
  ASSERT_TRUE(inferred_then.ok());
  EXPECT_NEAR(inferred_then->result.posterior[0], 0.5, 1e-12);

  // Replaying everything gives exactly the stored state.
  auto now_state = logic_->GetCase(name, std::nullopt, ctx_);
  auto replayed = logic_->GetCase(name, clock_.Now(), ctx_);
  ASSERT_TRUE(now_state.ok() && replayed.ok());
  EXPECT_EQ(replayed->version, now_state->version);
  EXPECT_EQ(replayed->state, CaseState::kDecided);
  EXPECT_EQ(replayed->evidence.size(), 1u);
  EXPECT_EQ(replayed->decisions.size(), 1u);
  EXPECT_EQ(replayed->update_time, now_state->update_time);
}

TEST_F(ReasoningTest, ListCasesPages) {
  for (int i = 0; i < 3; ++i) NewCase();
  auto p1 = logic_->ListCases(2, "", ctx_);
  ASSERT_TRUE(p1.ok());
  EXPECT_EQ(p1->values.size(), 2u);
  auto p2 = logic_->ListCases(2, p1->next_page_token, ctx_);
  ASSERT_TRUE(p2.ok());
  EXPECT_EQ(p2->values.size(), 1u);
  EXPECT_TRUE(p2->next_page_token.empty());
  EXPECT_EQ(logic_->ListCases(2, "garbage", ctx_).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(ReasoningTest, AssistIsNotConfiguredByDefault) {
  const std::string name = NewCase();
  auto r = logic_->SuggestHypotheses(name, 3, {}, ctx_);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(r.status().message(), HasSubstr("LLM assist is not configured"));
}

TEST_F(ReasoningTest, AssistSuggestsButNeverWrites) {
  auto fake = std::make_unique<FakeSuggestions>();
  FakeSuggestions* suggestions = fake.get();
  Make(std::move(fake));
  const std::string name = NewCase();
  const std::string h1 = AddHypothesis(name, "A");
  suggestions->hypotheses = {{"Seasonality", 1.0, "March is slow"}, {"", 1.0, "empty: dropped"}};
  for (auto [id, l, why] : {std::tuple<const char*, double, const char*>{"h1", 0.8, "fits"},
                            {"h9", 0.8, "unknown: dropped"},
                            {"h1", 1.7, "out of range: dropped"}}) {
    RatingSuggestion s;
    s.rating.hypothesis_id = id;
    s.rating.likelihood = l;
    s.explanation = why;
    suggestions->ratings.push_back(s);
  }
  auto before = logic_->GetCase(name, std::nullopt, ctx_);

  auto hyps = logic_->SuggestHypotheses(name, 0, {.sensitive = true}, ctx_);
  ASSERT_TRUE(hyps.ok()) << hyps.status();
  ASSERT_EQ(hyps->suggestions.size(), 1u);
  EXPECT_EQ(hyps->suggestions[0].statement, "Seasonality");
  EXPECT_EQ(hyps->dropped, 2);  // 1 by the client, the empty statement by the logic
  EXPECT_EQ(hyps->model, "models/fake");
  EXPECT_EQ(suggestions->last_max, 5);
  EXPECT_TRUE(suggestions->last_sensitive);

  Evidence draft;
  draft.description = "Traffic fell 30%";
  auto ratings = logic_->SuggestRatings(name, draft, {}, ctx_);
  ASSERT_TRUE(ratings.ok()) << ratings.status();
  ASSERT_EQ(ratings->suggestions.size(), 1u);
  EXPECT_EQ(ratings->suggestions[0].rating.hypothesis_id, h1);
  EXPECT_EQ(ratings->dropped, 2);
  EXPECT_EQ(suggestions->last_description, "Traffic fell 30%");
  EXPECT_FALSE(suggestions->last_sensitive);

  auto after = logic_->GetCase(name, std::nullopt, ctx_);
  EXPECT_EQ(after->version, before->version);
  EXPECT_EQ(after->hypotheses.size(), 1u);
  EXPECT_THAT(Fields(logic_->SuggestRatings(name, Evidence{}, {}, ctx_).status()),
              ElementsAre("evidence.description"));
}

}  // namespace
}  // namespace genesis::reasoning
