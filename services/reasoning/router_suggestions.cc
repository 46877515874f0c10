#include "services/reasoning/router_suggestions.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/base/status.h"
#include "common/runtime/logging.h"

namespace genesis::reasoning {
namespace {

namespace llm = genesis::llmrouter::v1;

// Bounds of what the prompt carries.
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

}  // namespace

absl::Status ValidateRouterAddress(absl::string_view address) {
  auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("'", address, "' is not host:port (", why, ")"));
  };
  // The gRPC target forms of several replicas (common/rpc/mesh_channel.h);
  // gRPC itself checks the rest.
  for (absl::string_view scheme : {"dns:", "ipv4:", "ipv6:", "unix:"}) {
    if (absl::StartsWith(address, scheme) && address.size() > scheme.size()) {
      return absl::OkStatus();
    }
  }
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
