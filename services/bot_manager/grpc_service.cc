#include "services/bot_manager/grpc_service.h"

#include <google/protobuf/util/time_util.h>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/base/status.h"

namespace genesis::bot {
namespace {

using google::protobuf::util::TimeUtil;

void SetTime(absl::Time t, google::protobuf::Timestamp* ts) {
  if (t == absl::InfinitePast()) return;
  *ts = TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(t));
}

v1::Channel ToProto(Channel c) {
  switch (c) {
    case Channel::kWhatsApp:
      return v1::CHANNEL_WHATSAPP;
    case Channel::kTelegram:
      return v1::CHANNEL_TELEGRAM;
    case Channel::kMattermost:
      return v1::CHANNEL_MATTERMOST;
    case Channel::kAlexa:
      return v1::CHANNEL_ALEXA;
  }
  return v1::CHANNEL_UNSPECIFIED;
}

v1::Bot ToProto(const BotConfig& b) {
  v1::Bot p;
  p.set_name(absl::StrCat("bots/", b.id));
  p.set_channel(ToProto(b.channel));
  p.set_display_name(b.display_name);
  p.set_system_prompt(b.system_prompt);
  p.set_task_type(b.task_type);
  p.set_webhook_secret_env(b.webhook_secret_env);
  p.set_access_token_env(b.access_token_env);
  p.set_verify_token_env(b.verify_token_env);
  p.set_phone_number_id(b.phone_number_id);
  p.set_alexa_skill_id(b.alexa_skill_id);
  p.set_max_context_messages(b.max_context_messages);
  p.set_max_reply_tokens(b.max_reply_tokens);
  p.set_proactive_daily_limit(b.proactive_daily_limit);
  p.mutable_quiet_hours()->set_start_hour(b.quiet_hours.start_hour);
  p.mutable_quiet_hours()->set_end_hour(b.quiet_hours.end_hour);
  p.mutable_quiet_hours()->set_time_zone(b.quiet_hours.time_zone);
  p.set_sandbox(b.sandbox);
  SetTime(b.create_time, p.mutable_create_time());
  SetTime(b.update_time, p.mutable_update_time());
  p.set_etag(absl::StrCat("\"", b.version, "\""));
  return p;
}

// Unset numbers take the defaults (proto3 cannot tell 0 from unset).
BotConfig FromProto(const v1::Bot& p, bool defaults) {
  BotConfig b;
  switch (p.channel()) {
    case v1::CHANNEL_TELEGRAM:
      b.channel = Channel::kTelegram;
      break;
    case v1::CHANNEL_MATTERMOST:
      b.channel = Channel::kMattermost;
      break;
    case v1::CHANNEL_ALEXA:
      b.channel = Channel::kAlexa;
      break;
    default:
      b.channel = Channel::kWhatsApp;
  }
  b.display_name = p.display_name();
  b.system_prompt = p.system_prompt();
  b.task_type = p.task_type();
  b.webhook_secret_env = p.webhook_secret_env();
  b.access_token_env = p.access_token_env();
  b.verify_token_env = p.verify_token_env();
  b.phone_number_id = p.phone_number_id();
  b.alexa_skill_id = p.alexa_skill_id();
  BotConfig d;
  b.max_context_messages =
      p.max_context_messages() == 0 && defaults ? d.max_context_messages : p.max_context_messages();
  b.max_reply_tokens =
      p.max_reply_tokens() == 0 && defaults ? d.max_reply_tokens : p.max_reply_tokens();
  b.proactive_daily_limit = p.proactive_daily_limit() == 0 && defaults ? d.proactive_daily_limit
                                                                       : p.proactive_daily_limit();
  b.quiet_hours = {p.quiet_hours().start_hour(), p.quiet_hours().end_hour(),
                   p.quiet_hours().time_zone()};
  b.sandbox = p.sandbox();
  return b;
}

v1::ConversationState StateToProto(const std::string& s) {
  if (s == kStateBot) return v1::CONVERSATION_STATE_BOT;
  if (s == kStateHandoffWaiting) return v1::CONVERSATION_STATE_HANDOFF_WAITING;
  if (s == kStateHandoffActive) return v1::CONVERSATION_STATE_HANDOFF_ACTIVE;
  if (s == kStateClosed) return v1::CONVERSATION_STATE_CLOSED;
  return v1::CONVERSATION_STATE_UNSPECIFIED;
}

std::string StateFromProto(v1::ConversationState s) {
  switch (s) {
    case v1::CONVERSATION_STATE_BOT:
      return kStateBot;
    case v1::CONVERSATION_STATE_HANDOFF_WAITING:
      return kStateHandoffWaiting;
    case v1::CONVERSATION_STATE_HANDOFF_ACTIVE:
      return kStateHandoffActive;
    case v1::CONVERSATION_STATE_CLOSED:
      return kStateClosed;
    default:
      return "";
  }
}

v1::Message ToProto(const Message& m) {
  v1::Message p;
  p.set_author(m.author == "contact" ? v1::AUTHOR_CONTACT
               : m.author == "bot"   ? v1::AUTHOR_BOT
               : m.author == "human" ? v1::AUTHOR_HUMAN
                                     : v1::AUTHOR_UNSPECIFIED);
  p.set_text(m.text);
  p.set_agent(m.agent);
  SetTime(m.create_time, p.mutable_create_time());
  return p;
}

v1::Conversation ToProto(const Conversation& c) {
  v1::Conversation p;
  p.set_name(absl::StrCat("bots/", c.bot_id, "/conversations/", c.id));
  p.set_contact(c.contact);
  p.set_state(StateToProto(c.state));
  p.set_handoff_reason(c.handoff_reason);
  p.set_agent(c.agent);
  SetTime(c.create_time, p.mutable_create_time());
  SetTime(c.update_time, p.mutable_update_time());
  if (c.handoff_time) SetTime(*c.handoff_time, p.mutable_handoff_time());
  for (const auto& m : c.messages) *p.add_messages() = ToProto(m);
  return p;
}

v1::ProactiveMessage ToProto(const ProactiveMessage& m) {
  v1::ProactiveMessage p;
  p.set_name(absl::StrCat("bots/", m.bot_id, "/proactiveMessages/", m.id));
  p.set_recipient(m.recipient);
  p.set_text(m.text);
  v1::ProactiveState s = v1::PROACTIVE_STATE_UNSPECIFIED;
  if (m.state == kProactiveAwaitingApproval) s = v1::PROACTIVE_STATE_AWAITING_APPROVAL;
  if (m.state == kProactiveQueued || m.state == "pending") s = v1::PROACTIVE_STATE_QUEUED;
  if (m.state == "sent") s = v1::PROACTIVE_STATE_SENT;
  if (m.state == "delivered") s = v1::PROACTIVE_STATE_DELIVERED;
  if (m.state == "read") s = v1::PROACTIVE_STATE_READ;
  if (m.state == "failed") s = v1::PROACTIVE_STATE_FAILED;
  if (m.state == "sandboxed") s = v1::PROACTIVE_STATE_SANDBOXED;
  p.set_state(s);
  SetTime(m.send_time, p.mutable_send_time());
  SetTime(m.create_time, p.mutable_create_time());
  p.set_error(m.error);
  return p;
}

std::string Upper(const std::string& s) { return absl::AsciiStrToUpper(s); }

// Field names of Bot set in `b` (an empty update mask means these).
std::vector<std::string> PopulatedBotFields(const v1::Bot& b) {
  std::vector<std::string> out;
  if (!b.display_name().empty()) out.push_back("display_name");
  if (!b.system_prompt().empty()) out.push_back("system_prompt");
  if (!b.task_type().empty()) out.push_back("task_type");
  if (!b.webhook_secret_env().empty()) out.push_back("webhook_secret_env");
  if (!b.access_token_env().empty()) out.push_back("access_token_env");
  if (!b.verify_token_env().empty()) out.push_back("verify_token_env");
  if (!b.phone_number_id().empty()) out.push_back("phone_number_id");
  if (!b.alexa_skill_id().empty()) out.push_back("alexa_skill_id");
  if (b.max_context_messages() != 0) out.push_back("max_context_messages");
  if (b.max_reply_tokens() != 0) out.push_back("max_reply_tokens");
  if (b.proactive_daily_limit() != 0) out.push_back("proactive_daily_limit");
  if (b.has_quiet_hours()) out.push_back("quiet_hours");
  if (b.sandbox()) out.push_back("sandbox");
  return out;
}

}  // namespace

