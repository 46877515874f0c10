// Row mapping shared by the PostgreSQL stores of the bot manager's
// components (pg_store.h): the column lists each SELECT uses and the domain
// types they become, and the not-found statuses. Internal to the pg_*.cc files.
#pragma once

#include <string>

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/base/status.h"
#include "services/bot_manager/model.h"
#include "services/bot_manager/reasons.h"

namespace genesis::bot::pg {

// Micros since the epoch of a timestamptz column.
inline std::string Micros(const std::string& col) {
  return absl::StrCat("(extract(epoch from ", col, ") * 1000000)::bigint");
}

inline absl::Time TimeOf(const pqxx::field& f) {
  return f.is_null() ? absl::InfinitePast() : absl::FromUnixMicros(f.as<int64_t>());
}

inline double Seconds(absl::Time t) { return absl::ToDoubleSeconds(t - absl::UnixEpoch()); }

inline nlohmann::json BotJson(const BotConfig& b) {
  return nlohmann::json{{"display_name", b.display_name},
                        {"system_prompt", b.system_prompt},
                        {"task_type", b.task_type},
                        {"webhook_secret_env", b.webhook_secret_env},
                        {"access_token_env", b.access_token_env},
                        {"verify_token_env", b.verify_token_env},
                        {"phone_number_id", b.phone_number_id},
                        {"alexa_skill_id", b.alexa_skill_id},
                        {"max_context_messages", b.max_context_messages},
                        {"max_reply_tokens", b.max_reply_tokens},
                        {"proactive_daily_limit", b.proactive_daily_limit},
                        {"quiet_start_hour", b.quiet_hours.start_hour},
                        {"quiet_end_hour", b.quiet_hours.end_hour},
                        {"quiet_time_zone", b.quiet_hours.time_zone},
                        {"sandbox", b.sandbox}};
}

inline const std::string kBotColumns = absl::StrCat(
    "id, channel, config::text, version, ", Micros("create_time"), ", ", Micros("update_time"));

inline BotConfig BotOf(const pqxx::row& r) {
  BotConfig b;
  b.id = r[0].as<std::string>();
  b.channel = ChannelFromName(r[1].as<std::string>()).value_or(Channel::kWhatsApp);
  nlohmann::json c = nlohmann::json::parse(r[2].as<std::string>(), nullptr, false);
  if (!c.is_object()) c = nlohmann::json::object();
  b.display_name = c.value("display_name", "");
  b.system_prompt = c.value("system_prompt", "");
  b.task_type = c.value("task_type", "");
  b.webhook_secret_env = c.value("webhook_secret_env", "");
  b.access_token_env = c.value("access_token_env", "");
  b.verify_token_env = c.value("verify_token_env", "");
  b.phone_number_id = c.value("phone_number_id", "");
  b.alexa_skill_id = c.value("alexa_skill_id", "");
  b.max_context_messages = c.value("max_context_messages", 20);
  b.max_reply_tokens = c.value("max_reply_tokens", 512);
  b.proactive_daily_limit = c.value("proactive_daily_limit", 5);
  b.quiet_hours.start_hour = c.value("quiet_start_hour", 0);
  b.quiet_hours.end_hour = c.value("quiet_end_hour", 0);
  b.quiet_hours.time_zone = c.value("quiet_time_zone", "");
  b.sandbox = c.value("sandbox", false);
  b.version = r[3].as<int64_t>();
  b.create_time = TimeOf(r[4]);
  b.update_time = TimeOf(r[5]);
  return b;
}

inline const std::string kConvColumns = absl::StrCat(
    "c.id, c.bot_id, c.contact, c.state, c.handoff_reason, c.agent, c.failures, ",
    Micros("c.create_time"), ", ", Micros("c.update_time"), ", ", Micros("c.handoff_time"));

inline Conversation ConvOf(const pqxx::row& r) {
  Conversation c;
  c.id = r[0].as<int64_t>();
  c.bot_id = r[1].as<std::string>();
  c.contact = r[2].as<std::string>();
  c.state = r[3].as<std::string>();
  c.handoff_reason = r[4].as<std::string>();
  c.agent = r[5].as<std::string>();
  c.failures = r[6].as<int>();
  c.create_time = TimeOf(r[7]);
  c.update_time = TimeOf(r[8]);
  if (!r[9].is_null()) c.handoff_time = TimeOf(r[9]);
  return c;
}

inline const std::string kInboxColumns =
    absl::StrCat("id, bot_id, channel, external_id, contact, reply_to, text, state, attempts, ",
                 "error, ", Micros("create_time"));

inline InboxRow InboxOf(const pqxx::row& r) {
  InboxRow i;
  i.id = r[0].as<int64_t>();
  i.bot_id = r[1].as<std::string>();
  i.channel = r[2].as<std::string>();
  i.external_id = r[3].as<std::string>();
  i.contact = r[4].as<std::string>();
  i.reply_to = r[5].as<std::string>();
  i.text = r[6].as<std::string>();
  i.state = r[7].as<std::string>();
  i.attempts = r[8].as<int>();
  i.error = r[9].as<std::string>();
  i.create_time = TimeOf(r[10]);
  return i;
}

inline const std::string kOutboxColumns = absl::StrCat(
    "id, bot_id, channel, contact, recipient, text, idempotency_key, state, attempts, "
    "coalesce(external_id, ''), error, ",
    Micros("create_time"), ", ", Micros("send_time"));

// The outbox columns starting at column `at` of `r`.
inline OutboxRow OutboxOf(const pqxx::row& r, int at = 0) {
  OutboxRow o;
  o.id = r[at + 0].as<int64_t>();
  o.bot_id = r[at + 1].as<std::string>();
  o.channel = r[at + 2].as<std::string>();
  o.contact = r[at + 3].as<std::string>();
  o.recipient = r[at + 4].as<std::string>();
  o.text = r[at + 5].as<std::string>();
  o.idempotency_key = r[at + 6].as<std::string>();
  o.state = r[at + 7].as<std::string>();
  o.attempts = r[at + 8].as<int>();
  o.external_id = r[at + 9].as<std::string>();
  o.error = r[at + 10].as<std::string>();
  o.create_time = TimeOf(r[at + 11]);
  if (!r[at + 12].is_null()) o.send_time = TimeOf(r[at + 12]);
  return o;
}

// A proactive message's state is its own until queued, then its outbox row's.
inline const std::string kProactiveSelect = absl::StrCat(
    "SELECT p.id, p.bot_id, p.recipient, p.text, "
    "CASE WHEN o.id IS NULL OR o.state = 'pending' THEN p.state ELSE o.state END, "
    "coalesce(nullif(o.error, ''), p.error), ",
    Micros("p.send_time"), ", ", Micros("p.create_time"),
    " FROM bot_manager.proactive_messages p LEFT JOIN bot_manager.outbox o "
    "ON o.proactive_id = p.id ");

inline ProactiveMessage ProactiveOf(const pqxx::row& r) {
  ProactiveMessage p;
  p.id = r[0].as<std::string>();
  p.bot_id = r[1].as<std::string>();
  p.recipient = r[2].as<std::string>();
  p.text = r[3].as<std::string>();
  p.state = r[4].as<std::string>();
  p.error = r[5].as<std::string>();
  p.send_time = TimeOf(r[6]);
  p.create_time = TimeOf(r[7]);
  return p;
}

inline absl::Status BotNotFound(const std::string& id) {
  return WithReason(absl::NotFoundError(absl::StrCat("bot 'bots/", id, "' does not exist")),
                    reasons::kBotNotFound, {{"bot", absl::StrCat("bots/", id)}});
}

inline absl::Status ConversationNotFound(const std::string& bot_id, int64_t id) {
  const std::string name = absl::StrCat("bots/", bot_id, "/conversations/", id);
  return WithReason(absl::NotFoundError(absl::StrCat("conversation '", name, "' does not exist")),
                    reasons::kConversationNotFound, {{"conversation", name}});
}

inline absl::Status ProactiveNotFound(const std::string& bot_id, const std::string& id) {
  const std::string name = absl::StrCat("bots/", bot_id, "/proactiveMessages/", id);
  return WithReason(
      absl::NotFoundError(absl::StrCat("proactive message '", name, "' does not exist")),
      reasons::kProactiveMessageNotFound, {{"proactive_message", name}});
}

// The conversation row, locked.
inline absl::StatusOr<Conversation> LockConversation(pqxx::work& tx, const std::string& bot_id,
                                                     int64_t id) {
  auto r = tx.exec_params(absl::StrCat("SELECT ", kConvColumns,
                                       " FROM bot_manager.conversations c WHERE c.bot_id = $1 "
                                       "AND c.id = $2 FOR UPDATE"),
                          bot_id, id);
  if (r.empty()) return ConversationNotFound(bot_id, id);
  return ConvOf(r[0]);
}

// The inbox columns (kInboxColumns' order) of relation `r`.
inline std::string InboxColumnsOf(const std::string& r) {
  return absl::StrCat(r, ".id, ", r, ".bot_id, ", r, ".channel, ", r, ".external_id, ", r,
                      ".contact, ", r, ".reply_to, ", r, ".text, ", r, ".state, ", r, ".attempts, ",
                      r, ".error, ", Micros(r + ".create_time"));
}

// The outbox columns (kOutboxColumns' order) of relation `r`.
inline std::string OutboxColumnsOf(const std::string& r) {
  return absl::StrCat(r, ".id, ", r, ".bot_id, ", r, ".channel, ", r, ".contact, ", r,
                      ".recipient, ", r, ".text, ", r, ".idempotency_key, ", r, ".state, ", r,
                      ".attempts, coalesce(", r, ".external_id, ''), ", r, ".error, ",
                      Micros(r + ".create_time"), ", ", Micros(r + ".send_time"));
}

}  // namespace genesis::bot::pg
