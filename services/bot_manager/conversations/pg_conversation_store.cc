// PgBotStore, the conversations' part (conversation_store.h): hand-off,
// human replies, proactive messages, erasure, inspection, retention.
#include "services/bot_manager/pg_store.h"

#include "absl/strings/str_cat.h"
#include "common/base/status.h"
#include "common/base/text.h"
#include "common/storage/pg_array.h"
#include "services/bot_manager/pg_rows.h"

namespace genesis::bot {

using namespace pg;  // NOLINT: the row mapping of the bot manager's tables

absl::StatusOr<Conversation> PgBotStore::GetConversation(const std::string& bot_id, int64_t id,
                                                         int message_limit,
                                                         const CallContext& ctx) {
  auto conv = pool_->ReadOnly(
      ctx.deadline, [&](pqxx::read_transaction& tx) -> absl::StatusOr<Conversation> {
        auto r = tx.exec_params(absl::StrCat("SELECT ", kConvColumns,
                                             " FROM bot_manager.conversations c "
                                             "WHERE c.bot_id = $1 AND c.id = $2"),
                                bot_id, id);
        if (r.empty()) return ConversationNotFound(bot_id, id);
        return ConvOf(r[0]);
      });
  if (!conv.ok()) return conv;
  GENESIS_ASSIGN_OR_RETURN(conv->messages, RecentMessages(id, message_limit, ctx));
  return conv;
}

absl::StatusOr<std::vector<Conversation>> PgBotStore::ListConversations(const std::string& bot_id,
                                                                        const std::string& state,
                                                                        int offset, int limit,
                                                                        const CallContext& ctx) {
  return pool_->ReadOnly(
      ctx.deadline, [&](pqxx::read_transaction& tx) -> absl::StatusOr<std::vector<Conversation>> {
        auto r = tx.exec_params(absl::StrCat("SELECT ", kConvColumns,
                                             " FROM bot_manager.conversations c WHERE c.bot_id = "
                                             "$1 AND ($2 = '' OR c.state = $2) ORDER BY "
                                             "c.update_time DESC, c.id DESC OFFSET $3 LIMIT $4"),
                                bot_id, state, offset, limit);
        std::vector<Conversation> out;
        for (const auto& row : r) out.push_back(ConvOf(row));
        return out;
      });
}

absl::StatusOr<std::vector<Conversation>> PgBotStore::ListHandoffQueue(int offset, int limit,
                                                                       const CallContext& ctx) {
  return pool_->ReadOnly(
      ctx.deadline, [&](pqxx::read_transaction& tx) -> absl::StatusOr<std::vector<Conversation>> {
        auto r = tx.exec_params(absl::StrCat("SELECT ", kConvColumns,
                                             " FROM bot_manager.conversations c WHERE c.state = "
                                             "'handoff_waiting' ORDER BY c.handoff_time, c.id "
                                             "OFFSET $1 LIMIT $2"),
                                offset, limit);
        std::vector<Conversation> out;
        for (const auto& row : r) out.push_back(ConvOf(row));
        return out;
      });
}

absl::StatusOr<Conversation> PgBotStore::Claim(const std::string& bot_id, int64_t id,
                                               const std::string& agent, const CallContext& ctx) {
  return pool_->Transaction(ctx.deadline, [&](pqxx::work& tx) -> absl::StatusOr<Conversation> {
    GENESIS_ASSIGN_OR_RETURN(Conversation c, LockConversation(tx, bot_id, id));
    if (c.state == kStateHandoffActive && c.agent != agent) {
      return WithReason(
          absl::FailedPreconditionError(absl::StrCat("the conversation is held by '", c.agent,
                                                     "'; they must release it first")),
          reasons::kConversationHeldByOther, {{"agent", c.agent}});
    }
    auto r = tx.exec_params(
        absl::StrCat("UPDATE bot_manager.conversations c SET state = 'handoff_active', agent = $2, "
                     "handoff_time = coalesce(handoff_time, now()), update_time = now() "
                     "WHERE id = $1 RETURNING ",
                     kConvColumns),
        id, agent);
    return ConvOf(r[0]);
  });
}

absl::StatusOr<Conversation> PgBotStore::Release(const std::string& bot_id, int64_t id,
                                                 const std::string& agent, const CallContext& ctx) {
  return pool_->Transaction(ctx.deadline, [&](pqxx::work& tx) -> absl::StatusOr<Conversation> {
    GENESIS_ASSIGN_OR_RETURN(Conversation c, LockConversation(tx, bot_id, id));
    if (c.state == kStateHandoffActive && c.agent != agent) {
      return WithReason(absl::FailedPreconditionError(absl::StrCat(
                            "the conversation is held by '", c.agent, "', not by '", agent, "'")),
                        reasons::kConversationHeldByOther, {{"agent", c.agent}});
    }
    if (c.state == kStateBot) {
      return WithReason(absl::FailedPreconditionError("the conversation is already with the bot"),
                        reasons::kConversationWithBot);
    }
    auto r = tx.exec_params(
        absl::StrCat("UPDATE bot_manager.conversations c SET state = 'bot', agent = '', "
                     "handoff_reason = '', handoff_time = NULL, failures = 0, update_time = now() "
                     "WHERE id = $1 RETURNING ",
                     kConvColumns),
        id);
    return ConvOf(r[0]);
  });
}

absl::StatusOr<Message> PgBotStore::HumanReply(const std::string& bot_id, int64_t id,
                                               const std::string& agent, const std::string& text,
                                               const std::string& request_id, bool sandboxed,
                                               const CallContext& ctx) {
  return pool_->Transaction(ctx.deadline, [&](pqxx::work& tx) -> absl::StatusOr<Message> {
    GENESIS_ASSIGN_OR_RETURN(Conversation c, LockConversation(tx, bot_id, id));
    if (!request_id.empty()) {
      auto prior = tx.exec_params(
          absl::StrCat("SELECT text, ", Micros("create_time"),
                       " FROM bot_manager.outbox WHERE bot_id = $1 AND request_id = $2"),
          bot_id, request_id);
      if (!prior.empty()) {
        return Message{"human", agent, prior[0][0].as<std::string>(), TimeOf(prior[0][1])};
      }
    }
    if (c.state != kStateHandoffActive || c.agent != agent) {
      return WithReason(
          absl::FailedPreconditionError(absl::StrCat(
              "'", agent, "' does not hold this conversation; claim it first (state ", c.state,
              c.agent.empty() ? "" : absl::StrCat(", held by '", c.agent, "'"), ")")),
          reasons::kConversationNotHeld);
    }
    // Where replies go: the last inbound message's reply address, else the contact.
    auto to = tx.exec_params(
        "SELECT reply_to, channel FROM bot_manager.inbox WHERE bot_id = $1 AND contact = $2 "
        "ORDER BY id DESC LIMIT 1",
        bot_id, c.contact);
    auto bot = tx.exec_params("SELECT channel FROM bot_manager.bots WHERE id = $1", bot_id);
    const std::string recipient = to.empty() ? c.contact : to[0][0].as<std::string>();
    auto m = tx.exec_params(
        absl::StrCat("INSERT INTO bot_manager.messages (conversation_id, author, agent, text) "
                     "VALUES ($1, 'human', $2, $3) RETURNING ",
                     Micros("create_time")),
        id, agent, text);
    auto key = tx.exec("SELECT md5(random()::text || clock_timestamp()::text)");
    tx.exec_params(
        "INSERT INTO bot_manager.outbox (bot_id, channel, contact, recipient, text, request_id, "
        "idempotency_key, state) VALUES ($1, $2, $3, $4, $5, nullif($6, ''), $7, $8)",
        bot_id, bot[0][0].as<std::string>(), c.contact, recipient, text, request_id,
        absl::StrCat(bot_id, "-hu-", key[0][0].as<std::string>()),
        sandboxed ? "sandboxed" : "pending");
    tx.exec_params("UPDATE bot_manager.conversations SET update_time = now() WHERE id = $1", id);
    return Message{"human", agent, text, TimeOf(m[0][0])};
  });
}

absl::StatusOr<ProactiveMessage> PgBotStore::CreateProactive(const NewProactive& p,
                                                             const CallContext& ctx) {
  return pool_->Transaction(ctx.deadline, [&](pqxx::work& tx) -> absl::StatusOr<ProactiveMessage> {
    // The contact row serialises concurrent sends to one recipient (daily limit).
    tx.exec_params(
        "INSERT INTO bot_manager.contacts (bot_id, contact) VALUES ($1, $2) "
        "ON CONFLICT DO NOTHING",
        p.bot_id, p.recipient);
    auto contact = tx.exec_params(
        "SELECT approved FROM bot_manager.contacts WHERE bot_id = $1 AND contact = $2 FOR UPDATE",
        p.bot_id, p.recipient);
    if (!p.request_id.empty()) {
      auto prior = tx.exec_params(
          absl::StrCat(kProactiveSelect, "WHERE p.bot_id = $1 AND p.request_id = $2"), p.bot_id,
          p.request_id);
      if (!prior.empty()) return ProactiveOf(prior[0]);
    }
    auto count = tx.exec_params(
        "SELECT count(*) FROM bot_manager.proactive_messages WHERE bot_id = $1 AND recipient = $2 "
        "AND day = $3::date",
        p.bot_id, p.recipient, p.day);
    if (count[0][0].as<int64_t>() >= p.daily_limit) {
      return WithReason(absl::ResourceExhaustedError(absl::StrCat(
                            "the recipient already has ", p.daily_limit,
                            " proactive message(s) today (the daily maximum); try tomorrow")),
                        reasons::kProactiveDailyLimit, {{"limit", absl::StrCat(p.daily_limit)}});
    }
    bool known = contact[0][0].as<bool>();
    if (!known) {
      auto wrote = tx.exec_params(
          "SELECT 1 FROM bot_manager.conversations WHERE bot_id = $1 AND contact = $2", p.bot_id,
          p.recipient);
      known = !wrote.empty();
    }
    const char* state = known ? kProactiveQueued : kProactiveAwaitingApproval;
    tx.exec_params(
        "INSERT INTO bot_manager.proactive_messages (id, bot_id, recipient, text, state, "
        "request_id, send_time, day) VALUES ($1, $2, $3, $4, $5, nullif($6, ''), "
        "to_timestamp($7), $8::date)",
        p.id, p.bot_id, p.recipient, p.text, state, p.request_id, Seconds(p.send_time), p.day);
    if (known) {
      tx.exec_params(
          "INSERT INTO bot_manager.outbox (bot_id, channel, contact, recipient, text, "
          "proactive_id, idempotency_key, state, next_attempt_time) VALUES ($1, $2, $3, $3, $4, "
          "$5, $6, $7, to_timestamp($8))",
          p.bot_id, p.channel, p.recipient, p.text, p.id, absl::StrCat(p.bot_id, "-pm-", p.id),
          p.sandboxed ? "sandboxed" : "pending", Seconds(p.send_time));
    }
    auto r = tx.exec_params(absl::StrCat(kProactiveSelect, "WHERE p.id = $1"), p.id);
    return ProactiveOf(r[0]);
  });
}

absl::StatusOr<ProactiveMessage> PgBotStore::GetProactive(const std::string& bot_id,
                                                          const std::string& id,
                                                          const CallContext& ctx) {
  return pool_->ReadOnly(
      ctx.deadline, [&](pqxx::read_transaction& tx) -> absl::StatusOr<ProactiveMessage> {
        auto r = tx.exec_params(absl::StrCat(kProactiveSelect, "WHERE p.bot_id = $1 AND p.id = $2"),
                                bot_id, id);
        if (r.empty()) return ProactiveNotFound(bot_id, id);
        return ProactiveOf(r[0]);
      });
}

absl::StatusOr<ProactiveMessage> PgBotStore::ApproveProactive(const std::string& bot_id,
                                                              const std::string& id,
                                                              absl::Time send_time, bool sandboxed,
                                                              const CallContext& ctx) {
  return pool_->Transaction(ctx.deadline, [&](pqxx::work& tx) -> absl::StatusOr<ProactiveMessage> {
    auto r = tx.exec_params(
        absl::StrCat("SELECT p.state, p.recipient, p.text, b.channel, ", Micros("p.send_time"),
                     " FROM bot_manager.proactive_messages p JOIN bot_manager.bots b ON "
                     "b.id = p.bot_id WHERE p.bot_id = $1 AND p.id = $2 FOR UPDATE OF p"),
        bot_id, id);
    if (r.empty()) return ProactiveNotFound(bot_id, id);
    if (r[0][0].as<std::string>() != kProactiveAwaitingApproval) {
      return WithReason(absl::FailedPreconditionError("the message is not awaiting approval"),
                        reasons::kProactiveNotAwaitingApproval);
    }
    const std::string recipient = r[0][1].as<std::string>();
    send_time = std::max(send_time, TimeOf(r[0][4]));
    tx.exec_params(
        "UPDATE bot_manager.contacts SET approved = true WHERE bot_id = $1 AND contact = $2",
        bot_id, recipient);
    tx.exec_params(
        "UPDATE bot_manager.proactive_messages SET state = 'queued', send_time = to_timestamp($2) "
        "WHERE id = $1",
        id, Seconds(send_time));
    tx.exec_params(
        "INSERT INTO bot_manager.outbox (bot_id, channel, contact, recipient, text, "
        "proactive_id, idempotency_key, state, next_attempt_time) VALUES ($1, $2, $3, $3, $4, "
        "$5, $6, $7, to_timestamp($8))",
        bot_id, r[0][3].as<std::string>(), recipient, r[0][2].as<std::string>(), id,
        absl::StrCat(bot_id, "-pm-", id), sandboxed ? "sandboxed" : "pending", Seconds(send_time));
    auto out = tx.exec_params(absl::StrCat(kProactiveSelect, "WHERE p.id = $1"), id);
    return ProactiveOf(out[0]);
  });
}

absl::StatusOr<std::pair<EraseCounts, std::vector<int64_t>>> PgBotStore::EraseContact(
    const std::string& bot_id, const std::string& contact, const CallContext& ctx) {
  using Result = std::pair<EraseCounts, std::vector<int64_t>>;
  return pool_->Transaction(ctx.deadline, [&](pqxx::work& tx) -> absl::StatusOr<Result> {
    auto bot = tx.exec_params("SELECT 1 FROM bot_manager.bots WHERE id = $1", bot_id);
    if (bot.empty()) return BotNotFound(bot_id);
    Result out;
    auto convs = tx.exec_params(
        "SELECT id FROM bot_manager.conversations WHERE bot_id = $1 AND contact = $2", bot_id,
        contact);
    for (const auto& row : convs) out.second.push_back(row[0].as<int64_t>());
    out.first.messages = static_cast<int64_t>(
        tx.exec_params("DELETE FROM bot_manager.messages m USING bot_manager.conversations c "
                       "WHERE m.conversation_id = c.id AND c.bot_id = $1 AND c.contact = $2",
                       bot_id, contact)
            .affected_rows());
    out.first.outbox = static_cast<int64_t>(
        tx.exec_params("DELETE FROM bot_manager.outbox WHERE bot_id = $1 AND (contact = $2 OR "
                       "recipient = $2)",
                       bot_id, contact)
            .affected_rows());
    out.first.inbox = static_cast<int64_t>(
        tx.exec_params("DELETE FROM bot_manager.inbox WHERE bot_id = $1 AND contact = $2", bot_id,
                       contact)
            .affected_rows());
    out.first.proactive = static_cast<int64_t>(
        tx.exec_params(
              "DELETE FROM bot_manager.proactive_messages WHERE bot_id = $1 AND recipient = $2",
              bot_id, contact)
            .affected_rows());
    out.first.conversations = static_cast<int64_t>(
        tx.exec_params("DELETE FROM bot_manager.conversations WHERE bot_id = $1 AND contact = $2",
                       bot_id, contact)
            .affected_rows());
    tx.exec_params("DELETE FROM bot_manager.contacts WHERE bot_id = $1 AND contact = $2", bot_id,
                   contact);
    return out;
  });
}

absl::StatusOr<std::vector<InboxRow>> PgBotStore::ListInbox(const std::string& bot_id,
                                                            int64_t before_id, int limit,
                                                            const CallContext& ctx) {
  return pool_->ReadOnly(
      ctx.deadline, [&](pqxx::read_transaction& tx) -> absl::StatusOr<std::vector<InboxRow>> {
        auto r = tx.exec_params(absl::StrCat("SELECT ", kInboxColumns,
                                             " FROM bot_manager.inbox WHERE bot_id = $1 AND id < "
                                             "$2 ORDER BY id DESC LIMIT $3"),
                                bot_id, before_id, limit);
        std::vector<InboxRow> out;
        for (const auto& row : r) out.push_back(InboxOf(row));
        return out;
      });
}

absl::StatusOr<std::vector<OutboxRow>> PgBotStore::ListOutbox(const std::string& bot_id,
                                                              int64_t before_id, int limit,
                                                              const CallContext& ctx) {
  return pool_->ReadOnly(
      ctx.deadline, [&](pqxx::read_transaction& tx) -> absl::StatusOr<std::vector<OutboxRow>> {
        auto r = tx.exec_params(absl::StrCat("SELECT ", kOutboxColumns,
                                             " FROM bot_manager.outbox WHERE bot_id = $1 AND id < "
                                             "$2 ORDER BY id DESC LIMIT $3"),
                                bot_id, before_id, limit);
        std::vector<OutboxRow> out;
        for (const auto& row : r) out.push_back(OutboxOf(row));
        return out;
      });
}

absl::StatusOr<int64_t> PgBotStore::PurgeBefore(absl::Time cutoff, int limit,
                                                const CallContext& ctx) {
  return pool_->Transaction(ctx.deadline, [&](pqxx::work& tx) -> absl::StatusOr<int64_t> {
    const double at = Seconds(cutoff);
    int64_t n = 0;
    for (const char* sql :
         {"DELETE FROM bot_manager.outbox WHERE id IN (SELECT id FROM bot_manager.outbox "
          "WHERE state <> 'pending' AND create_time < to_timestamp($1) LIMIT $2)",
          "DELETE FROM bot_manager.inbox WHERE id IN (SELECT id FROM bot_manager.inbox "
          "WHERE state <> 'pending' AND create_time < to_timestamp($1) LIMIT $2)",
          "DELETE FROM bot_manager.messages WHERE id IN (SELECT id FROM bot_manager.messages "
          "WHERE create_time < to_timestamp($1) LIMIT $2)",
          "DELETE FROM bot_manager.proactive_messages WHERE id IN (SELECT p.id FROM "
          "bot_manager.proactive_messages p WHERE p.create_time < to_timestamp($1) AND NOT "
          "EXISTS (SELECT 1 FROM bot_manager.outbox o WHERE o.proactive_id = p.id AND "
          "o.state = 'pending') LIMIT $2)",
          "DELETE FROM bot_manager.conversations WHERE id IN (SELECT c.id FROM "
          "bot_manager.conversations c WHERE c.state = 'bot' AND c.update_time < "
          "to_timestamp($1) AND NOT EXISTS (SELECT 1 FROM bot_manager.messages m WHERE "
          "m.conversation_id = c.id) LIMIT $2)"}) {
      n += static_cast<int64_t>(tx.exec_params(sql, at, limit).affected_rows());
    }
    return n;
  });
}
}  // namespace genesis::bot
