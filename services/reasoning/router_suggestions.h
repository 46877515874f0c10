// LLM assist over the LLM router (genesis.llmrouter.v1.LlmRouterService).
//
// RouterSuggestionClient asks the router's Complete for task "reasoning" with
// a system prompt that demands a strict JSON answer and a user message that
// describes the case (question, context, hypotheses, evidence; long text is
// cut to bounded sizes), through the shared LlmRouterClient
// (common/rpc/llm_router_client.h: the caller's deadline, request id and subject
// are forwarded). It passes the `sensitive` flag (the router's rule P0 then
// keeps the call on local models) and parses the model's text with the
// Parse*Answer functions of answers.h. Nothing is ever written: the suggestions are
// only returned.
//
// Errors:
//   UNAVAILABLE          the router is unreachable, every model failed, or the
//                        model's answer held no usable JSON (asking again may
//                        help; nothing is cached); never the router's address
//   FAILED_PRECONDITION  the router's, passed through (P0: no local model for a
//                        sensitive case)
//   RESOURCE_EXHAUSTED   the router's (a budget of the subject is spent)
//   DEADLINE_EXCEEDED    the caller's deadline passed first
//   INTERNAL             the router refused the request as invalid (a bug here)
//
// Thread-safe.
#pragma once

#include <memory>
#include <string>

#include <grpcpp/security/credentials.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/rpc/llm_router_client.h"
#include "services/reasoning/answers.h"
#include "services/reasoning/suggestions.h"

namespace genesis::reasoning {

struct RouterSuggestionOptions {
  // Each call ends by the caller's deadline or after this long, whichever is first.
  absl::Duration max_timeout = absl::Seconds(60);
  // CompleteRequest.max_tokens: room for about 20 suggestions with explanations.
  int max_tokens = 2048;
  // CompleteRequest.agent (accounting and budgets in the router).
  std::string agent = "genesis-reasoning";
};

// OK for "host:port" (host a name, an IPv4 address or a bracketed IPv6 one;
// port 1-65535) and for the gRPC targets of several replicas
// ("dns:///host:port", "ipv4:a:p,b:p", "ipv6:…", "unix:…"); INVALID_ARGUMENT
// saying what is wrong otherwise.
[[nodiscard]] absl::Status ValidateRouterAddress(absl::string_view address);

// The prompts (exposed for tests).
[[nodiscard]] std::string HypothesesSystemPrompt(int max);
[[nodiscard]] std::string RatingsSystemPrompt();
[[nodiscard]] std::string DescribeCase(const Case& c);
[[nodiscard]] std::string DescribeDraft(const Evidence& draft);

class RouterSuggestionClient final : public SuggestionClient {
 public:
  // `router` is the LLM router's client (see MakeRouterSuggestionClient);
  // `options.max_timeout` is the router client's to apply.
  RouterSuggestionClient(std::unique_ptr<LlmRouterClient> router, RouterSuggestionOptions options);

  absl::StatusOr<HypothesisSuggestions> ProposeHypotheses(const Case& c, int max,
                                                          const AssistOptions& options,
                                                          const CallContext& ctx) override;
  absl::StatusOr<RatingSuggestions> RateEvidence(const Case& c, const Evidence& evidence,
                                                 const AssistOptions& options,
                                                 const CallContext& ctx) override;

 private:
  // Calls Complete; the answer's text and model, or the mapped error.
  absl::StatusOr<genesis::llmrouter::v1::CompleteResponse> Complete(std::string system,
                                                                    std::string user,
                                                                    const AssistOptions& options,
                                                                    const CallContext& ctx);

  std::unique_ptr<LlmRouterClient> router_;
  RouterSuggestionOptions options_;
};

// A client over MakeLlmRouterClient to `address` (validated by
// ValidateRouterAddress) with `credentials` (MeshChannelCredentials in
// common/rpc/tls.h), each call capped at `options.max_timeout`. The channel
// connects lazily: an unreachable router shows up as UNAVAILABLE per call.
[[nodiscard]] std::unique_ptr<RouterSuggestionClient> MakeRouterSuggestionClient(
    const std::string& address, std::shared_ptr<grpc::ChannelCredentials> credentials,
    RouterSuggestionOptions options = {});

}  // namespace genesis::reasoning
