#include "services/bot_manager/router_client.h"

#include <grpcpp/client_context.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/channel_arguments.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/status.h"
#include "common/tls.h"

namespace genesis::bot {

namespace llm = genesis::llmrouter::v1;

std::optional<llm::Task> TaskOf(const std::string& task_type) {
  if (task_type.empty()) return llm::TASK_UNSPECIFIED;
  if (task_type == "chat") return llm::TASK_CHAT;
  if (task_type == "reasoning") return llm::TASK_REASONING;
  if (task_type == "classification") return llm::TASK_CLASSIFICATION;
  if (task_type == "extraction") return llm::TASK_EXTRACTION;
  if (task_type == "long_context") return llm::TASK_LONG_CONTEXT;
  if (task_type == "summarization") return llm::TASK_SUMMARIZATION;
  return std::nullopt;
}

absl::StatusOr<ModelReply> RouterReplyModel::Reply(const BotConfig& bot,
                                                   const std::vector<Message>& context,
                                                   const CallContext& ctx) {
  llm::CompleteRequest req;
  if (!bot.system_prompt.empty()) {
    auto* m = req.add_messages();
    m->set_role(llm::ROLE_SYSTEM);
    m->set_content(bot.system_prompt);
  }
  for (const auto& msg : context) {
    auto* m = req.add_messages();
    m->set_role(msg.author == "contact" ? llm::ROLE_USER : llm::ROLE_ASSISTANT);
    m->set_content(msg.text);
  }
  req.set_task(TaskOf(bot.task_type).value_or(llm::TASK_CHAT));
  req.set_max_tokens(bot.max_reply_tokens);
  req.set_subject(absl::StrCat("bots/", bot.id));
  req.set_agent("genesis-bot-manager");
  grpc::ClientContext call;
  call.set_deadline(absl::ToChronoTime(std::min(ctx.deadline, absl::Now() + max_timeout_)));
  if (!ctx.request_id.empty()) call.AddMetadata("x-request-id", ctx.request_id);
  llm::CompleteResponse resp;
  grpc::Status st = stub_->Complete(&call, req, &resp);
  if (!st.ok()) return DownstreamStatus(st, "LLM router");
  if (resp.text().empty()) return absl::UnavailableError("the model answered with no text");
  return ModelReply{resp.text(), resp.sandbox()};
}

std::unique_ptr<RouterReplyModel> MakeRouterReplyModel(
    const std::string& address, std::shared_ptr<grpc::ChannelCredentials> credentials,
    absl::Duration max_timeout) {
  // gRPC's reconnect backoff grows to 120 s by default: after a long router
  // outage the channel would stay failed well after the router is back. 5 s
  // bounds what the outage costs beyond itself.
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 5000);
  auto channel = grpc::CreateCustomChannel(address, std::move(credentials), args);
  return std::make_unique<RouterReplyModel>(llm::LlmRouterService::NewStub(channel), max_timeout);
}

}  // namespace genesis::bot
