#include "services/reasoning/answers.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <set>

#include <nlohmann/json.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/base/text.h"
#include "services/reasoning/events.h"

namespace genesis::reasoning {
namespace {

using nlohmann::json;

// Bounds of what an answer may hold.
constexpr size_t kMaxAnswerBytes = 256 * 1024;  // longer answers are cut before parsing
constexpr int kMaxJsonCandidates = 64;          // "{" positions tried among prose
constexpr size_t kMaxStatementBytes = 16 * 1024;
constexpr size_t kMaxExplanationBytes = 4 * 1024;

// `s` cut to at most `max` bytes without splitting a UTF-8 sequence.
std::string Cut(absl::string_view s, size_t max) {
  if (s.size() <= max) return std::string(s);
  size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return absl::StrCat(s.substr(0, n), "…");
}

// The end (one past the closing brace) of the balanced JSON object starting
// at text[begin] == '{', honouring strings and escapes; npos when unbalanced.
size_t ObjectEnd(absl::string_view text, size_t begin) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = begin; i < text.size(); ++i) {
    const char ch = text[i];
    if (in_string) {
      if (ch == '\\') {
        ++i;
      } else if (ch == '"') {
        in_string = false;
      }
      continue;
    }
    if (ch == '"') {
      in_string = true;
    } else if (ch == '{') {
      ++depth;
    } else if (ch == '}' && --depth == 0) {
      return i + 1;
    }
  }
  return absl::string_view::npos;
}

// The array under `key` of the first JSON value in `text` that has one:
// the contents of ``` fences first, then the whole text, then each balanced
// {...} among prose. A bare top-level array is accepted as the list itself.
std::optional<json> FindList(absl::string_view text, const std::string& key) {
  text = text.substr(0, std::min(text.size(), kMaxAnswerBytes));
  // The list is moved out, never copied: nlohmann::json parses and destroys
  // nested values without recursion, but copies them recursively, and an
  // answer may nest arrays a hundred thousand deep.
  auto try_parse = [&key](absl::string_view candidate) {
    std::optional<json> list;
    json v = json::parse(candidate.begin(), candidate.end(), nullptr, /*allow_exceptions=*/false);
    if (v.is_object()) {
      auto it = v.find(key);
      if (it != v.end() && it->is_array()) list = std::move(*it);
    } else if (v.is_array()) {
      list = std::move(v);
    }
    return list;
  };
  // Fenced blocks: ```json\n...\n``` (the language tag is optional).
  for (size_t open = text.find("```"); open != absl::string_view::npos;) {
    size_t body = text.find('\n', open + 3);
    if (body == absl::string_view::npos) break;
    size_t close = text.find("```", body + 1);
    if (close == absl::string_view::npos) break;
    if (auto list = try_parse(text.substr(body + 1, close - body - 1))) return list;
    open = text.find("```", close + 3);
  }
  if (auto list = try_parse(text)) return list;
  int tried = 0;
  for (size_t begin = text.find('{');
       begin != absl::string_view::npos && tried < kMaxJsonCandidates;
       begin = text.find('{', begin + 1), ++tried) {
    size_t end = ObjectEnd(text, begin);
    if (end == absl::string_view::npos) continue;  // a later "{" may still close
    if (auto list = try_parse(text.substr(begin, end - begin))) return list;
  }
  return std::nullopt;
}

absl::Status NoJson(const std::string& key, absl::string_view example) {
  return absl::UnavailableError(absl::StrCat("the model's answer held no JSON object with a \"",
                                             key, "\" list (expected ", example,
                                             "); ask again or add the ", key, " by hand"));
}

// Storable text (NUL becomes U+FFFD), cut to kMaxExplanationBytes.
std::string ExplanationOf(const json& entry) {
  auto it = entry.find("explanation");
  if (it == entry.end() || !it->is_string()) return "";
  return Cut(ToStorableText(it->get_ref<const std::string&>()), kMaxExplanationBytes);
}