#define GENESIS_BOT_UNARY(Method, Req, Resp, Body)                                           \
  grpc::ServerUnaryReactor* BotManagerGrpcService::Method(grpc::CallbackServerContext* ctx,  \
                                                          const Req* req, Resp* resp) {      \
    return dispatcher_->Unary(ctx, #Method, req, [ =, this ](const CallContext& call) Body); \
  }

GENESIS_BOT_UNARY(CreateBot, v1::CreateBotRequest, v1::Bot, {
  if (req->bot().channel() == v1::CHANNEL_UNSPECIFIED) {
    return InvalidField("bot.channel",
                        "required: CHANNEL_WHATSAPP, CHANNEL_TELEGRAM, "
                        "CHANNEL_MATTERMOST or CHANNEL_ALEXA");
  }
  auto bot = logic_->CreateBot(req->bot_id(), FromProto(req->bot(), true), req->request_id(), call);
  if (bot.ok()) *resp = ToProto(*bot);
  return bot.status();
})

GENESIS_BOT_UNARY(GetBot, v1::GetBotRequest, v1::Bot, {
  auto bot = logic_->GetBot(req->name(), call);
  if (bot.ok()) *resp = ToProto(*bot);
  return bot.status();
})

GENESIS_BOT_UNARY(ListBots, v1::ListBotsRequest, v1::ListBotsResponse, {
  auto page = logic_->ListBots(req->page_size(), req->page_token(), call);
  if (!page.ok()) return page.status();
  for (const auto& b : page->values) *resp->add_bots() = ToProto(b);
  resp->set_next_page_token(page->next_page_token);
  return absl::OkStatus();
})

GENESIS_BOT_UNARY(UpdateBot, v1::UpdateBotRequest, v1::Bot, {
  std::vector<std::string> mask(req->update_mask().paths().begin(),
                                req->update_mask().paths().end());
  if (mask.empty()) mask = PopulatedBotFields(req->bot());
  auto bot = logic_->UpdateBot(req->bot().name(), FromProto(req->bot(), false), mask,
                               req->bot().etag(), call);
  if (bot.ok()) *resp = ToProto(*bot);
  return bot.status();
})

GENESIS_BOT_UNARY(DeleteBot, v1::DeleteBotRequest, google::protobuf::Empty,
                  { return logic_->DeleteBot(req->name(), call); })

GENESIS_BOT_UNARY(ListConversations, v1::ListConversationsRequest, v1::ListConversationsResponse, {
  auto page = logic_->ListConversations(req->parent(), StateFromProto(req->state()),
                                        req->page_size(), req->page_token(), call);
  if (!page.ok()) return page.status();
  for (const auto& c : page->values) *resp->add_conversations() = ToProto(c);
  resp->set_next_page_token(page->next_page_token);
  return absl::OkStatus();
})

GENESIS_BOT_UNARY(GetConversation, v1::GetConversationRequest, v1::Conversation, {
  auto c = logic_->GetConversation(req->name(), req->message_limit(), call);
  if (c.ok()) *resp = ToProto(*c);
  return c.status();
})

GENESIS_BOT_UNARY(ListHandoffQueue, v1::ListHandoffQueueRequest, v1::ListHandoffQueueResponse, {
  auto page = logic_->ListHandoffQueue(req->page_size(), req->page_token(), call);
  if (!page.ok()) return page.status();
  for (const auto& c : page->values) *resp->add_conversations() = ToProto(c);
  resp->set_next_page_token(page->next_page_token);
  return absl::OkStatus();
})

GENESIS_BOT_UNARY(ClaimConversation, v1::ClaimConversationRequest, v1::Conversation, {
  auto c = logic_->ClaimConversation(req->name(), req->agent(), call);
  if (c.ok()) *resp = ToProto(*c);
  return c.status();
})

GENESIS_BOT_UNARY(ReplyToConversation, v1::ReplyToConversationRequest, v1::Message, {
  auto m =
      logic_->ReplyToConversation(req->name(), req->agent(), req->text(), req->request_id(), call);
  if (m.ok()) *resp = ToProto(*m);
  return m.status();
})

GENESIS_BOT_UNARY(ReleaseConversation, v1::ReleaseConversationRequest, v1::Conversation, {
  auto c = logic_->ReleaseConversation(req->name(), req->agent(), call);
  if (c.ok()) *resp = ToProto(*c);
  return c.status();
})

GENESIS_BOT_UNARY(CreateProactiveMessage, v1::CreateProactiveMessageRequest, v1::ProactiveMessage, {
  auto m = logic_->CreateProactiveMessage(req->parent(), req->proactive_message().recipient(),
                                          req->proactive_message().text(), req->request_id(), call);
  if (m.ok()) *resp = ToProto(*m);
  return m.status();
})

GENESIS_BOT_UNARY(GetProactiveMessage, v1::GetProactiveMessageRequest, v1::ProactiveMessage, {
  auto m = logic_->GetProactiveMessage(req->name(), call);
  if (m.ok()) *resp = ToProto(*m);
  return m.status();
})

GENESIS_BOT_UNARY(ApproveProactiveMessage, v1::ApproveProactiveMessageRequest, v1::ProactiveMessage,
                  {
                    auto m = logic_->ApproveProactiveMessage(req->name(), call);
                    if (m.ok()) *resp = ToProto(*m);
                    return m.status();
                  })

GENESIS_BOT_UNARY(EraseContact, v1::EraseContactRequest, v1::EraseContactResponse, {
  auto c = logic_->EraseContact(req->name(), call);
  if (!c.ok()) return c.status();
  resp->set_messages_deleted(c->messages);
  resp->set_conversations_deleted(c->conversations);
  resp->set_inbox_entries_deleted(c->inbox);
  resp->set_outbox_entries_deleted(c->outbox);
  resp->set_proactive_messages_deleted(c->proactive);
  resp->set_cache_entries_deleted(c->cache);
  return absl::OkStatus();
})

GENESIS_BOT_UNARY(ListInboxEntries, v1::ListInboxEntriesRequest, v1::ListInboxEntriesResponse, {
  auto page = logic_->ListInbox(req->parent(), req->page_size(), req->page_token(), call);
  if (!page.ok()) return page.status();
  for (const auto& r : page->values) {
    auto* e = resp->add_entries();
    e->set_id(r.id);
    e->set_external_id(r.external_id);
    e->set_contact(r.contact);
    e->set_state(Upper(r.state));
    e->set_attempts(r.attempts);
    e->set_error(r.error);
    SetTime(r.create_time, e->mutable_create_time());
  }
  resp->set_next_page_token(page->next_page_token);
  return absl::OkStatus();
})

GENESIS_BOT_UNARY(ListOutboxEntries, v1::ListOutboxEntriesRequest, v1::ListOutboxEntriesResponse, {
  auto page = logic_->ListOutbox(req->parent(), req->page_size(), req->page_token(), call);
  if (!page.ok()) return page.status();
  for (const auto& r : page->values) {
    auto* e = resp->add_entries();
    e->set_id(r.id);
    e->set_recipient(r.recipient);
    e->set_state(Upper(r.state));
    e->set_attempts(r.attempts);
    e->set_external_id(r.external_id);
    e->set_idempotency_key(r.idempotency_key);
    e->set_error(r.error);
    SetTime(r.create_time, e->mutable_create_time());
    if (r.send_time) SetTime(*r.send_time, e->mutable_send_time());
  }
  resp->set_next_page_token(page->next_page_token);
  return absl::OkStatus();
})

#undef GENESIS_BOT_UNARY

grpc::ServerUnaryReactor* BotWebhookGrpcService::VerifyWhatsAppWebhook(
    grpc::CallbackServerContext* ctx, const v1::VerifyWhatsAppWebhookRequest* req,
    google::api::HttpBody* resp) {
  return dispatcher_->Unary(ctx, "VerifyWhatsAppWebhook", req, [=, this](const CallContext& call) {
    auto challenge = logic_->VerifyWhatsApp(
        req->bot(), req->hub().mode(), req->hub().verify_token(), req->hub().challenge(), call);
    if (!challenge.ok()) return challenge.status();
    resp->set_content_type("text/plain");
    resp->set_data(*challenge);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* BotWebhookGrpcService::Receive(grpc::CallbackServerContext* ctx,
                                                         const char* method, Channel channel,
                                                         const std::string& bot,
                                                         const google::api::HttpBody& body,
                                                         v1::WebhookAck* resp) {
  // Metadata is read here, on the gRPC thread, before the work is queued.
  WebhookRequest request;
  request.bot = bot;
  request.body = body.data();
  request.content_type = body.content_type();
  for (const std::string& name : logic_->WebhookHeaders(channel)) {
    auto it = ctx->client_metadata().find(name);
    if (it != ctx->client_metadata().end()) {
      request.headers[name] = std::string(it->second.data(), it->second.size());
    }
  }
  return dispatcher_->Unary(
      ctx, method, &body,
      [this, channel, resp, request = std::move(request)](const CallContext& call) {
        auto result = logic_->ReceiveWebhook(channel, request, call);
        if (!result.ok()) return result.status();
        resp->set_accepted(result->accepted);
        resp->set_duplicates(result->duplicates);
        resp->set_statuses(result->statuses);
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* BotWebhookGrpcService::ReceiveWhatsAppWebhook(
    grpc::CallbackServerContext* ctx, const v1::ReceiveWhatsAppWebhookRequest* req,
    v1::WebhookAck* resp) {
  return Receive(ctx, "ReceiveWhatsAppWebhook", Channel::kWhatsApp, req->bot(), req->body(), resp);
}

grpc::ServerUnaryReactor* BotWebhookGrpcService::ReceiveTelegramWebhook(
    grpc::CallbackServerContext* ctx, const v1::ReceiveTelegramWebhookRequest* req,
    v1::WebhookAck* resp) {
  return Receive(ctx, "ReceiveTelegramWebhook", Channel::kTelegram, req->bot(), req->body(), resp);
}

grpc::ServerUnaryReactor* BotWebhookGrpcService::ReceiveMattermostWebhook(
    grpc::CallbackServerContext* ctx, const v1::ReceiveMattermostWebhookRequest* req,
    v1::WebhookAck* resp) {
  return Receive(ctx, "ReceiveMattermostWebhook", Channel::kMattermost, req->bot(), req->body(),
                 resp);
}

grpc::ServerUnaryReactor* BotWebhookGrpcService::ReceiveAlexaRequest(
    grpc::CallbackServerContext* ctx, const v1::ReceiveAlexaRequestRequest* req,
    google::api::HttpBody* resp) {
  WebhookRequest request;
  request.bot = req->bot();
  request.body = req->body().data();
  request.content_type = req->body().content_type();
  for (const std::string& name : logic_->WebhookHeaders(Channel::kAlexa)) {
    auto it = ctx->client_metadata().find(name);
    if (it != ctx->client_metadata().end()) {
      request.headers[name] = std::string(it->second.data(), it->second.size());
    }
  }
  return dispatcher_->Unary(ctx, "ReceiveAlexaRequest", req,
                            [this, resp, request = std::move(request)](const CallContext& call) {
                              auto answer = logic_->ReceiveAlexa(request, call);
                              if (!answer.ok()) return answer.status();
                              resp->set_content_type("application/json;charset=UTF-8");
                              resp->set_data(*answer);
                              return absl::OkStatus();
                            });
}

}  // namespace genesis::bot
