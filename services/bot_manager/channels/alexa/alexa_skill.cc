#include "services/bot_manager/channels/alexa/alexa_skill.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/base/status.h"
#include "common/runtime/logging.h"
#include "services/bot_manager/channels/alexa/alexa.h"
#include "services/bot_manager/channels/webhook_util.h"
#include "services/bot_manager/pipeline/reply_rules.h"
#include "services/bot_manager/resource_names.h"

namespace genesis::bot {

namespace {

// The model's handoff marker is for the text channels; it is not spoken.
std::string Spoken(std::string text) {
  for (size_t at; (at = text.find("[HANDOFF]")) != std::string::npos;) text.erase(at, 9);
  return std::string(absl::StripAsciiWhitespace(text));
}

}  // namespace

AlexaSkill::AlexaSkill(BotRegistry* bots, ReplyPipelineStore* store, ReplyPipeline* pipeline,
                       ContextCache* context, ReplyModel* model, const BotManagerOptions& options,
                       const BotMetrics& metrics)
    : bots_(bots),
      store_(store),
      pipeline_(pipeline),
      context_(context),
      model_(model),
      options_(options),
      metrics_(metrics) {}

absl::StatusOr<std::string> AlexaSkill::ReceiveAlexa(const WebhookRequest& req,
                                                     const CallContext& ctx) {
  auto count = [&](const char* result) {
    if (metrics_.webhooks != nullptr) metrics_.webhooks->WithLabels({"alexa", result}).Inc(1);
  };
  auto reject = [&](absl::Status st) {
    count("rejected");
    return st;
  };
  if (!ValidBotId(req.bot)) {
    return reject(InvalidField("bot", absl::StrCat("'", req.bot, "' is not a bot id")));
  }
  if (options_.alexa_verifier == nullptr) {
    return reject(absl::FailedPreconditionError("Alexa requests are not enabled on this service"));
  }
  auto bot = bots_->Cached(req.bot, ctx);
  if (!bot.ok()) return reject(bot.status());
  if (bot->channel != Channel::kAlexa) {
    return reject(absl::FailedPreconditionError(absl::StrCat(
        "bot '", req.bot, "' is a ", ChannelName(bot->channel),
        " bot; its webhooks go to /v1/webhooks/", ChannelName(bot->channel), "/", req.bot)));
  }
  if (auto st = options_.alexa_verifier->Verify(req.Header("signaturecertchainurl"),
                                                req.Header("signature-256"),
                                                req.Header("signature"), req.body);
      !st.ok()) {
    return reject(st);
  }
  auto request = ParseAlexaRequest(req.body);
  if (!request.ok()) return reject(request.status());
  if (auto st =
          CheckAlexaTimestamp(*request, options_.clock->Now(), options_.alexa_timestamp_tolerance);
      !st.ok()) {
    return reject(st);
  }
  if (auto st = CheckAlexaApplication(*request, bot->alexa_skill_id); !st.ok()) return reject(st);

  if (request->type == "LaunchRequest") {
    count("accepted");
    return AlexaResponseJson(options_.alexa_welcome, false);
  }
  if (request->type != "IntentRequest") {
    // SessionEndedRequest, System.ExceptionEncountered, ...: no speech allowed.
    count("accepted");
    return AlexaResponseJson("", true);
  }
  const std::string& intent = request->intent_name;
  if (intent == "AMAZON.StopIntent" || intent == "AMAZON.CancelIntent" ||
      intent == "AMAZON.NoIntent") {
    count("accepted");
    return AlexaResponseJson(options_.alexa_goodbye, true);
  }
  if (intent == "AMAZON.HelpIntent") {
    count("accepted");
    return AlexaResponseJson(options_.alexa_help, false);
  }
  std::string words = AlexaUtterance(*request, options_.alexa_utterance_slots);
  if (words.empty()) {
    count("accepted");
    return AlexaResponseJson(options_.alexa_not_understood, false);
  }
  if (words.size() > 4096) words.resize(4096);
  auto speech = AlexaTurn(*bot, *request, words, ctx);
  if (!speech.ok()) return reject(speech.status());
  count("accepted");
  return AlexaResponseJson(*speech, false);
}

absl::StatusOr<std::string> AlexaSkill::AlexaTurn(const BotConfig& bot, const AlexaRequest& request,
                                                  const std::string& words,
                                                  const CallContext& ctx) {
  const std::string channel = ChannelName(Channel::kAlexa);
  WebhookEvents events;
  events.messages.push_back({request.request_id, request.user_id, request.user_id, words});
  GENESIS_RETURN_IF_ERROR(MakeStorable(&events, "Alexa"));
  // Written leased to this request for the answer's grace period (no worker takes it
  // meanwhile; if this request never records the turn, a worker does after the lease),
  // with the contact's conversation opened in the same statement.
  GENESIS_ASSIGN_OR_RETURN(auto stored, store_->IngestBatch({{bot.id, channel, events}},
                                                            options_.alexa_answer_grace, ctx));
  GENESIS_RETURN_IF_ERROR(stored[0].status);
  if (stored[0].result.accepted == 0 || stored[0].leased.empty()) {
    return absl::AlreadyExistsError(
        absl::StrCat("Alexa request '", request.request_id, "' was already answered"));
  }
  const InboxRow& row = stored[0].leased[0];
  InboxOutcome outcome;
  outcome.inbox_id = row.id;

  Conversation conv;
  if (row.conversation_id != 0) {
    conv.id = row.conversation_id;
    conv.state = row.conversation_state;
  } else {
    GENESIS_ASSIGN_OR_RETURN(conv, store_->OpenConversation(bot.id, request.user_id, ctx));
  }
  std::string speech;
  std::vector<Message> context;
  if (conv.state == kStateHandoffWaiting || conv.state == kStateHandoffActive) {
    speech = options_.alexa_held;  // a person holds it: record the words, no answer
  } else {
    if (auto cached = context_->Get(conv.id, ctx)) {
      context = std::move(*cached);
    } else if (!row.new_conversation) {
      GENESIS_ASSIGN_OR_RETURN(context,
                               store_->RecentMessages(conv.id, bot.max_context_messages, ctx));
    }
    context.push_back({"contact", "", words, options_.clock->Now()});
    CallContext model_ctx = ctx;
    model_ctx.deadline = std::min(ctx.deadline, absl::Now() + options_.alexa_reply_timeout);
    auto reply = model_->Reply(
        bot, TrimContext(context, bot.max_context_messages, options_.max_context_bytes), model_ctx);
    if (reply.ok() && !Spoken(reply->text).empty()) {
      speech = Spoken(reply->text);
      outcome.reply = speech;
      outcome.sandboxed = reply->sandbox || bot.sandbox;
    } else {
      Logger("bot.alexa")
          ->warn("bot {} request {}: no answer from the model: {}", bot.id, request.request_id,
                 reply.ok() ? "empty answer" : std::string(reply.status().message()));
      speech = options_.alexa_unavailable;
      outcome.reset_failures = false;
    }
  }
  if (auto st = store_->CompleteInbox(outcome, ctx); !st.ok()) {
    // The words are still answered; the worker records the row later.
    Logger("bot.alexa")
        ->warn("bot {} request {}: turn not recorded: {}", bot.id, request.request_id,
               st.message());
    return speech;
  }
  Inc(metrics_.inbox_processed);
  if (outcome.reply) {
    pipeline_->OutboxWritten();
    context.push_back({"bot", "", *outcome.reply, options_.clock->Now()});
    context_->Put(conv.id,
                  TrimContext(context, bot.max_context_messages, options_.max_context_bytes), ctx);
  }
  return speech;
}

}  // namespace genesis::bot