// The bare id of a hypothesis of `c` named by `ref` ("h1", "H1" or
// "cases/{case}/hypotheses/h1"); empty when the case has none such.
std::string HypothesisIdOf(const Case& c, std::string ref) {
  ref = std::string(absl::StripAsciiWhitespace(ref));
  if (size_t slash = ref.rfind('/'); slash != std::string::npos) {
    if (ref != HypothesisName(c.id, ref.substr(slash + 1))) return "";
    ref = ref.substr(slash + 1);
  }
  ref = absl::AsciiStrToLower(ref);
  for (const auto& h : c.hypotheses) {
    if (h.id == ref) return h.id;
  }
  return "";
}

std::string NormalizedStatement(absl::string_view s) {
  return absl::AsciiStrToLower(absl::StripAsciiWhitespace(s));
}

}  // namespace

absl::StatusOr<HypothesisSuggestions> ParseHypothesisAnswer(absl::string_view text, const Case& c,
                                                            int max) {
  auto list = FindList(text, "hypotheses");
  if (!list) {
    return NoJson("hypotheses", R"({"hypotheses":[{"statement":"...","prior":1}]})");
  }
  std::set<std::string> seen;
  for (const auto& h : c.hypotheses) seen.insert(NormalizedStatement(h.statement));
  HypothesisSuggestions out;
  for (const json& entry : *list) {
    if (!entry.is_object()) {
      ++out.dropped;
      continue;
    }
    auto statement = entry.find("statement");
    auto prior = entry.find("prior");
    HypothesisSuggestion s;
    if (statement == entry.end() || !statement->is_string()) {
      ++out.dropped;
      continue;
    }
    s.statement = std::string(absl::StripAsciiWhitespace(statement->get<std::string>()));
    if (prior != entry.end() && !prior->is_null()) {
      if (!prior->is_number()) {
        ++out.dropped;
        continue;
      }
      s.prior = prior->get<double>();
    }
    if (s.statement.empty() || s.statement.size() > kMaxStatementBytes ||
        !IsStorableText(s.statement) || !std::isfinite(s.prior) || s.prior < 0 ||
        !seen.insert(NormalizedStatement(s.statement)).second) {
      ++out.dropped;
      continue;
    }
    s.explanation = ExplanationOf(entry);
    if (static_cast<int>(out.suggestions.size()) < max) out.suggestions.push_back(std::move(s));
  }
  return out;
}

absl::StatusOr<RatingSuggestions> ParseRatingAnswer(absl::string_view text, const Case& c) {
  auto list = FindList(text, "ratings");
  if (!list) {
    return NoJson("ratings", R"({"ratings":[{"hypothesis":"h1","likelihood":0.7}]})");
  }
  std::set<std::string> rated;
  RatingSuggestions out;
  for (const json& entry : *list) {
    if (!entry.is_object()) {
      ++out.dropped;
      continue;
    }
    auto hypothesis = entry.find("hypothesis");
    auto likelihood = entry.find("likelihood");
    auto rating = entry.find("rating");
    const bool has_likelihood = likelihood != entry.end() && !likelihood->is_null();
    const bool has_rating = rating != entry.end() && !rating->is_null();
    RatingSuggestion s;
    if (hypothesis == entry.end() || !hypothesis->is_string() || has_likelihood == has_rating) {
      ++out.dropped;
      continue;
    }
    s.rating.hypothesis_id = HypothesisIdOf(c, hypothesis->get<std::string>());
    if (s.rating.hypothesis_id.empty() || rated.count(s.rating.hypothesis_id) > 0) {
      ++out.dropped;
      continue;
    }
    if (has_likelihood) {
      if (!likelihood->is_number()) {
        ++out.dropped;
        continue;
      }
      const double l = likelihood->get<double>();
      if (!std::isfinite(l) || l < 0 || l > 1) {
        ++out.dropped;
        continue;
      }
      s.rating.likelihood = l;
    } else {
      if (!rating->is_string()) {
        ++out.dropped;
        continue;
      }
      std::string name =
          absl::AsciiStrToUpper(absl::StripAsciiWhitespace(rating->get<std::string>()));
      if (absl::StartsWith(name, "ACH_RATING_")) name = name.substr(11);
      s.rating.ach = AchFromName(name);
      if (s.rating.ach == AchRating::kUnspecified) {
        ++out.dropped;
        continue;
      }
    }
    rated.insert(s.rating.hypothesis_id);
    s.explanation = ExplanationOf(entry);
    out.suggestions.push_back(std::move(s));
  }
  return out;
}

}  // namespace genesis::reasoning
