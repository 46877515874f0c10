// ReplyModel over the LLM router, through the mesh's one router client
// (common/rpc/llm_router_client.h: deadline, request id, errors): the bot's
// persona as the system message, the conversation as user/assistant
// messages, the bot's task type and reply size, the bot as the subject. The
// router's `sandbox` flag comes back in ModelReply.
//
// Errors: UNAVAILABLE (router unreachable or every model failed, worth a
// retry), DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED (a budget is spent),
// FAILED_PRECONDITION (rule P0 left no model), INTERNAL (the router refused
// the request as invalid). Thread-safe.
#pragma once

#include <memory>
#include <string>

#include <grpcpp/security/credentials.h>

#include "common/rpc/llm_router_client.h"
#include "genesis/llmrouter/v1/llm_router.grpc.pb.h"
#include "services/bot_manager/deps.h"

namespace genesis::bot {

// TASK_* of a bot's task type ("chat", "reasoning", ...; "" is unspecified);
// nullopt for an unknown name.
std::optional<genesis::llmrouter::v1::Task> TaskOf(const std::string& task_type);

class RouterReplyModel final : public ReplyModel {
 public:
  explicit RouterReplyModel(std::unique_ptr<LlmRouterClient> router) : router_(std::move(router)) {}

  absl::StatusOr<ModelReply> Reply(const BotConfig& bot, const std::vector<Message>& context,
                                   const CallContext& ctx) override;

 private:
  std::unique_ptr<LlmRouterClient> router_;
};

// Over a channel to host:port with `credentials` (MeshChannelCredentials in
// common/rpc/tls.h; connects lazily; reconnects at most 5 s apart while the
// router is down); each call waits at most `max_timeout`.
std::unique_ptr<RouterReplyModel> MakeRouterReplyModel(
    const std::string& address, std::shared_ptr<grpc::ChannelCredentials> credentials,
    absl::Duration max_timeout);

}  // namespace genesis::bot
