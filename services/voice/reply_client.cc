#include "services/voice/reply_client.h"

namespace genesis::voice {
namespace {

namespace llm = genesis::llmrouter::v1;

}  // namespace

absl::StatusOr<Reply> RouterReplyClient::Complete(const ReplyRequest& request,
                                                  const CallContext& ctx) {
  llm::CompleteRequest req;
  auto* m = req.add_messages();
  m->set_role(llm::ROLE_SYSTEM);
  m->set_content(request.system_prompt);
  m = req.add_messages();
  m->set_role(llm::ROLE_USER);
  m->set_content(request.user_text);
  req.set_task(llm::TASK_CHAT);
  req.set_sensitive(request.sensitive);
  req.set_agent("genesis-voice");
  req.set_max_tokens(max_tokens_);
  auto resp = router_->Complete(std::move(req), ctx);
  if (!resp.ok()) return resp.status();
  return Reply{resp->text(), resp->model()};
}

std::unique_ptr<RouterReplyClient> MakeRouterReplyClient(
    const std::string& address, std::shared_ptr<grpc::ChannelCredentials> credentials,
    absl::Duration max_timeout, int max_tokens) {
  LlmRouterClientOptions options;
  options.max_timeout = max_timeout;
  return std::make_unique<RouterReplyClient>(
      MakeLlmRouterClient(address, std::move(credentials), options), max_tokens);
}

}  // namespace genesis::voice
