// PgBotStore, the reply pipeline's inbox (pipeline_store.h): webhooks into
// the inbox, claims, completions.
#include "services/bot_manager/pg_store.h"

#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "common/base/status.h"
#include "common/base/text.h"
#include "common/storage/pg_array.h"
#include "services/bot_manager/pg_rows.h"
#include "services/bot_manager/pipeline/completion_rules.h"

namespace genesis::bot {

using namespace pg;  // NOLINT: the row mapping of the bot manager's tables

namespace {

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
          // The rules are the logic's (completion_rules.h); the writes are applied here.
          CompletionPlan plan = PlanCompletion(c, row, o);
          for (auto& m : plan.messages) {
            msg_conv.push_back(c.id);
            msg_author.push_back(std::move(m.author));
            msg_text.push_back(std::move(m.text));
          }
          if (plan.outbox) {
            ob_bot.push_back(row.bot_id);
            ob_channel.push_back(row.channel);
            ob_contact.push_back(row.contact);
            ob_recipient.push_back(row.reply_to);
            ob_text.push_back(std::move(plan.outbox->text));
            ob_inbox.push_back(row.id);
            ob_key.push_back(std::move(plan.outbox->idempotency_key));
            ob_state.push_back(std::move(plan.outbox->state));
          }
          if (plan.handed_off) handed_off.insert(c.id);
          c = std::move(plan.conversation);
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
}  // namespace genesis::bot
