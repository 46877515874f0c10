// The Reasoning service on real PostgreSQL (label `pg`): migrations, the
// store's SQL, the projection agreeing with the replayed events, exact times
// for "as of", optimistic concurrency and the append-only audit trail. Each
// test gets a fresh database.
#include "services/reasoning/pg_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "absl/strings/str_cat.h"
#include "common/base/status.h"
#include "common/storage/migrations.h"
#include "services/reasoning/events.h"
#include "services/reasoning/reasoning.h"
#include "tests/testing/test_database.h"

namespace genesis {
std::vector<Migration> ReasoningMigrations();
}

namespace genesis::reasoning {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class ReasoningPgTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = genesis::testing::TestDatabase::Create();
    if (!db_) GTEST_SKIP() << "GENESIS_TEST_PG_DSN not set (scripts/test.sh sets it)";
    ASSERT_TRUE(ApplyMigrations(db_->dsn(), "reasoning", ReasoningMigrations()).ok());
    PgPoolOptions options;
    options.dsn = db_->dsn();
    options.size = 4;
    pool_ = std::make_unique<PgPool>(options, nullptr);
    auto store = std::make_unique<PgReasoningStore>(pool_.get());
    store_ = store.get();
    ReasoningOptions ro;
    // Microsecond-precise, odd times: the store must keep them exactly.
    ro.clock = &clock_;
    logic_ = std::make_unique<Reasoning>(std::move(store), nullptr, ro);
  }

  std::string NewCase() {
    Case c;
    c.question = "Qual hipótese? \"quotes\" \\ 100%";
    c.owner = "ana";
    c.context = "contexto\ncom linhas";
    auto r = logic_->CreateCase(c, ctx_);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? CaseName(r->id) : "";
  }

  void Tick() { clock_.Advance(absl::Microseconds(1'234'567)); }

  ManualClock clock_{absl::FromUnixMicros(1'800'000'000'123'457)};
  CallContext ctx_ = CallContext::Background();
  std::unique_ptr<genesis::testing::TestDatabase> db_;
  std::unique_ptr<PgPool> pool_;
  PgReasoningStore* store_ = nullptr;
  std::unique_ptr<Reasoning> logic_;
};

TEST(RatingsCodecTest, RoundTripsExactly) {
  std::vector<Rating> ratings = {{"h1", 0.1 + 0.2, AchRating::kUnspecified},
                                 {"h2", std::nullopt, AchRating::kInconsistentStrong},
                                 {"h3", 0.0, AchRating::kUnspecified},
                                 {"h4", 1.0, AchRating::kUnspecified}};
  const std::string text = EncodeRatings(ratings);
  EXPECT_EQ(text, "h1=0.30000000000000004;h2=INCONSISTENT_STRONG;h3=0;h4=1");
  auto back = DecodeRatings(text);
  ASSERT_TRUE(back.ok()) << back.status();
  ASSERT_EQ(back->size(), 4u);
  EXPECT_EQ(*(*back)[0].likelihood, 0.1 + 0.2);
  EXPECT_EQ((*back)[1].ach, AchRating::kInconsistentStrong);
  EXPECT_FALSE((*back)[1].likelihood.has_value());
  EXPECT_TRUE(DecodeRatings("").ok());
  EXPECT_EQ(DecodeRatings("h1=x1").status().code(), absl::StatusCode::kInternal);
}

TEST_F(ReasoningPgTest, WholeLifecycleAndReplayAgreeWithTheProjection) {
  const std::string name = NewCase();
  Tick();
  Hypothesis h;
  h.statement = "A";
  h.prior = 2;
  ASSERT_TRUE(logic_->CreateHypothesis(name, h, "", ctx_).ok());
  h.statement = "";
  h.none_of_these = true;
  h.prior = 0.5;
  ASSERT_TRUE(logic_->CreateHypothesis(name, h, "", ctx_).ok());
  Tick();
  const absl::Time before_evidence = clock_.Now() - absl::Microseconds(1);
  Evidence e;
  e.description = "relatório";
  e.source = "items/0193abc";
  e.reliability = 0.75;
  e.observe_time = absl::FromUnixMicros(1'700'000'000'000'001);
  e.ratings = {{"h1", 0.1 + 0.2, AchRating::kUnspecified},
               {name + "/hypotheses/h2", std::nullopt, AchRating::kConsistentStrong}};
  auto added = logic_->CreateEvidence(name, e, "", ctx_);
  ASSERT_TRUE(added.ok()) << added.status();
  const absl::Time evidence_time = clock_.Now();
  Tick();
  auto inferred = logic_->InferCase(name, std::nullopt, ctx_);
  ASSERT_TRUE(inferred.ok()) << inferred.status();
  const std::string leading = inferred->state.hypotheses[inferred->result.leading].id;
  ASSERT_TRUE(logic_->DecideCase(name, {leading, "porque sim", std::nullopt, "", ""}, ctx_).ok());
  Tick();
  ASSERT_TRUE(logic_->CloseCase(name, "", ctx_).ok());
  Tick();
  CallContext carol = CallContext::Background();
  carol.subject = "carol";
  auto reopened = logic_->ReopenCase(name, "auditoria", "", carol);
  ASSERT_TRUE(reopened.ok()) << reopened.status();

  auto stored = logic_->GetCase(name, std::nullopt, ctx_);
  ASSERT_TRUE(stored.ok()) << stored.status();
  auto replayed = logic_->GetCase(name, clock_.Now(), ctx_);
  ASSERT_TRUE(replayed.ok()) << replayed.status();
  for (const Case* c : {&*stored, &*replayed, &*reopened}) {
    EXPECT_EQ(c->question, "Qual hipótese? \"quotes\" \\ 100%");
    EXPECT_EQ(c->context, "contexto\ncom linhas");
    EXPECT_EQ(c->state, CaseState::kOpen);
    EXPECT_EQ(c->version, 7);
    EXPECT_EQ(c->update_time, clock_.Now());
    ASSERT_EQ(c->hypotheses.size(), 2u);
    EXPECT_EQ(c->hypotheses[1].statement, "None of these");
    EXPECT_TRUE(c->hypotheses[1].none_of_these);
    EXPECT_EQ(c->hypotheses[1].prior, 0.5);
    ASSERT_EQ(c->evidence.size(), 1u);
    EXPECT_EQ(c->evidence[0].observe_time, e.observe_time);
    EXPECT_EQ(c->evidence[0].create_time, evidence_time);
    EXPECT_EQ(c->evidence[0].source, "items/0193abc");
    EXPECT_EQ(*c->evidence[0].ratings[0].likelihood, 0.1 + 0.2);
    EXPECT_EQ(c->evidence[0].ratings[1].hypothesis_id, "h2");
    EXPECT_EQ(c->evidence[0].ratings[1].ach, AchRating::kConsistentStrong);
    ASSERT_EQ(c->decisions.size(), 1u);
    EXPECT_EQ(c->decisions[0].rationale, "porque sim");
    EXPECT_EQ(c->decisions[0].posterior, inferred->result.posterior[inferred->result.leading]);
  }

  // "As of" an event's exact time includes it; a microsecond before does not.
  auto at_evidence = logic_->GetCase(name, evidence_time, ctx_);
  ASSERT_TRUE(at_evidence.ok());
  EXPECT_EQ(at_evidence->evidence.size(), 1u);
  EXPECT_TRUE(at_evidence->decisions.empty());
  auto before = logic_->GetCase(name, before_evidence, ctx_);
  ASSERT_TRUE(before.ok());
  EXPECT_TRUE(before->evidence.empty());
  EXPECT_EQ(before->hypotheses.size(), 2u);

  auto events = logic_->ListCaseEvents(name, 0, "", ctx_);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->values.size(), 7u);
  EXPECT_EQ(events->values[6].actor, "carol");
  EXPECT_EQ(events->values[6].data["reason"], "auditoria");
  EXPECT_EQ(EventTypeName(events->values[4].type), std::string("DECIDED"));

  auto list = logic_->ListCases(10, "", ctx_);
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->values.size(), 1u);
  EXPECT_TRUE(list->values[0].evidence.empty());
  EXPECT_EQ(list->values[0].version, 7);
}

