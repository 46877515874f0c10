// How Converse gets its answer: a ReplyClient turns the transcript into the
// text to speak. RouterReplyClient asks the LLM router
// (genesis.llmrouter.v1.LlmRouterService/Complete, task CHAT) through the
// shared LlmRouterClient (common/rpc/llm_router_client.h: the caller's deadline,
// request id and subject are forwarded), with the `sensitive` flag (the
// router's rule P0 keeps sensitive requests on local models).
//
// Errors:
//   UNAVAILABLE          the router is unreachable or every model failed
//                        (never the router's address)
//   FAILED_PRECONDITION  the router's (P0: no local model for a sensitive request)
//   RESOURCE_EXHAUSTED   the router's (a budget is spent)
//   DEADLINE_EXCEEDED    the caller's deadline passed first
//   INTERNAL             the router refused the request as invalid (a bug here)
// Thread-safe.
#pragma once

#include <memory>
#include <string>

#include <grpcpp/security/credentials.h>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/rpc/call_context.h"
#include "common/rpc/llm_router_client.h"

namespace genesis::voice {

struct ReplyRequest {
  std::string system_prompt;
  std::string user_text;
  std::string language;  // display form
  bool sensitive = false;
};

struct Reply {
  std::string text;
  std::string model;
};

class ReplyClient {
 public:
  virtual ~ReplyClient() = default;
  virtual absl::StatusOr<Reply> Complete(const ReplyRequest& request, const CallContext& ctx) = 0;
};

class RouterReplyClient final : public ReplyClient {
 public:
  RouterReplyClient(std::unique_ptr<LlmRouterClient> router, int max_tokens)
      : router_(std::move(router)), max_tokens_(max_tokens) {}
  absl::StatusOr<Reply> Complete(const ReplyRequest& request, const CallContext& ctx) override;

 private:
  std::unique_ptr<LlmRouterClient> router_;
  int max_tokens_;
};

// Over MakeLlmRouterClient to `address` (host:port) with `credentials`
// (MeshChannelCredentials in common/rpc/tls.h), each call capped at
// `max_timeout`; connects lazily.
[[nodiscard]] std::unique_ptr<RouterReplyClient> MakeRouterReplyClient(
    const std::string& address, std::shared_ptr<grpc::ChannelCredentials> credentials,
    absl::Duration max_timeout, int max_tokens);

}  // namespace genesis::voice
