// The mathematics against hand-computed cases (inference.h gives the definitions).
#include "services/reasoning/inference.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace genesis::reasoning {
namespace {

using ::testing::HasSubstr;

InferenceInput Input(std::vector<double> priors,
                     std::vector<std::pair<double, std::vector<double>>> items) {
  InferenceInput in;
  in.priors = std::move(priors);
  for (auto& [r, l] : items) in.evidence.push_back({r, std::move(l)});
  return in;
}

TEST(InferenceTest, PlainBayesWithFullReliability) {
  auto r = Infer(Input({1, 1}, {{1.0, {0.8, 0.2}}}));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_NEAR(r->posterior[0], 0.8, 1e-12);
  EXPECT_NEAR(r->posterior[1], 0.2, 1e-12);
  EXPECT_NEAR(r->log_posterior[1], std::log(0.2), 1e-12);
  EXPECT_EQ(r->leading, 0u);
}

TEST(InferenceTest, PriorsAreNormalisedWeights) {
  // Priors 1:3 -> 0.25, 0.75; evidence 0.9 vs 0.1 -> 0.225 : 0.075 -> 0.75, 0.25.
  auto r = Infer(Input({1, 3}, {{1.0, {0.9, 0.1}}}));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_NEAR(r->priors[0], 0.25, 1e-12);
  EXPECT_NEAR(r->priors[1], 0.75, 1e-12);
  EXPECT_NEAR(r->posterior[0], 0.75, 1e-12);
  EXPECT_NEAR(r->posterior[1], 0.25, 1e-12);
}

TEST(InferenceTest, ReliabilityDiscountsTowardsTheMixture) {
  // P(E) = 0.5*0.8 + 0.5*0.2 = 0.5; L' = 0.5*0.8 + 0.5*0.5 = 0.65 and
  // 0.5*0.2 + 0.5*0.5 = 0.35; posterior 0.65, 0.35.
  auto r = Infer(Input({1, 1}, {{0.5, {0.8, 0.2}}}));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_NEAR(r->posterior[0], 0.65, 1e-12);
  EXPECT_NEAR(r->posterior[1], 0.35, 1e-12);
  EXPECT_NEAR(r->diagnosticity[0], 0.5 * (0.8 - 0.2), 1e-12);
}

TEST(InferenceTest, ReliabilityZeroChangesNothing) {
  auto r = Infer(Input({1, 3}, {{0.0, {0.99, 0.01}}}));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_NEAR(r->posterior[0], 0.25, 1e-12);
  EXPECT_EQ(r->diagnosticity[0], 0);
}

TEST(InferenceTest, DiscountUsesThePosteriorBeforeEachItem) {
  // e1 (r=1): 0.9 vs 0.1 -> 0.9, 0.1. e2 (r=0.5, L 0.2 vs 0.8):
  // P(E) = 0.9*0.2 + 0.1*0.8 = 0.26; L' = 0.1 + 0.13 = 0.23 and 0.4 + 0.13 = 0.53;
  // 0.9*0.23 = 0.207, 0.1*0.53 = 0.053 -> 0.207/0.26, 0.053/0.26.
  auto r = Infer(Input({1, 1}, {{1.0, {0.9, 0.1}}, {0.5, {0.2, 0.8}}}));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_NEAR(r->posterior[0], 0.207 / 0.26, 1e-12);
  EXPECT_NEAR(r->posterior[1], 0.053 / 0.26, 1e-12);
}

TEST(InferenceTest, ZeroLikelihoodWithFullReliabilityEliminates) {
  auto r = Infer(Input({1, 1, 1}, {{1.0, {0.0, 0.5, 0.5}}}));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->posterior[0], 0.0);
  EXPECT_TRUE(std::isinf(r->log_posterior[0]) && r->log_posterior[0] < 0);
  EXPECT_NEAR(r->posterior[1], 0.5, 1e-12);
  EXPECT_NEAR(r->posterior[2], 0.5, 1e-12);
  EXPECT_EQ(r->leading, 1u);
  // Inconsistency: 0 <= 0.2 counts 2 (x reliability 1).
  EXPECT_EQ(r->inconsistency[0], 2.0);
}

