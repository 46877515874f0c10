#include "services/voice/reply_client.h"

#include <grpcpp/client_context.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/status.h"
#include "common/tls.h"

namespace genesis::voice {
namespace {

namespace llm = genesis::llmrouter::v1;

}  // namespace

absl::StatusOr<Reply> RouterReplyClient::Complete(const ReplyRequest& request,
                                                  const CallContext& ctx) {
  const absl::Time deadline = std::min(ctx.deadline, absl::Now() + max_timeout_);
  if (absl::Now() >= deadline) {
    return absl::DeadlineExceededError("no time was left to ask the LLM router");
  }
  llm::CompleteRequest req;
  auto* m = req.add_messages();
  m->set_role(llm::ROLE_SYSTEM);
  m->set_content(request.system_prompt);
  m = req.add_messages();
  m->set_role(llm::ROLE_USER);
  m->set_content(request.user_text);
  req.set_task(llm::TASK_CHAT);
  req.set_sensitive(request.sensitive);
  req.set_subject(ctx.subject);
  req.set_agent("genesis-voice");
  req.set_max_tokens(max_tokens_);
  grpc::ClientContext call;
  call.set_deadline(absl::ToChronoTime(deadline));
  if (!ctx.request_id.empty()) call.AddMetadata("x-request-id", ctx.request_id);
  llm::CompleteResponse resp;
  grpc::Status st = stub_->Complete(&call, req, &resp);
  if (!st.ok()) return DownstreamStatus(st, "LLM router");
  return Reply{resp.text(), resp.model()};
}

std::unique_ptr<RouterReplyClient> MakeRouterReplyClient(
    const std::string& address, std::shared_ptr<grpc::ChannelCredentials> credentials,
    absl::Duration max_timeout, int max_tokens) {
  auto channel = grpc::CreateChannel(address, std::move(credentials));
  return std::make_unique<RouterReplyClient>(llm::LlmRouterService::NewStub(channel), max_timeout,
                                             max_tokens);
}

}  // namespace genesis::voice
