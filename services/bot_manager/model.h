// The bot manager's domain types: plain structs shared by the logic, the
// store, the workers and the transport (no gRPC, no SQL).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/time.h"

namespace genesis::bot {

enum class Channel { kWhatsApp, kTelegram, kMattermost, kAlexa };

// "whatsapp", "telegram", "mattermost", "alexa" (the stored form).
std::string ChannelName(Channel channel);
std::optional<Channel> ChannelFromName(std::string_view name);

// No proactive sends from start_hour (inclusive) to end_hour (exclusive) in
// `time_zone`; start == end means none; start > end wraps midnight.
struct QuietHours {
  int start_hour = 0;
  int end_hour = 0;
  std::string time_zone;  // IANA; empty is UTC
};

struct BotConfig {
  std::string id;
  Channel channel = Channel::kWhatsApp;
  std::string display_name;
  std::string system_prompt;
  std::string task_type;
  std::string webhook_secret_env;
  std::string access_token_env;
  std::string verify_token_env;
  std::string phone_number_id;
  std::string alexa_skill_id;  // Alexa: the skill's application id
  int max_context_messages = 20;
  int max_reply_tokens = 512;
  int proactive_daily_limit = 5;
  QuietHours quiet_hours;
  bool sandbox = false;
  int64_t version = 0;
  absl::Time create_time;
  absl::Time update_time;
};

// One message a contact sent, as parsed from a webhook.
struct InboundMessage {
  std::string external_id;  // wamid, update_id, post id
  std::string contact;      // who wrote: phone number, Telegram user/chat id, Mattermost user id
  std::string reply_to;     // where the reply goes: phone number, chat id, Mattermost channel id
  std::string text;
};

// A delivery status of a message the bot sent (WhatsApp statuses).
struct DeliveryStatus {
  std::string external_id;  // the wamid the Graph API returned for our send
  std::string status;       // sent, delivered, read, failed
  std::string error;
};

struct WebhookEvents {
  std::vector<InboundMessage> messages;
  std::vector<DeliveryStatus> statuses;
};

struct WebhookResult {
  int accepted = 0;
  int duplicates = 0;
  int statuses = 0;
};

struct Message {
  std::string author;  // contact, bot, human
  std::string agent;
  std::string text;
  absl::Time create_time;
};

// Conversation states as stored: bot, handoff_waiting, handoff_active, closed.
inline constexpr char kStateBot[] = "bot";
inline constexpr char kStateHandoffWaiting[] = "handoff_waiting";
inline constexpr char kStateHandoffActive[] = "handoff_active";
inline constexpr char kStateClosed[] = "closed";

struct Conversation {
  int64_t id = 0;
  std::string bot_id;
  std::string contact;
  std::string state = kStateBot;
  std::string handoff_reason;
  std::string agent;
  int failures = 0;
  absl::Time create_time;
  absl::Time update_time;
  std::optional<absl::Time> handoff_time;
  std::vector<Message> messages;  // filled by GetConversation only
};

struct InboxRow {
  int64_t id = 0;
  std::string bot_id;
  std::string channel;
  std::string external_id;
  std::string contact;
  std::string reply_to;
  std::string text;
  std::string state;  // pending, done, failed
  int attempts = 0;
  std::string error;
  absl::Time create_time;
  // Filled when the row is handed over at ingestion (BotStore::IngestBatch
  // with a lease): the contact's conversation as it was then, 0 when unknown.
  int64_t conversation_id = 0;
  std::string conversation_state;
  bool new_conversation = false;  // created by this ingestion: no history yet
  // Taken by a claim (the oldest waiting message of its conversation), not
  // handed over at ingestion (set by the worker, not stored).
  bool claimed = false;
};

struct OutboxRow {
  int64_t id = 0;
  std::string bot_id;
  std::string channel;
  std::string contact;
  std::string recipient;
  std::string text;
  std::string idempotency_key;
  std::string state;  // pending, sent, delivered, read, failed, sandboxed
  int attempts = 0;
  std::string external_id;
  std::string error;
  absl::Time create_time;
  std::optional<absl::Time> send_time;
  // Set by ClaimOutbox when an earlier send of this row started and was never
  // marked sent (a crash or a timeout): sending again may repeat it.
  std::optional<absl::Time> send_started;
};

// Proactive message states as stored.
inline constexpr char kProactiveAwaitingApproval[] = "awaiting_approval";
inline constexpr char kProactiveQueued[] = "queued";

struct ProactiveMessage {
  std::string id;
  std::string bot_id;
  std::string recipient;
  std::string text;
  // awaiting_approval, queued, sent, delivered, read, failed, sandboxed
  // (after queueing, the state of its outbox row).
  std::string state;
  std::string error;
  absl::Time send_time;
  absl::Time create_time;
};

struct EraseCounts {
  int64_t messages = 0;
  int64_t conversations = 0;
  int64_t inbox = 0;
  int64_t outbox = 0;
  int64_t proactive = 0;
  int64_t cache = 0;
};

}  // namespace genesis::bot