TEST(InferenceTest, ZeroLikelihoodWithPartialReliabilityOnlyWeakens) {
  // P(E) = (0 + 0.6 + 0.6) / 3 = 0.4; L' = 0 + 0.2, 0.3 + 0.2, 0.3 + 0.2 -> 1/6, 5/12, 5/12.
  auto r = Infer(Input({1, 1, 1}, {{0.5, {0.0, 0.6, 0.6}}}));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_NEAR(r->posterior[0], 1.0 / 6, 1e-12);
  EXPECT_NEAR(r->posterior[1], 5.0 / 12, 1e-12);
}

TEST(InferenceTest, AllZeroLikelihoodsIsFailedPreconditionNamingTheItem) {
  InferenceInput in = Input({1, 1}, {{1.0, {0.5, 0.5}}, {1.0, {0.0, 0.0}}});
  in.evidence_labels = {"'cases/c/evidence/e1'", "'cases/c/evidence/e2'"};
  auto r = Infer(in);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(r.status().message(), HasSubstr("'cases/c/evidence/e2'"));
  // Discounting does not help: P(E) is 0 too.
  EXPECT_EQ(Infer(Input({1, 1}, {{0.5, {0.0, 0.0}}})).status().code(),
            absl::StatusCode::kFailedPrecondition);
  // Nor does a hypothesis with prior 0: it is not "still possible".
  EXPECT_EQ(Infer(Input({0, 1}, {{1.0, {0.9, 0.0}}})).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(InferenceTest, NoHypothesesOrAllPriorsZeroIsFailedPrecondition) {
  EXPECT_EQ(Infer(Input({}, {})).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Infer(Input({0, 0}, {})).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(InferenceTest, OutOfRangeNumbersAreInvalidArgument) {
  EXPECT_EQ(Infer(Input({-1, 1}, {})).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Infer(Input({1, 1}, {{1.0, {1.5, 0.5}}})).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Infer(Input({1, 1}, {{1.1, {0.5, 0.5}}})).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Infer(Input({1, 1}, {{1.0, {0.5}}})).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(InferenceTest, AllNeutralEvidenceKeepsThePriorsAndIsNonDiagnostic) {
  const double n = AchLikelihood(AchRating::kNeutral);
  auto r = Infer(Input({1, 2, 1}, {{1.0, {n, n, n}}, {0.7, {n, n, n}}, {0.2, {n, n, n}}}));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_NEAR(r->posterior[0], 0.25, 1e-12);
  EXPECT_NEAR(r->posterior[1], 0.5, 1e-12);
  EXPECT_EQ(r->leading, 1u);
  for (double d : r->diagnosticity) EXPECT_EQ(d, 0);
  for (double s : r->inconsistency) EXPECT_EQ(s, 0);
  EXPECT_FALSE(r->pivotal.has_value());
}

TEST(InferenceTest, AchTable) {
  EXPECT_EQ(AchLikelihood(AchRating::kConsistentStrong), 0.9);
  EXPECT_EQ(AchLikelihood(AchRating::kConsistentWeak), 0.7);
  EXPECT_EQ(AchLikelihood(AchRating::kNeutral), 0.5);
  EXPECT_EQ(AchLikelihood(AchRating::kInconsistentWeak), 0.3);
  EXPECT_EQ(AchLikelihood(AchRating::kInconsistentStrong), 0.1);
}

TEST(InferenceTest, InconsistencyScoresWeighStrongTwiceAndScaleByReliability) {
  const double ii = AchLikelihood(AchRating::kInconsistentStrong);
  const double i = AchLikelihood(AchRating::kInconsistentWeak);
  const double cc = AchLikelihood(AchRating::kConsistentStrong);
  auto r = Infer(Input({1, 1}, {{1.0, {ii, cc}}, {0.5, {i, cc}}, {1.0, {0.5, 0.41}}}));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_NEAR(r->inconsistency[0], 2.0 + 0.5, 1e-12);
  EXPECT_NEAR(r->inconsistency[1], 0.0, 1e-12);
}

TEST(InferenceTest, FiveHundredItemsStayStableInLogSpace) {
  // 500 items at 0.6 vs 0.4: log odds 500 ln 1.5 = 202.7; in linear space
  // 0.4^500 underflows, in log space the loser keeps an exact log posterior.
  std::vector<std::pair<double, std::vector<double>>> items(500, {1.0, {0.6, 0.4}});
  auto r = Infer(Input({1, 1}, items));
  ASSERT_TRUE(r.ok()) << r.status();
  const double log_odds = 500 * std::log(1.5);
  EXPECT_EQ(r->posterior[0], 1.0);
  EXPECT_NEAR(r->log_posterior[1], -log_odds, 1e-9 * log_odds);
  EXPECT_NEAR(r->posterior[1], std::exp(-log_odds), 1e-12 * std::exp(-log_odds) * 1e3);
  EXPECT_GT(r->posterior[1], 0.0);

  // And with partial reliability and many hypotheses, nothing is NaN.
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::vector<std::pair<double, std::vector<double>>> noisy;
  for (int e = 0; e < 500; ++e) {
    std::vector<double> l(10);
    for (double& x : l) x = u(rng);
    noisy.push_back({0.3 + 0.7 * u(rng), l});
  }
  auto n = Infer(Input(std::vector<double>(10, 1.0), noisy));
  ASSERT_TRUE(n.ok()) << n.status();
  double sum = 0;
  for (double p : n->posterior) {
    EXPECT_FALSE(std::isnan(p));
    sum += p;
  }
  EXPECT_NEAR(sum, 1.0, 1e-9);
}

TEST(InferenceTest, SensitivityFindsTheItemThatFlipsTheLeader) {
  // h1: ln 0.9 + 2 ln 0.4 = -1.938; h2: ln 0.1 + 2 ln 0.6 = -3.324: h1 leads.
  // Without e1: h1 2 ln 0.4 = -1.833 < h2 2 ln 0.6 = -1.022: h2 leads.
  // Without e2 (or e3): h1 -1.021 > h2 -2.813: h1 still leads.
  auto r = Infer(Input({1, 1}, {{1.0, {0.9, 0.1}}, {1.0, {0.4, 0.6}}, {1.0, {0.4, 0.6}}}));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->leading, 0u);
  ASSERT_TRUE(r->pivotal.has_value());
  EXPECT_EQ(*r->pivotal, 0u);
  EXPECT_EQ(r->leading_without_pivotal, 1u);
}

TEST(InferenceTest, SensitivityIsEmptyWhenNoSingleItemMatters) {
  auto r = Infer(Input({1, 1}, {{1.0, {0.9, 0.1}}, {1.0, {0.9, 0.1}}}));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->pivotal.has_value());
}

TEST(InferenceTest, SensitivityUndoesAnElimination) {
  // e1 eliminates h1 (which the priors favour); without it h1 leads again.
  auto r = Infer(Input({3, 1}, {{1.0, {0.0, 0.5}}, {1.0, {0.5, 0.5}}}));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->leading, 1u);
  ASSERT_TRUE(r->pivotal.has_value());
  EXPECT_EQ(*r->pivotal, 0u);
  EXPECT_EQ(r->leading_without_pivotal, 0u);
}

// Brute force: recompute without each item. A reported pivotal item must
// really change the leader; with every reliability 1 the report is exact.
TEST(InferenceTest, SensitivityAgreesWithRecomputation) {
  std::mt19937 rng(11);
  std::uniform_real_distribution<double> u(0.05, 1.0);
  for (int trial = 0; trial < 200; ++trial) {
    const bool reliable = trial % 2 == 0;
    const int H = 2 + trial % 4, E = 1 + trial % 7;
    InferenceInput in;
    for (int h = 0; h < H; ++h) in.priors.push_back(u(rng));
    for (int e = 0; e < E; ++e) {
      InferenceInput::Item item{reliable ? 1.0 : u(rng), {}};
      for (int h = 0; h < H; ++h) item.likelihoods.push_back(u(rng));
      in.evidence.push_back(item);
    }
    auto r = Infer(in);
    ASSERT_TRUE(r.ok());
    bool any_flip = false;
    for (int e = 0; e < E; ++e) {
      InferenceInput without = in;
      without.evidence.erase(without.evidence.begin() + e);
      auto w = Infer(without);
      ASSERT_TRUE(w.ok());
      if (w->leading != r->leading) any_flip = true;
      if (r->pivotal && *r->pivotal == static_cast<size_t>(e)) {
        EXPECT_NE(w->leading, r->leading) << "trial " << trial;
        EXPECT_EQ(w->leading, r->leading_without_pivotal) << "trial " << trial;
      }
    }
    if (reliable) {
      EXPECT_EQ(any_flip, r->pivotal.has_value()) << "trial " << trial;
    }
  }
}

}  // namespace
}  // namespace genesis::reasoning
