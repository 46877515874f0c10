#include "services/reasoning/validation.h"

#include <cmath>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/base/text.h"
#include "services/reasoning/events.h"

namespace genesis::reasoning {

void CheckText(absl::string_view field, const std::string& value, bool required, size_t max,
               FieldViolations* v) {
  if (required && value.empty()) {
    v->Add(std::string(field), "is required");
  } else if (value.size() > max) {
    v->Add(std::string(field), absl::StrCat("is ", value.size(), " bytes; the limit is ", max));
  } else {
    CheckStorableText(field, value, v);  // no NUL, valid UTF-8
  }
}

void ValidateCaseFields(const Case& c, absl::string_view prefix, size_t max_text,
                        FieldViolations* v) {
  CheckText(absl::StrCat(prefix, ".question"), c.question, true, max_text, v);
  CheckText(absl::StrCat(prefix, ".context"), c.context, false, 4 * max_text, v);
  CheckText(absl::StrCat(prefix, ".owner"), c.owner, true, 256, v);
}

void ValidateHypothesis(const Hypothesis& h, size_t max_text, FieldViolations* v) {
  CheckText("hypothesis.statement", h.statement, !h.none_of_these, max_text, v);
  if (!(h.prior >= 0) || !std::isfinite(h.prior)) {
    v->Add("hypothesis.prior", "must be a number >= 0 (a weight; weights are normalised)");
  }
}

bool ValidSource(absl::string_view source) {
  if (absl::StartsWith(source, "items/")) return source.size() > 6;
  // RFC 3986 scheme, then ':' and something.
  size_t colon = source.find(':');
  if (colon == 0 || colon == absl::string_view::npos || colon + 1 == source.size()) return false;
  for (size_t i = 0; i < colon; ++i) {
    const char ch = source[i];
    const bool alpha = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
    if (!(alpha || (i > 0 && ((ch >= '0' && ch <= '9') || ch == '+' || ch == '-' || ch == '.')))) {
      return false;
    }
  }
  for (char ch : source) {
    if (ch == ' ' || ch == '\n' || ch == '\t' || ch == '\0') return false;
  }
  return true;
}

void ValidateEvidence(const Case& c, Evidence* e, size_t max_text, FieldViolations* v) {
  CheckText("evidence.description", e->description, true, max_text, v);
  if (!e->source.empty() && (e->source.size() > 2048 || !ValidSource(e->source))) {
    v->Add("evidence.source",
           absl::StrCat("'", e->source.substr(0, 100),
                        "' is neither a URI (like https://example.com/report) nor a catalog "
                        "item name (like items/{id})"));
  }
  if (std::isnan(e->reliability)) {
    v->Add("evidence.reliability", "is required: a number from 0 (not reliable) to 1");
  } else if (!(e->reliability >= 0 && e->reliability <= 1)) {
    v->Add("evidence.reliability", absl::StrCat(e->reliability, " is outside [0, 1]"));
  }
  std::set<std::string> seen;
  for (size_t i = 0; i < e->ratings.size(); ++i) {
    Rating& r = e->ratings[i];
    const std::string field = absl::StrCat("evidence.ratings[", i, "]");
    auto id = ParseHypothesisRef(r.hypothesis_id, c.id);
    bool known = false;
    if (id) {
      for (const auto& h : c.hypotheses) known = known || h.id == *id;
    }
    if (r.hypothesis_id.empty()) {
      v->Add(field + ".hypothesis", "is required");
    } else if (!known) {
      v->Add(field + ".hypothesis",
             absl::StrCat("'", r.hypothesis_id, "' is not a hypothesis of ", CaseName(c.id)));
    } else if (!seen.insert(*id).second) {
      v->Add(field + ".hypothesis", absl::StrCat("'", *id, "' is rated twice"));
    } else {
      r.hypothesis_id = *id;
    }
    if (r.likelihood) {
      if (!(*r.likelihood >= 0 && *r.likelihood <= 1)) {
        v->Add(field + ".likelihood", absl::StrCat(*r.likelihood, " is outside [0, 1]"));
      }
    } else if (r.ach == AchRating::kUnspecified) {
      v->Add(field, "needs a likelihood (0 to 1) or an ach rating");
    }
  }
}

}  // namespace genesis::reasoning
