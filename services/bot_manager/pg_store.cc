#include "services/bot_manager/pg_store.h"

#include <map>
#include <set>
#include <tuple>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "common/pg_array.h"
#include "common/status.h"
#include "common/text.h"

namespace genesis::bot {
namespace {

using nlohmann::json;

// Micros since the epoch of a timestamptz column.
std::string Micros(const std::string& col) {
  return absl::StrCat("(extract(epoch from ", col, ") * 1000000)::bigint");
}

absl::Time TimeOf(const pqxx::field& f) {
  return f.is_null() ? absl::InfinitePast() : absl::FromUnixMicros(f.as<int64_t>());
}

double Seconds(absl::Time t) { return absl::ToDoubleSeconds(t - absl::UnixEpoch()); }

json BotJson(const BotConfig& b) {
  return json{{"display_name", b.display_name},
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

const std::string kBotColumns = absl::StrCat("id, channel, config::text, version, ",
                                             Micros("create_time"), ", ", Micros("update_time"));

BotConfig BotOf(const pqxx::row& r) {
  BotConfig b;
  b.id = r[0].as<std::string>();
  b.channel = ChannelFromName(r[1].as<std::string>()).value_or(Channel::kWhatsApp);
  json c = json::parse(r[2].as<std::string>(), nullptr, false);
  if (!c.is_object()) c = json::object();
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

const std::string kConvColumns = absl::StrCat(
    "c.id, c.bot_id, c.contact, c.state, c.handoff_reason, c.agent, c.failures, ",
    Micros("c.create_time"), ", ", Micros("c.update_time"), ", ", Micros("c.handoff_time"));

Conversation ConvOf(const pqxx::row& r) {
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

const std::string kInboxColumns =
    absl::StrCat("id, bot_id, channel, external_id, contact, reply_to, text, state, attempts, ",
                 "error, ", Micros("create_time"));

InboxRow InboxOf(const pqxx::row& r) {
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

const std::string kOutboxColumns = absl::StrCat(
    "id, bot_id, channel, contact, recipient, text, idempotency_key, state, attempts, "
    "coalesce(external_id, ''), error, ",
    Micros("create_time"), ", ", Micros("send_time"));

// The outbox columns starting at column `at` of `r`.
OutboxRow OutboxOf(const pqxx::row& r, int at = 0) {
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
const std::string kProactiveSelect = absl::StrCat(
    "SELECT p.id, p.bot_id, p.recipient, p.text, "
    "CASE WHEN o.id IS NULL OR o.state = 'pending' THEN p.state ELSE o.state END, "
    "coalesce(nullif(o.error, ''), p.error), ",
    Micros("p.send_time"), ", ", Micros("p.create_time"),
    " FROM bot_manager.proactive_messages p LEFT JOIN bot_manager.outbox o "
    "ON o.proactive_id = p.id ");

ProactiveMessage ProactiveOf(const pqxx::row& r) {
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

absl::Status BotNotFound(const std::string& id) {
  return absl::NotFoundError(absl::StrCat("bot 'bots/", id, "' does not exist"));
}

absl::Status ConversationNotFound(const std::string& bot_id, int64_t id) {
  return absl::NotFoundError(
      absl::StrCat("conversation 'bots/", bot_id, "/conversations/", id, "' does not exist"));
}

// The conversation row, locked.
absl::StatusOr<Conversation> LockConversation(pqxx::work& tx, const std::string& bot_id,
                                              int64_t id) {
  auto r = tx.exec_params(absl::StrCat("SELECT ", kConvColumns,
                                       " FROM bot_manager.conversations c WHERE c.bot_id = $1 "
                                       "AND c.id = $2 FOR UPDATE"),
                          bot_id, id);
  if (r.empty()) return ConversationNotFound(bot_id, id);
  return ConvOf(r[0]);
}

}  // namespace

absl::StatusOr<BotConfig> PgBotStore::CreateBot(const BotConfig& bot, const CallContext& ctx) {
  return pool_->Transaction(ctx.deadline, [&](pqxx::work& tx) -> absl::StatusOr<BotConfig> {
    auto r = tx.exec_params(absl::StrCat("INSERT INTO bot_manager.bots (id, channel, config) "
                                         "VALUES ($1, $2, $3::jsonb) ON CONFLICT (id) DO NOTHING "
                                         "RETURNING ",
                                         kBotColumns),
                            bot.id, ChannelName(bot.channel), BotJson(bot).dump());
    if (r.empty()) {
      return absl::AlreadyExistsError(absl::StrCat("bot 'bots/", bot.id, "' already exists"));
    }
    return BotOf(r[0]);
  });
}

absl::StatusOr<BotConfig> PgBotStore::GetBot(const std::string& id, const CallContext& ctx) {
  return pool_->ReadOnly(ctx.deadline,
                         [&](pqxx::read_transaction& tx) -> absl::StatusOr<BotConfig> {
                           auto r = tx.exec_params(absl::StrCat("SELECT ", kBotColumns,
                                                                " FROM bot_manager.bots "
                                                                "WHERE id = $1"),
                                                   id);
                           if (r.empty()) return BotNotFound(id);
                           return BotOf(r[0]);
                         });
}

absl::StatusOr<std::vector<BotConfig>> PgBotStore::ListBots(const std::string& after_id, int limit,
                                                            const CallContext& ctx) {
  return pool_->ReadOnly(
      ctx.deadline, [&](pqxx::read_transaction& tx) -> absl::StatusOr<std::vector<BotConfig>> {
        auto r = tx.exec_params(absl::StrCat("SELECT ", kBotColumns,
                                             " FROM bot_manager.bots WHERE id > $1 "
                                             "ORDER BY id LIMIT $2"),
                                after_id, limit);
        std::vector<BotConfig> out;
        for (const auto& row : r) out.push_back(BotOf(row));
        return out;
      });
}

absl::StatusOr<BotConfig> PgBotStore::UpdateBot(const BotConfig& bot, int64_t expected_version,
                                                const CallContext& ctx) {
  return pool_->Transaction(ctx.deadline, [&](pqxx::work& tx) -> absl::StatusOr<BotConfig> {
    auto r = tx.exec_params(
        absl::StrCat("UPDATE bot_manager.bots SET config = $2::jsonb, version = version + 1, "
                     "update_time = now() WHERE id = $1 AND version = $3 RETURNING ",
                     kBotColumns),
        bot.id, BotJson(bot).dump(), expected_version);
    if (!r.empty()) return BotOf(r[0]);
    auto exists = tx.exec_params("SELECT 1 FROM bot_manager.bots WHERE id = $1", bot.id);
    if (exists.empty()) return BotNotFound(bot.id);
    return absl::AbortedError(
        absl::StrCat("bot 'bots/", bot.id, "' was changed meanwhile; get it again and retry"));
  });
}

absl::Status PgBotStore::DeleteBot(const std::string& id, const CallContext& ctx) {
  return pool_->Transaction(ctx.deadline, [&](pqxx::work& tx) -> absl::Status {
    // Outbox rows reference inbox rows and proactive messages: drop them first.
    tx.exec_params("DELETE FROM bot_manager.outbox WHERE bot_id = $1", id);
    auto r = tx.exec_params("DELETE FROM bot_manager.bots WHERE id = $1", id);
    if (r.affected_rows() == 0) return BotNotFound(id);
    return absl::OkStatus();
  });
}

namespace {

// The inbox columns (kInboxColumns' order) of relation `r`.
std::string InboxColumnsOf(const std::string& r) {
  return absl::StrCat(r, ".id, ", r, ".bot_id, ", r, ".channel, ", r, ".external_id, ", r,
                      ".contact, ", r, ".reply_to, ", r, ".text, ", r, ".state, ", r, ".attempts, ",
                      r, ".error, ", Micros(r + ".create_time"));
}

// The outbox columns (kOutboxColumns' order) of relation `r`.
std::string OutboxColumnsOf(const std::string& r) {
  return absl::StrCat(r, ".id, ", r, ".bot_id, ", r, ".channel, ", r, ".contact, ", r,
                      ".recipient, ", r, ".text, ", r, ".idempotency_key, ", r, ".state, ", r,
                      ".attempts, coalesce(", r, ".external_id, ''), ", r, ".error, ",
                      Micros(r + ".create_time"), ", ", Micros(r + ".send_time"));
}

// Inserts the messages of items[i] for every i in `which`, in one statement:
// new rows only (a redelivery or a second copy in the batch is a duplicate),
// born leased with a positive `lease`, and then with their contacts'
// conversations opened (created when new). Fills out[i].result and .leased.
void InsertInbox(pqxx::transaction_base& tx, const std::vector<IngestItem>& items,
                 const std::vector<size_t>& which, absl::Duration lease,
                 std::vector<IngestOutcome>* out) {
  std::vector<std::string> bot, channel, external, contact, reply_to, text;
  for (size_t i : which) {
    for (const auto& m : items[i].events.messages) {
      bot.push_back(items[i].bot_id);
      channel.push_back(items[i].channel);
      external.push_back(m.external_id);
      contact.push_back(m.contact);
      reply_to.push_back(m.reply_to);
      text.push_back(m.text);
    }
  }
  if (bot.empty()) return;
  const bool leased = lease > absl::ZeroDuration();
  // The conversation of a new row: the one created here (its id from `cins`), else the one
  // that was there (the statement's snapshot does not see rows it inserts).
  static const std::string kSql = absl::StrCat(
      "WITH ins AS (INSERT INTO bot_manager.inbox (bot_id, channel, external_id, contact, "
      "reply_to, text, lease_until, attempts) SELECT m.b, m.c, m.e, m.ct, m.r, m.t, CASE WHEN $7 "
      "THEN now() + make_interval(secs => $8) END, CASE WHEN $7 THEN 1 ELSE 0 END FROM "
      "unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[]) WITH "
      "ORDINALITY AS m(b, c, e, ct, r, t, n) ORDER BY m.n ON CONFLICT (bot_id, channel, "
      "external_id) DO NOTHING RETURNING *), "
      "cins AS (INSERT INTO bot_manager.conversations (bot_id, contact) SELECT DISTINCT bot_id, "
      "contact FROM ins WHERE $7 ORDER BY 1, 2 ON CONFLICT (bot_id, contact) DO NOTHING "
      "RETURNING id, bot_id, contact, state) "
      "SELECT ",
      InboxColumnsOf("ins"),
      ", coalesce(cins.id, c.id, 0), coalesce(cins.state, c.state, ''), cins.id IS NOT NULL "
      "FROM ins LEFT JOIN cins ON cins.bot_id = ins.bot_id AND cins.contact = ins.contact "
      "LEFT JOIN bot_manager.conversations c ON $7 AND c.bot_id = ins.bot_id AND "
      "c.contact = ins.contact");
  auto r = tx.exec_params(kSql, PgArray(bot), PgArray(channel), PgArray(external), PgArray(contact),
                          PgArray(reply_to), PgArray(text), leased, absl::ToDoubleSeconds(lease));
  // The new rows by (bot, channel, external id); whatever is missing was there before.
  std::map<std::tuple<std::string, std::string, std::string>, InboxRow> inserted;
  for (const auto& row : r) {
    InboxRow in = InboxOf(row);
    in.conversation_id = row[11].as<int64_t>();
    in.conversation_state = row[12].as<std::string>();
    in.new_conversation = row[13].as<bool>();
    inserted.emplace(std::make_tuple(in.bot_id, in.channel, in.external_id), std::move(in));
  }
  for (size_t i : which) {
    for (const auto& m : items[i].events.messages) {
      auto it = inserted.find(std::make_tuple(items[i].bot_id, items[i].channel, m.external_id));
      if (it == inserted.end()) {
        ++(*out)[i].result.duplicates;
        continue;
      }
      ++(*out)[i].result.accepted;
      if (leased) (*out)[i].leased.push_back(std::move(it->second));
      inserted.erase(it);  // a second copy in this batch is a duplicate
    }
  }
}

}  // namespace

absl::StatusOr<std::vector<IngestOutcome>> PgBotStore::IngestBatch(
    const std::vector<IngestItem>& items, absl::Duration lease, const CallContext& ctx) {
  std::vector<size_t> all;
  bool statuses = false;
  for (size_t i = 0; i < items.size(); ++i) {
    all.push_back(i);
    statuses = statuses || !items[i].events.statuses.empty();
  }
  // The common case — messages only, every bot there — is one statement in one round trip.
  if (!statuses) {
    bool bot_missing = false;
    auto fast = pool_->Autocommit(
        ctx.deadline,
        [&](pqxx::transaction_base& tx) -> absl::StatusOr<std::vector<IngestOutcome>> {
          std::vector<IngestOutcome> out(items.size());
          try {
            InsertInbox(tx, items, all, lease, &out);
          } catch (const pqxx::foreign_key_violation&) {
            bot_missing = true;  // nothing was inserted: the statement failed whole
            return absl::FailedPreconditionError("a bot of the batch does not exist");
          }
          return out;
        });
    if (!bot_missing) return fast;
  }
  // Statuses, or a bot deleted meanwhile: the bots checked (and locked against a delete)
  // first, each webhook answered on its own.
  return pool_->Transaction(
      ctx.deadline, [&](pqxx::work& tx) -> absl::StatusOr<std::vector<IngestOutcome>> {
        std::vector<IngestOutcome> out(items.size());
        std::vector<std::string> bot_ids;
        for (const auto& item : items) bot_ids.push_back(item.bot_id);
        std::set<std::string> bots;
        for (const auto& r : tx.exec_params(
                 "SELECT id FROM bot_manager.bots WHERE id = ANY($1::text[]) FOR KEY SHARE",
                 PgArray(bot_ids))) {
          bots.insert(r[0].as<std::string>());
        }
        std::vector<size_t> known;
        for (size_t i = 0; i < items.size(); ++i) {
          if (bots.count(items[i].bot_id)) {
            known.push_back(i);
          } else {
            out[i].status = BotNotFound(items[i].bot_id);
          }
        }
        InsertInbox(tx, items, known, lease, &out);
        // Statuses only move forward: sent < delivered < read; failed from any.
        for (size_t i : known) {
          for (const auto& s : items[i].events.statuses) {
            auto r = tx.exec_params(
                "UPDATE bot_manager.outbox SET state = $3, error = CASE WHEN $3 = 'failed' THEN "
                "$4 ELSE error END WHERE bot_id = $1 AND external_id = $2 AND ("
                "($3 = 'failed' AND state IN ('sent', 'delivered')) OR "
                "($3 = 'delivered' AND state = 'sent') OR "
                "($3 = 'read' AND state IN ('sent', 'delivered')))",
                items[i].bot_id, s.external_id, s.status, s.error);
            out[i].result.statuses += static_cast<int>(r.affected_rows());
          }
        }
        return out;
      });
}

absl::StatusOr<std::vector<InboxRow>> PgBotStore::ClaimInbox(int limit, absl::Duration lease,
                                                             const CallContext& ctx) {
  return pool_->Transaction(
      ctx.deadline, [&](pqxx::work& tx) -> absl::StatusOr<std::vector<InboxRow>> {
        auto r = tx.exec_params(
            absl::StrCat("UPDATE bot_manager.inbox SET lease_until = now() + make_interval("
                         "secs => $2), attempts = attempts + 1 WHERE id IN ("
                         "SELECT i.id FROM bot_manager.inbox i WHERE i.state = 'pending' AND "
                         "(i.lease_until IS NULL OR i.lease_until < now()) AND (i.channel = "
                         "'alexa' OR NOT EXISTS (SELECT 1 FROM bot_manager.inbox e WHERE "
                         "e.state = 'pending' AND e.bot_id = i.bot_id AND e.contact = i.contact "
                         "AND e.id < i.id AND e.channel <> 'alexa')) ORDER BY i.id "
                         "LIMIT $1 FOR UPDATE OF i SKIP LOCKED) RETURNING ",
                         kInboxColumns),
            limit, absl::ToDoubleSeconds(lease));
        std::vector<InboxRow> out;
        for (const auto& row : r) out.push_back(InboxOf(row));
        std::sort(out.begin(), out.end(),
                  [](const InboxRow& a, const InboxRow& b) { return a.id < b.id; });
        return out;
      });
}

absl::StatusOr<Conversation> PgBotStore::OpenConversation(const std::string& bot_id,
                                                          const std::string& contact,
                                                          const CallContext& ctx) {
  return pool_->Transaction(ctx.deadline, [&](pqxx::work& tx) -> absl::StatusOr<Conversation> {
    const std::string select = absl::StrCat("SELECT ", kConvColumns,
                                            " FROM bot_manager.conversations c "
                                            "WHERE c.bot_id = $1 AND c.contact = $2");
    // Most messages come from contacts who wrote before: read first, insert only when new.
    auto r = tx.exec_params(select, bot_id, contact);
    if (r.empty()) {
      tx.exec_params(
          "INSERT INTO bot_manager.conversations (bot_id, contact) VALUES ($1, $2) "
          "ON CONFLICT (bot_id, contact) DO NOTHING",
          bot_id, contact);
      r = tx.exec_params(select, bot_id, contact);
    }
    if (r.empty()) return BotNotFound(bot_id);
    return ConvOf(r[0]);
  });
}

absl::StatusOr<std::vector<Message>> PgBotStore::RecentMessages(int64_t conversation_id, int limit,
                                                                const CallContext& ctx) {
  return pool_->ReadOnly(
      ctx.deadline, [&](pqxx::read_transaction& tx) -> absl::StatusOr<std::vector<Message>> {
        auto r = tx.exec_params(
            absl::StrCat("SELECT author, agent, text, ", Micros("create_time"),
                         " FROM (SELECT * FROM bot_manager.messages WHERE conversation_id = $1 "
                         "ORDER BY id DESC LIMIT $2) m ORDER BY id"),
            conversation_id, limit);
        std::vector<Message> out;
        for (const auto& row : r) {
          out.push_back({row[0].as<std::string>(), row[1].as<std::string>(),
                         row[2].as<std::string>(), TimeOf(row[3])});
        }
        return out;
      });
}

absl::StatusOr<std::vector<CompletionResult>> PgBotStore::CompleteInboxBatch(
    const std::vector<InboxOutcome>& outcomes, absl::Duration outbox_lease,
    const CallContext& ctx) {
  return pool_->Transaction(
      ctx.deadline, [&](pqxx::work& tx) -> absl::StatusOr<std::vector<CompletionResult>> {
        std::vector<CompletionResult> out(outcomes.size());
        // The rows, locked in id order (two batches never wait on each other in a cycle).
        std::vector<int64_t> ids;
        for (const auto& o : outcomes) ids.push_back(o.inbox_id);
        std::map<int64_t, InboxRow> rows;
        for (const auto& r :
             tx.exec_params(absl::StrCat("SELECT ", kInboxColumns,
                                         " FROM bot_manager.inbox WHERE id = ANY($1::bigint[]) "
                                         "ORDER BY id FOR UPDATE"),
                            PgArray(ids))) {
          InboxRow in = InboxOf(r);
          rows.emplace(in.id, std::move(in));
        }
        // The conversations of the rows still pending, locked (created when missing:
        // new contacts, or erased meanwhile).
        std::set<std::pair<std::string, std::string>> keys;
        for (size_t i = 0; i < outcomes.size(); ++i) {
          auto it = rows.find(outcomes[i].inbox_id);
          if (it == rows.end() || it->second.state != "pending") {
            out[i].status = absl::AbortedError(
                absl::StrCat("inbox row ", outcomes[i].inbox_id, " is no longer pending"));
            continue;
          }
          keys.emplace(it->second.bot_id, it->second.contact);
        }
        std::map<std::pair<std::string, std::string>, Conversation> convs;
        // The keys not locked yet, as the two arrays of an unnest.
        auto missing = [&] {
          std::pair<std::vector<std::string>, std::vector<std::string>> m;
          for (const auto& k : keys) {
            if (convs.count(k)) continue;
            m.first.push_back(k.first);
            m.second.push_back(k.second);
          }
          return m;
        };
        auto lock_conversations = [&] {
          auto [b, c] = missing();
          if (b.empty()) return;
          for (const auto& r : tx.exec_params(
                   absl::StrCat("SELECT ", kConvColumns,
                                " FROM bot_manager.conversations c JOIN unnest($1::text[], "
                                "$2::text[]) AS k(b, ct) ON c.bot_id = k.b AND c.contact = k.ct "
                                "ORDER BY c.id FOR UPDATE OF c"),
                   PgArray(b), PgArray(c))) {
            Conversation conv = ConvOf(r);
            convs.emplace(std::make_pair(conv.bot_id, conv.contact), std::move(conv));
          }
        };
        lock_conversations();
        if (convs.size() < keys.size()) {
          auto [b, c] = missing();
          tx.exec_params(
              "INSERT INTO bot_manager.conversations (bot_id, contact) SELECT * FROM "
              "unnest($1::text[], $2::text[]) ON CONFLICT (bot_id, contact) DO NOTHING",
              PgArray(b), PgArray(c));
          lock_conversations();
        }
        // Each outcome in order against the conversation as the previous ones left it.
        std::vector<int64_t> msg_conv;
        std::vector<std::string> msg_author, msg_text;
        std::vector<std::string> ob_bot, ob_channel, ob_contact, ob_recipient, ob_text, ob_key,
            ob_state;
        std::vector<int64_t> ob_inbox, done;
        std::set<int64_t> changed;
        std::set<int64_t> handed_off;
        for (size_t i = 0; i < outcomes.size(); ++i) {
          if (!out[i].status.ok()) continue;
          const InboxOutcome& o = outcomes[i];
          const InboxRow& row = rows.at(o.inbox_id);
          auto cit = convs.find({row.bot_id, row.contact});
          if (cit == convs.end()) return BotNotFound(row.bot_id);  // the bot was deleted
          Conversation& c = cit->second;
          const bool bot_holds = c.state == kStateBot || c.state == kStateClosed;
          msg_conv.push_back(c.id);
          msg_author.push_back("contact");
          msg_text.push_back(row.text);
          if (o.reply && bot_holds) {
            msg_conv.push_back(c.id);
            msg_author.push_back("bot");
            msg_text.push_back(*o.reply);
            ob_bot.push_back(row.bot_id);
            ob_channel.push_back(row.channel);
            ob_contact.push_back(row.contact);
            ob_recipient.push_back(row.reply_to);
            ob_text.push_back(*o.reply);
            ob_inbox.push_back(row.id);
            ob_key.push_back(absl::StrCat(row.bot_id, "-in-", row.id));
            ob_state.push_back(o.sandboxed ? "sandboxed" : "pending");
          }
          if (o.handoff_reason && bot_holds) {
            c.state = kStateHandoffWaiting;
            c.handoff_reason = *o.handoff_reason;
            c.agent.clear();
            c.failures = 0;
            handed_off.insert(c.id);
          } else {
            if (c.state == kStateClosed) c.state = kStateBot;
            c.failures = o.reset_failures ? 0 : c.failures + 1;
          }
          changed.insert(c.id);
          done.push_back(row.id);
        }
        std::vector<int64_t> conv_id, conv_failures;
        std::vector<std::string> conv_state, conv_reason, conv_agent;
        std::vector<bool> conv_handoff;
        for (auto& [key, c] : convs) {
          if (!changed.count(c.id)) continue;
          conv_id.push_back(c.id);
          conv_state.push_back(c.state);
          conv_reason.push_back(c.handoff_reason);
          conv_agent.push_back(c.agent);
          conv_failures.push_back(c.failures);
          conv_handoff.push_back(handed_off.count(c.id) > 0);
          c.update_time = absl::Now();
          if (handed_off.count(c.id)) c.handoff_time = c.update_time;
        }
        // Everything the batch writes, in one statement (one round trip): the history in
        // order, the replies' outbox rows (returned), the conversations, the inbox rows.
        static const std::string kWrite = absl::StrCat(
            "WITH msg AS (INSERT INTO bot_manager.messages (conversation_id, author, text) "
            "SELECT m.c, m.a, m.t FROM unnest($1::bigint[], $2::text[], $3::text[]) WITH "
            "ORDINALITY AS m(c, a, t, n) ORDER BY m.n), "
            "ob AS (INSERT INTO bot_manager.outbox (bot_id, channel, contact, recipient, text, "
            "inbox_id, idempotency_key, state, lease_until, attempts) SELECT o.b, o.ch, o.ct, "
            "o.r, o.t, o.i, o.k, o.s, CASE WHEN $12 AND o.s = 'pending' THEN now() + "
            "make_interval(secs => $13) END, CASE WHEN $12 AND o.s = 'pending' THEN 1 ELSE 0 "
            "END FROM unnest($4::text[], $5::text[], $6::text[], $7::text[], $8::text[], "
            "$9::bigint[], $10::text[], $11::text[]) WITH ORDINALITY AS "
            "o(b, ch, ct, r, t, i, k, s, n) ORDER BY o.n RETURNING *), "
            "cv AS (UPDATE bot_manager.conversations c SET state = v.s, handoff_reason = v.r, "
            "agent = v.a, failures = v.f, handoff_time = CASE WHEN v.h THEN now() ELSE "
            "c.handoff_time END, update_time = now() FROM unnest($14::bigint[], $15::text[], "
            "$16::text[], $17::text[], $18::bigint[], $19::boolean[]) AS v(id, s, r, a, f, h) "
            "WHERE c.id = v.id), "
            "ib AS (UPDATE bot_manager.inbox SET state = 'done', lease_until = NULL, error = '' "
            "WHERE id = ANY($20::bigint[])) "
            "SELECT ob.inbox_id, ",
            OutboxColumnsOf("ob"), " FROM ob");
        const bool leased = outbox_lease > absl::ZeroDuration();
        pqxx::result written;
        if (!done.empty()) {
          written = tx.exec_params(kWrite, PgArray(msg_conv), PgArray(msg_author),
                                   PgArray(msg_text), PgArray(ob_bot), PgArray(ob_channel),
                                   PgArray(ob_contact), PgArray(ob_recipient), PgArray(ob_text),
                                   PgArray(ob_inbox), PgArray(ob_key), PgArray(ob_state), leased,
                                   absl::ToDoubleSeconds(outbox_lease), PgArray(conv_id),
                                   PgArray(conv_state), PgArray(conv_reason), PgArray(conv_agent),
                                   PgArray(conv_failures), PgArray(conv_handoff), PgArray(done));
        }
        std::map<int64_t, OutboxRow> outbox_by_inbox;
        for (const auto& row : written) {
          OutboxRow o = OutboxOf(row, 1);
          if (leased && o.state == "pending") outbox_by_inbox.emplace(row[0].as<int64_t>(), o);
        }
        for (size_t i = 0; i < outcomes.size(); ++i) {
          if (!out[i].status.ok()) continue;
          const InboxRow& row = rows.at(outcomes[i].inbox_id);
          out[i].conversation = convs.at({row.bot_id, row.contact});
          if (auto it = outbox_by_inbox.find(row.id); it != outbox_by_inbox.end()) {
            out[i].leased = it->second;
          }
        }
        return out;
      });
}

absl::Status PgBotStore::RetryInbox(int64_t inbox_id, absl::Time retry_time,
                                    const std::string& error, const CallContext& ctx) {
  return pool_->Transaction(ctx.deadline, [&](pqxx::work& tx) -> absl::Status {
    tx.exec_params(
        "UPDATE bot_manager.inbox SET lease_until = to_timestamp($2), error = $3 "
        "WHERE id = $1 AND state = 'pending'",
        inbox_id, Seconds(retry_time), error);
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<OutboxRow>> PgBotStore::ClaimOutbox(int limit, absl::Duration lease,
                                                               const CallContext& ctx) {
  return pool_->Transaction(
      ctx.deadline, [&](pqxx::work& tx) -> absl::StatusOr<std::vector<OutboxRow>> {
        auto r = tx.exec_params(
            absl::StrCat("UPDATE bot_manager.outbox SET lease_until = now() + make_interval("
                         "secs => $2), attempts = attempts + 1 WHERE id IN ("
                         "SELECT id FROM bot_manager.outbox WHERE state = 'pending' AND "
                         "next_attempt_time <= now() AND (lease_until IS NULL OR lease_until < "
                         "now()) ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED) RETURNING ",
                         kOutboxColumns, ", ", Micros("send_started_time")),
            limit, absl::ToDoubleSeconds(lease));
        std::vector<OutboxRow> out;
        for (const auto& row : r) {
          out.push_back(OutboxOf(row));
          const auto& started = row[static_cast<int>(row.size()) - 1];
          if (!started.is_null()) out.back().send_started = TimeOf(started);
        }
        std::sort(out.begin(), out.end(),
                  [](const OutboxRow& a, const OutboxRow& b) { return a.id < b.id; });
        return out;
      });
}

absl::Status PgBotStore::MarkSentBatch(const std::vector<SentMark>& marks, const CallContext& ctx) {
  if (marks.empty()) return absl::OkStatus();
  std::vector<int64_t> ids;
  std::vector<std::string> external;
  for (const auto& m : marks) {
    ids.push_back(m.outbox_id);
    external.push_back(m.external_id);
  }
  return pool_->Autocommit(ctx.deadline, [&](pqxx::transaction_base& tx) -> absl::Status {
    tx.exec_params(
        "UPDATE bot_manager.outbox o SET state = 'sent', external_id = v.e, send_time = now(), "
        "lease_until = NULL, error = '' FROM unnest($1::bigint[], $2::text[]) AS v(id, e) "
        "WHERE o.id = v.id AND o.state = 'pending'",
        PgArray(ids), PgArray(external));
    return absl::OkStatus();
  });
}

absl::Status PgBotStore::MarkSendStartedBatch(const std::vector<int64_t>& outbox_ids,
                                              const CallContext& ctx) {
  if (outbox_ids.empty()) return absl::OkStatus();
  return pool_->Autocommit(ctx.deadline, [&](pqxx::transaction_base& tx) -> absl::Status {
    tx.exec_params(
        "UPDATE bot_manager.outbox SET send_started_time = now() "
        "WHERE id = ANY($1::bigint[]) AND state = 'pending'",
        PgArray(outbox_ids));
    return absl::OkStatus();
  });
}

absl::Status PgBotStore::ReleaseLeases(const std::vector<int64_t>& inbox_ids,
                                       const std::vector<int64_t>& outbox_ids,
                                       const CallContext& ctx) {
  if (inbox_ids.empty() && outbox_ids.empty()) return absl::OkStatus();
  return pool_->Transaction(ctx.deadline, [&](pqxx::work& tx) -> absl::Status {
    tx.exec_params(
        "UPDATE bot_manager.inbox SET lease_until = NULL, attempts = greatest(attempts - 1, 0) "
        "WHERE id = ANY($1::bigint[]) AND state = 'pending' AND lease_until > now()",
        PgArray(inbox_ids));
    tx.exec_params(
        "UPDATE bot_manager.outbox SET lease_until = NULL, attempts = greatest(attempts - 1, 0) "
        "WHERE id = ANY($1::bigint[]) AND state = 'pending' AND lease_until > now()",
        PgArray(outbox_ids));
    return absl::OkStatus();
  });
}

absl::Status PgBotStore::DeferOutbox(int64_t outbox_id, absl::Time until, const CallContext& ctx) {
  return pool_->Transaction(ctx.deadline, [&](pqxx::work& tx) -> absl::Status {
    tx.exec_params(
        "UPDATE bot_manager.outbox SET next_attempt_time = to_timestamp($2), lease_until = NULL, "
        "attempts = greatest(attempts - 1, 0) WHERE id = $1 AND state = 'pending'",
        outbox_id, Seconds(until));
    return absl::OkStatus();
  });
}

absl::Status PgBotStore::MarkSendFailed(int64_t outbox_id, std::optional<absl::Time> retry_time,
                                        const std::string& error, bool maybe_delivered,
                                        const CallContext& ctx) {
  // A channel's answer, cut at a byte count: it may end inside a character or hold a NUL.
  const std::string stored_error = ToStorableText(error);
  return pool_->Transaction(ctx.deadline, [&](pqxx::work& tx) -> absl::Status {
    if (retry_time) {
      tx.exec_params(
          "UPDATE bot_manager.outbox SET next_attempt_time = to_timestamp($2), lease_until = "
          "NULL, error = $3, send_started_time = CASE WHEN $4::boolean THEN send_started_time END "
          "WHERE id = $1 AND state = 'pending'",
          outbox_id, Seconds(*retry_time), stored_error, maybe_delivered);
    } else {
      tx.exec_params(
          "UPDATE bot_manager.outbox SET state = 'failed', lease_until = NULL, error = $2 "
          "WHERE id = $1 AND state = 'pending'",
          outbox_id, stored_error);
    }
    return absl::OkStatus();
  });
}

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
      return absl::FailedPreconditionError(
          absl::StrCat("the conversation is held by '", c.agent, "'; they must release it first"));
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
      return absl::FailedPreconditionError(
          absl::StrCat("the conversation is held by '", c.agent, "', not by '", agent, "'"));
    }
    if (c.state == kStateBot) {
      return absl::FailedPreconditionError("the conversation is already with the bot");
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
      return absl::FailedPreconditionError(absl::StrCat(
          "'", agent, "' does not hold this conversation; claim it first (state ", c.state,
          c.agent.empty() ? "" : absl::StrCat(", held by '", c.agent, "'"), ")"));
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
      return absl::ResourceExhaustedError(
          absl::StrCat("the recipient already has ", p.daily_limit,
                       " proactive message(s) today (the daily maximum); try tomorrow"));
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
        if (r.empty()) {
          return absl::NotFoundError(absl::StrCat("proactive message 'bots/", bot_id,
                                                  "/proactiveMessages/", id, "' does not exist"));
        }
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
    if (r.empty()) {
      return absl::NotFoundError(absl::StrCat("proactive message 'bots/", bot_id,
                                              "/proactiveMessages/", id, "' does not exist"));
    }
    if (r[0][0].as<std::string>() != kProactiveAwaitingApproval) {
      return absl::FailedPreconditionError("the message is not awaiting approval");
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
