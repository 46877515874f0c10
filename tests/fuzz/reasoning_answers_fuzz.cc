// The reasoning service's parsers of a model's answers to the LLM assist
// prompts (services/reasoning/answers.h): ParseHypothesisAnswer and
// ParseRatingAnswer, on a fixed case (c1 with hypotheses h1, h2, h3). The
// first byte picks: 'r' the ratings parser, a digit the hypotheses parser with
// that `max`, anything else the hypotheses parser with max 5. The rest is the
// model's text.
// Invariants: no exception escapes; a refusal is UNAVAILABLE with the fixed
// message (the answer is never echoed); accepted hypotheses are at most `max`,
// with a statement CreateHypothesis can store (not empty, trimmed, at most
// 16 KiB, UTF-8, no NUL), new to the case and to the answer, and a prior that
// is a finite weight >= 0; accepted ratings name each hypothesis of the case
// at most once, with either a likelihood in [0, 1] or an ACH rating; every
// explanation is storable text of at most 4 KiB (plus the "…" of a cut).
#include <cmath>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "services/reasoning/answers.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

namespace reasoning = genesis::reasoning;

constexpr size_t kMaxStatementBytes = 16 * 1024;
constexpr size_t kMaxExplanationBytes = 4 * 1024 + 3;  // "…" after a cut

const reasoning::Case& TheCase() {
  static const reasoning::Case c = [] {
    reasoning::Case c;
    c.id = "c1";
    c.question = "Why did sign-ups drop in March?";
    int n = 0;
    for (const char* statement : {"The new landing page", "Seasonality", "Tracking broke"}) {
      reasoning::Hypothesis h;
      h.id = absl::StrCat("h", ++n);
      h.statement = statement;
      c.hypotheses.push_back(h);
    }
    return c;
  }();
  return c;
}

bool Storable(const std::string& s) {
  return genesis::fuzz::ReferenceUtf8(s) && s.find('\0') == std::string::npos;
}

std::string Normalized(const std::string& s) {
  return absl::AsciiStrToLower(absl::StripAsciiWhitespace(s));
}

// The refusal does not depend on the answer: it is the one for an empty text.
template <typename Parse>
void CheckRefusal(const absl::Status& status, Parse parse) {
  static const std::string expected(parse(absl::string_view()).status().message());
  FUZZ_CHECK(status.code() == absl::StatusCode::kUnavailable);
  FUZZ_CHECK(status.message() == expected);
}

void Hypotheses(absl::string_view text, int max) {
  const auto& c = TheCase();
  auto parsed = reasoning::ParseHypothesisAnswer(text, c, max);
  if (!parsed.ok()) {
    CheckRefusal(parsed.status(),
                 [&](absl::string_view t) { return reasoning::ParseHypothesisAnswer(t, c, 5); });
    return;
  }
  FUZZ_CHECK(parsed->dropped >= 0);
  FUZZ_CHECK(static_cast<size_t>(parsed->dropped) <= text.size());
  FUZZ_CHECK(parsed->suggestions.size() <= static_cast<size_t>(std::max(max, 0)));
  FUZZ_CHECK(parsed->model.empty());
  std::set<std::string> seen;
  for (const auto& h : c.hypotheses) seen.insert(Normalized(h.statement));
  for (const auto& s : parsed->suggestions) {
    FUZZ_CHECK(!s.statement.empty() && s.statement.size() <= kMaxStatementBytes);
    FUZZ_CHECK(Storable(s.statement));
    FUZZ_CHECK(absl::StripAsciiWhitespace(s.statement).size() == s.statement.size());
    FUZZ_CHECK(seen.insert(Normalized(s.statement)).second);
    FUZZ_CHECK(std::isfinite(s.prior) && s.prior >= 0);
    FUZZ_CHECK(s.explanation.size() <= kMaxExplanationBytes);
    FUZZ_CHECK(Storable(s.explanation));
  }
}

void Ratings(absl::string_view text) {
  const auto& c = TheCase();
  auto parsed = reasoning::ParseRatingAnswer(text, c);
  if (!parsed.ok()) {
    CheckRefusal(parsed.status(),
                 [&](absl::string_view t) { return reasoning::ParseRatingAnswer(t, c); });
    return;
  }
  FUZZ_CHECK(parsed->dropped >= 0);
  FUZZ_CHECK(static_cast<size_t>(parsed->dropped) <= text.size());
  FUZZ_CHECK(parsed->suggestions.size() <= c.hypotheses.size());
  FUZZ_CHECK(parsed->model.empty());
  std::set<std::string> rated;
  for (const auto& s : parsed->suggestions) {
    const auto& r = s.rating;
    bool known = false;
    for (const auto& h : c.hypotheses) known = known || h.id == r.hypothesis_id;
    FUZZ_CHECK(known);
    FUZZ_CHECK(rated.insert(r.hypothesis_id).second);
    if (r.likelihood) {
      FUZZ_CHECK(r.ach == reasoning::AchRating::kUnspecified);
      FUZZ_CHECK(std::isfinite(*r.likelihood) && *r.likelihood >= 0 && *r.likelihood <= 1);
    } else {
      FUZZ_CHECK(r.ach != reasoning::AchRating::kUnspecified);
    }
    FUZZ_CHECK(s.explanation.size() <= kMaxExplanationBytes);
    FUZZ_CHECK(Storable(s.explanation));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const absl::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] == 'r') {
    Ratings(text);
  } else if (data[0] >= '0' && data[0] <= '9') {
    Hypotheses(text, data[0] - '0');
  } else {
    Hypotheses(text, 5);
  }
  return 0;
}