TEST_F(ReasoningPgTest, StaleVersionIsAbortedAndMissingCaseNotFound) {
  const std::string name = NewCase();
  auto c = logic_->GetCase(name, std::nullopt, ctx_);
  ASSERT_TRUE(c.ok());
  Hypothesis h;
  h.statement = "A";
  ASSERT_TRUE(logic_->CreateHypothesis(name, h, "", ctx_).ok());
  // A writer that read version 1 appends as if it were still current.
  Event late;
  late.case_id = c->id;
  late.version = 2;
  late.type = EventType::kClosed;
  late.actor = "x";
  late.time = clock_.Now();
  Case after = *c;
  ASSERT_TRUE(Apply(late, &after).ok());
  EXPECT_EQ(store_->Append(late, after, ctx_).code(), absl::StatusCode::kAborted);
  late.case_id = after.id = "missing";
  EXPECT_EQ(store_->Append(late, after, ctx_).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(logic_->GetCase("cases/missing", std::nullopt, ctx_).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(logic_->ListCaseEvents("cases/missing", 0, "", ctx_).status().code(),
            absl::StatusCode::kNotFound);
}

// Retried creates (same request_id) return the first result and append no event.
TEST_F(ReasoningPgTest, RequestIdsMakeCreatesSafeToRetry) {
  Case c;
  c.question = "Why?";
  c.owner = "ana";
  auto first = logic_->CreateCase(c, "pg-case-1", ctx_);
  ASSERT_TRUE(first.ok()) << first.status();
  Tick();
  auto again = logic_->CreateCase(c, "pg-case-1", ctx_);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->id, first->id);
  EXPECT_EQ(again->create_time, first->create_time);
  const std::string name = CaseName(first->id);
  Hypothesis h;
  h.statement = "A";
  h.prior = 1;
  ASSERT_TRUE(logic_->CreateHypothesis(name, h, "", "pg-hyp-1", ctx_).ok());
  auto retried = logic_->CreateHypothesis(name, h, "", "pg-hyp-1", ctx_);
  ASSERT_TRUE(retried.ok()) << retried.status();
  EXPECT_EQ(retried->hypotheses.size(), 1u);
  auto count =
      pool_->ReadOnly(ctx_.deadline, [&](pqxx::read_transaction& tx) -> absl::StatusOr<int64_t> {
        return tx.exec1("SELECT count(*) FROM reasoning.case_events")[0].as<int64_t>();
      });
  ASSERT_TRUE(count.ok()) << count.status();
  EXPECT_EQ(*count, 2);  // created + one hypothesis
  c.owner = "bia";
  EXPECT_EQ(ReasonOf(logic_->CreateCase(c, "pg-case-1", ctx_).status()), "REQUEST_ID_REUSED");
}

TEST_F(ReasoningPgTest, AuditTrailIsAppendOnly) {
  const std::string name = NewCase();
  const std::string id = name.substr(6);
  auto st = pool_->Transaction(ctx_.deadline, [&](pqxx::work& tx) -> absl::Status {
    tx.exec_params("UPDATE reasoning.case_events SET actor = 'mallory' WHERE case_id = $1", id);
    return absl::OkStatus();
  });
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition) << st;
  // The trigger's own words stay in the log: callers never get database text.
  EXPECT_THAT(st.message(), Not(HasSubstr("case_events")));
  st = pool_->Transaction(ctx_.deadline, [&](pqxx::work& tx) -> absl::Status {
    tx.exec_params("DELETE FROM reasoning.case_events WHERE case_id = $1", id);
    return absl::OkStatus();
  });
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition) << st;
  auto events = logic_->ListCaseEvents(name, 0, "", ctx_);
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_FALSE(events->values.empty());
  for (const auto& e : events->values) EXPECT_NE(e.actor, "mallory");
}

