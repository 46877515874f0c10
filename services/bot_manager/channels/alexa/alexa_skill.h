// Alexa skill requests, answered in the request itself: verified (alexa.h),
// the words sent to the model with the conversation's context, the turn
// recorded like a text channel's (an inbox row born leased to the request,
// the answer as an outbox row marked sent by the senders) and the speech
// returned in the Alexa response format. While a person holds the
// conversation the words are recorded and a fixed answer spoken.
//
// Errors: UNAUTHENTICATED for a bad or missing signature; INVALID_ARGUMENT
// for a stale timestamp, another skill's application id or a malformed body;
// ALREADY_EXISTS for a request id answered before (nothing stored in all
// these cases); FAILED_PRECONDITION when Alexa is not enabled or the bot is
// not an Alexa bot; NOT_FOUND for an unknown bot. Thread-safe.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "common/rpc/call_context.h"
#include "services/bot_manager/channels/alexa/alexa.h"
#include "services/bot_manager/channels/channel_adapter.h"
#include "services/bot_manager/deps.h"
#include "services/bot_manager/metrics.h"
#include "services/bot_manager/options.h"
#include "services/bot_manager/pipeline/pipeline_store.h"
#include "services/bot_manager/pipeline/reply_pipeline.h"
#include "services/bot_manager/registry/bot_registry.h"

namespace genesis::bot {

class AlexaSkill {
 public:
  // Not owned: all outlive the skill. options.alexa_verifier null: refused.
  AlexaSkill(BotRegistry* bots, ReplyPipelineStore* store, ReplyPipeline* pipeline,
             ContextCache* context, ReplyModel* model, const BotManagerOptions& options,
             const BotMetrics& metrics);

  // The Alexa response JSON to a skill request (headers signature-256,
  // signature, signaturecertchainurl).
  absl::StatusOr<std::string> ReceiveAlexa(const WebhookRequest& req, const CallContext& ctx);

 private:
  // The spoken answer to an IntentRequest's words; records the turn.
  absl::StatusOr<std::string> AlexaTurn(const BotConfig& bot, const AlexaRequest& request,
                                        const std::string& words, const CallContext& ctx);

  BotRegistry* const bots_;
  ReplyPipelineStore* const store_;
  ReplyPipeline* const pipeline_;
  ContextCache* const context_;
  ReplyModel* const model_;
  const BotManagerOptions options_;
  const BotMetrics metrics_;
};

}  // namespace genesis::bot
