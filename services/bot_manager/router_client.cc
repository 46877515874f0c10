#include "services/bot_manager/router_client.h"

#include "absl/strings/str_cat.h"
#include "common/base/status.h"

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
  GENESIS_ASSIGN_OR_RETURN(llm::CompleteResponse resp, router_->Complete(std::move(req), ctx));
  if (resp.text().empty()) return absl::UnavailableError("the model answered with no text");
  return ModelReply{resp.text(), resp.sandbox()};
}

std::unique_ptr<RouterReplyModel> MakeRouterReplyModel(
    const std::string& address, std::shared_ptr<grpc::ChannelCredentials> credentials,
    absl::Duration max_timeout) {
  LlmRouterClientOptions options;
  options.max_timeout = max_timeout;
  options.max_reconnect_backoff = absl::Seconds(5);
  return std::make_unique<RouterReplyModel>(
      MakeLlmRouterClient(address, std::move(credentials), options));
}

}  // namespace genesis::bot