TEST_F(ReasoningPgTest, InfersAThousandItemsLoadedFromPostgres) {
  const std::string name = NewCase();
  for (int i = 0; i < 5; ++i) {
    Hypothesis h;
    h.statement = absl::StrCat("H", i);
    ASSERT_TRUE(logic_->CreateHypothesis(name, h, "", ctx_).ok());
  }
  const std::string id = name.substr(6);
  auto c = logic_->GetCase(name, std::nullopt, ctx_);
  ASSERT_TRUE(c.ok());
  // Appending through the store directly keeps the test fast; the logic's
  // path is covered above.
  Case state = *c;
  for (int i = 0; i < 1000; ++i) {
    Evidence e;
    e.id = absl::StrCat("e", i + 1);
    e.description = "item";
    e.reliability = 0.9;
    e.observe_time = clock_.Now();
    for (int h = 0; h < 5; ++h) {
      e.ratings.push_back({absl::StrCat("h", h + 1), h == 0 ? 0.55 : 0.5, AchRating::kUnspecified});
    }
    Event ev{id,      state.version + 1, EventType::kEvidenceAdded,
             "bench", clock_.Now(),      EvidenceData(e)};
    ASSERT_TRUE(Apply(ev, &state).ok());
    ASSERT_TRUE(store_->Append(ev, state, ctx_).ok());
  }
  auto inferred = logic_->InferCase(name, std::nullopt, ctx_);
  ASSERT_TRUE(inferred.ok()) << inferred.status();
  EXPECT_EQ(inferred->state.evidence.size(), 1000u);
  EXPECT_EQ(inferred->result.leading, 0u);
  for (double p : inferred->result.posterior) EXPECT_FALSE(std::isnan(p));
}

}  // namespace
}  // namespace genesis::reasoning
