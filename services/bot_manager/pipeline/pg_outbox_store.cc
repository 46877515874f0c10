// PgBotStore, the reply pipeline's outbox (pipeline_store.h): claims, send
// marks, retries.
#include "services/bot_manager/pg_store.h"

#include "absl/strings/str_cat.h"
#include "common/base/status.h"
#include "common/base/text.h"
#include "common/storage/pg_array.h"
#include "services/bot_manager/pg_rows.h"

namespace genesis::bot {

using namespace pg;  // NOLINT: the row mapping of the bot manager's tables

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
}  // namespace genesis::bot
