#include "services/reasoning/router_suggestions.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <set>

#include <nlohmann/json.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/base/status.h"
#include "common/runtime/logging.h"
#include "services/reasoning/events.h"

namespace genesis::reasoning {
namespace {

namespace llm = genesis::llmrouter::v1;
using nlohmann::json;

// Bounds of what the prompt carries and what an answer may hold.
constexpr size_t kMaxAnswerBytes = 256 * 1024;  // longer answers are cut before parsing
constexpr int kMaxJsonCandidates = 64;          // "{" positions tried among prose
constexpr size_t kMaxStatementBytes = 16 * 1024;
constexpr size_t kMaxExplanationBytes = 4 * 1024;
constexpr size_t kMaxContextBytes = 8 * 1024;
constexpr size_t kMaxItemBytes = 600;                // one hypothesis or evidence description
constexpr size_t kMaxEvidenceListBytes = 24 * 1024;  // the evidence section as a whole

// `s` cut to at most `max` bytes without splitting a UTF-8 sequence.
std::string Cut(absl::string_view s, size_t max) {
  if (s.size() <= max) return std::string(s);
  size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return absl::StrCat(s.substr(0, n), "…");
}

// One line: newlines become spaces so the model sees one entry per line.
std::string OneLine(absl::string_view s, size_t max) {
  std::string out = Cut(s, max);
  std::replace(out.begin(), out.end(), '\n', ' ');
  std::replace(out.begin(), out.end(), '\r', ' ');
  return out;
}

std::string FormatNumber(double v) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  return ec == std::errc() ? std::string(buf, end) : "?";
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
  auto try_parse = [&key](absl::string_view candidate) -> std::optional<json> {
    json v = json::parse(candidate.begin(), candidate.end(), nullptr, /*allow_exceptions=*/false);
    if (v.is_object()) {
      auto it = v.find(key);
      if (it != v.end() && it->is_array()) return *it;
    } else if (v.is_array()) {
      return v;
    }
    return std::nullopt;
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

std::string ExplanationOf(const json& entry) {
  auto it = entry.find("explanation");
  if (it == entry.end() || !it->is_string()) return "";
  return Cut(it->get<std::string>(), kMaxExplanationBytes);
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

absl::Status ValidateRouterAddress(absl::string_view address) {
  auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("'", address, "' is not host:port (", why, ")"));
  };
  size_t colon = address.rfind(':');
  if (colon == absl::string_view::npos) return bad("no port");
  absl::string_view host = address.substr(0, colon);
  absl::string_view port = address.substr(colon + 1);
  int value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value < 1 ||
      value > 65535) {
    return bad("the port must be 1-65535");
  }
  if (host.empty()) return bad("no host");
  if (host.front() == '[') {
    if (host.back() != ']' || host.size() < 3) return bad("an IPv6 host needs [brackets]");
    return absl::OkStatus();
  }
  for (char ch : host) {
    if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '.' && ch != '-' && ch != '_') {
      return bad("the host may hold letters, digits, '.', '-' and '_' only");
    }
  }
  return absl::OkStatus();
}

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
    if (s.statement.empty() || s.statement.size() > kMaxStatementBytes || !std::isfinite(s.prior) ||
        s.prior < 0 || !seen.insert(NormalizedStatement(s.statement)).second) {
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

std::string HypothesesSystemPrompt(int max) {
  return absl::StrCat(
      "You assist an analyst who weighs competing hypotheses (analysis of competing hypotheses). "
      "Propose at most ",
      max,
      " further hypotheses that could answer the case's question and that the case does not "
      "have yet. Each must be one clear, testable statement, mutually exclusive with the others. "
      "Answer with JSON only, no prose and no code fences, exactly in this form:\n"
      R"({"hypotheses":[{"statement":"...","prior":1.0,"explanation":"..."}]})"
      "\n`prior` is a relative weight >= 0 (1 = as plausible as a typical hypothesis of the "
      "case); `explanation` says in one sentence why the hypothesis is worth considering.");
}

std::string RatingsSystemPrompt() {
  return "You assist an analyst who weighs competing hypotheses (analysis of competing "
         "hypotheses). Rate how consistent the new evidence item is with each hypothesis of the "
         "case. Answer with JSON only, no prose and no code fences, exactly in this form:\n"
         R"({"ratings":[{"hypothesis":"h1","likelihood":0.7,"explanation":"..."}]})"
         "\n`hypothesis` is the id given in the list (h1, h2...); `likelihood` is the "
         "probability of observing this evidence if the hypothesis were true, from 0 to 1. "
         "Instead of `likelihood` you may give `rating`, one of CONSISTENT_STRONG, "
         "CONSISTENT_WEAK, NEUTRAL, INCONSISTENT_WEAK, INCONSISTENT_STRONG. `explanation` says "
         "why in one sentence.";
}

std::string DescribeCase(const Case& c) {
  std::string out = absl::StrCat("Question: ", OneLine(c.question, kMaxItemBytes * 4), "\n");
  if (!c.context.empty()) {
    absl::StrAppend(&out, "Context:\n", Cut(c.context, kMaxContextBytes), "\n");
  }
  if (c.hypotheses.empty()) {
    absl::StrAppend(&out, "Hypotheses: none yet.\n");
  } else {
    absl::StrAppend(&out, "Hypotheses (id, prior weight, statement):\n");
    for (const auto& h : c.hypotheses) {
      absl::StrAppend(&out, "- ", h.id, " (prior ", FormatNumber(h.prior),
                      h.none_of_these ? ", none of these" : "",
                      "): ", OneLine(h.statement, kMaxItemBytes), "\n");
    }
  }
  if (!c.evidence.empty()) {
    absl::StrAppend(&out, "Evidence so far (id, reliability 0-1, description):\n");
    size_t used = 0;
    size_t shown = 0;
    for (const auto& e : c.evidence) {
      std::string line = absl::StrCat("- ", e.id, " (reliability ", FormatNumber(e.reliability),
                                      "): ", OneLine(e.description, kMaxItemBytes), "\n");
      if (used + line.size() > kMaxEvidenceListBytes) break;
      used += line.size();
      ++shown;
      out += line;
    }
    if (shown < c.evidence.size()) {
      absl::StrAppend(&out, "(", c.evidence.size() - shown, " more items not shown)\n");
    }
  }
  return out;
}

std::string DescribeDraft(const Evidence& draft) {
  std::string out = absl::StrCat(
      "New evidence item to rate: ", OneLine(draft.description, kMaxItemBytes * 4), "\n");
  if (!draft.source.empty()) absl::StrAppend(&out, "Source: ", OneLine(draft.source, 512), "\n");
  return out;
}

RouterSuggestionClient::RouterSuggestionClient(std::unique_ptr<LlmRouterClient> router,
                                               RouterSuggestionOptions options)
    : router_(std::move(router)), options_(std::move(options)) {}

absl::StatusOr<llm::CompleteResponse> RouterSuggestionClient::Complete(std::string system,
                                                                       std::string user,
                                                                       const AssistOptions& options,
                                                                       const CallContext& ctx) {
  llm::CompleteRequest req;
  auto* m = req.add_messages();
  m->set_role(llm::ROLE_SYSTEM);
  m->set_content(std::move(system));
  m = req.add_messages();
  m->set_role(llm::ROLE_USER);
  m->set_content(std::move(user));
  req.set_task(llm::TASK_REASONING);
  req.set_sensitive(options.sensitive);
  req.set_agent(options_.agent);
  req.set_max_tokens(options_.max_tokens);
  // A model may answer badly; a cached bad answer would repeat on every retry.
  req.set_no_cache(true);

  const absl::Time start = absl::Now();
  absl::StatusOr<llm::CompleteResponse> answer = router_->Complete(std::move(req), ctx);
  auto log = Logger("reasoning.assist");
  if (!answer.ok()) {
    log->warn("request_id={} LLM router failed: code={} sensitive={} after={}", ctx.request_id,
              static_cast<int>(answer.status().code()), options.sensitive,
              absl::FormatDuration(absl::Now() - start));
    return answer.status();
  }
  const llm::CompleteResponse& resp = *answer;
  log->info(
      "request_id={} LLM router answered: model={} sensitive={} tokens_in={} tokens_out={} "
      "after={}",
      ctx.request_id, resp.model(), resp.sensitive(), resp.usage().input_tokens(),
      resp.usage().output_tokens(), absl::FormatDuration(absl::Now() - start));
  return answer;
}

absl::StatusOr<HypothesisSuggestions> RouterSuggestionClient::ProposeHypotheses(
    const Case& c, int max, const AssistOptions& options, const CallContext& ctx) {
  GENESIS_ASSIGN_OR_RETURN(auto resp,
                           Complete(HypothesesSystemPrompt(max), DescribeCase(c), options, ctx));
  auto parsed = ParseHypothesisAnswer(resp.text(), c, max);
  if (!parsed.ok()) {
    return absl::Status(parsed.status().code(),
                        absl::StrCat(resp.model(), ": ", parsed.status().message()));
  }
  parsed->model = resp.model();
  return parsed;
}

absl::StatusOr<RatingSuggestions> RouterSuggestionClient::RateEvidence(const Case& c,
                                                                       const Evidence& evidence,
                                                                       const AssistOptions& options,
                                                                       const CallContext& ctx) {
  GENESIS_ASSIGN_OR_RETURN(
      auto resp, Complete(RatingsSystemPrompt(),
                          absl::StrCat(DescribeCase(c), DescribeDraft(evidence)), options, ctx));
  auto parsed = ParseRatingAnswer(resp.text(), c);
  if (!parsed.ok()) {
    return absl::Status(parsed.status().code(),
                        absl::StrCat(resp.model(), ": ", parsed.status().message()));
  }
  parsed->model = resp.model();
  return parsed;
}

std::unique_ptr<RouterSuggestionClient> MakeRouterSuggestionClient(
    const std::string& address, std::shared_ptr<grpc::ChannelCredentials> credentials,
    RouterSuggestionOptions options) {
  LlmRouterClientOptions router_options;
  router_options.max_timeout = options.max_timeout;
  return std::make_unique<RouterSuggestionClient>(
      MakeLlmRouterClient(address, std::move(credentials), router_options), std::move(options));
}

}  // namespace genesis::reasoning
