#include "services/reasoning/pg_store.h"

#include <algorithm>
#include <charconv>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/base/status.h"
#include "services/reasoning/events.h"
#include "services/reasoning/reasons.h"

namespace genesis::reasoning {
namespace {

// Exact microsecond conversions (extract() is numeric since PostgreSQL 14).
#define GENESIS_MICROS(col) "(extract(epoch from " col ") * 1000000)::bigint"
#define GENESIS_TS(param) "('epoch'::timestamptz + " param "::bigint * interval '1 microsecond')"

constexpr char kCaseColumns[] =
    "c.id, c.question, c.context, c.owner, c.state, c.creator, " GENESIS_MICROS(
        "c.create_time") ", " GENESIS_MICROS("c.update_time") ", c.version";

constexpr char kEvidenceQuery[] =
    "SELECT id, description, source, reliability, " GENESIS_MICROS("observe_time") ", ratings, "
    "creator, " GENESIS_MICROS("create_time") " FROM reasoning.evidence WHERE case_id = $1 "
    "ORDER BY ord";

constexpr char kEventColumns[] =
    "SELECT version, type, actor, " GENESIS_MICROS("event_time") ", data::text "
    "FROM reasoning.case_events WHERE case_id = $1 AND version > $2 ";

absl::Time FromMicros(const pqxx::field& f) { return absl::FromUnixMicros(f.as<int64_t>()); }
int64_t Micros(absl::Time t) { return absl::ToUnixMicros(t); }

Case CaseFromRow(const pqxx::row& r, int o = 0) {
  Case c;
  c.id = r[o + 0].as<std::string>();
  c.question = r[o + 1].as<std::string>();
  c.context = r[o + 2].as<std::string>();
  c.owner = r[o + 3].as<std::string>();
  c.state = CaseStateFromName(r[o + 4].c_str());
  c.creator = r[o + 5].as<std::string>();
  c.create_time = FromMicros(r[o + 6]);
  c.update_time = FromMicros(r[o + 7]);
  c.version = r[o + 8].as<int64_t>();
  return c;
}

std::string FormatDouble(double v) {
  char buf[32];
  auto res = std::to_chars(buf, buf + sizeof(buf), v);  // shortest exact round trip
  return std::string(buf, res.ptr);
}

absl::Status CaseWriteConflict(pqxx::transaction_base& tx, const std::string& id) {
  auto r = tx.exec_params("SELECT 1 FROM reasoning.cases WHERE id = $1", id);
  if (r.empty()) return absl::NotFoundError(absl::StrCat("case 'cases/", id, "' does not exist"));
  return WithReason(absl::AbortedError(absl::StrCat("case 'cases/", id,
                                                    "' was changed by another request meanwhile; "
                                                    "read it again and retry")),
                    reasons::kConcurrentModification, {{"case", absl::StrCat("cases/", id)}});
}

void InsertProjection(pqxx::work& tx, const Event& event, const Case& c) {
  switch (event.type) {
    case EventType::kHypothesisAdded: {
      const Hypothesis& h = c.hypotheses.back();
      tx.exec_params(
          "INSERT INTO reasoning.hypotheses (case_id, ord, id, statement, prior, none_of_these, "
          "creator, create_time) VALUES ($1, $2, $3, $4, $5, $6, $7, " GENESIS_TS("$8") ")",
          c.id, static_cast<int>(c.hypotheses.size()), h.id, h.statement, FormatDouble(h.prior),
          h.none_of_these, h.creator, Micros(h.create_time));
      break;
    }
    case EventType::kEvidenceAdded: {
      const Evidence& e = c.evidence.back();
      tx.exec_params(
          "INSERT INTO reasoning.evidence (case_id, ord, id, description, source, reliability, "
          "observe_time, ratings, creator, create_time) VALUES ($1, $2, $3, $4, $5, "
          "$6, " GENESIS_TS("$7") ", $8, $9, " GENESIS_TS("$10") ")",
          c.id, static_cast<int>(c.evidence.size()), e.id, e.description, e.source,
          FormatDouble(e.reliability), Micros(e.observe_time), EncodeRatings(e.ratings), e.creator,
          Micros(e.create_time));
      break;
    }
    case EventType::kDecided: {
      const Decision& d = c.decisions.back();
      tx.exec_params(
          "INSERT INTO reasoning.decisions (case_id, ord, hypothesis_id, rationale, confidence, "
          "override_reason, leading_hypothesis_id, posterior, decider, decide_time) VALUES "
          "($1, $2, $3, $4, $5, $6, $7, $8, $9, " GENESIS_TS("$10") ")",
          c.id, static_cast<int>(c.decisions.size()), d.hypothesis_id, d.rationale,
          FormatDouble(d.confidence), d.override_reason, d.leading_hypothesis_id,
          FormatDouble(d.posterior), d.decider, Micros(d.decide_time));
      break;
    }
    default:
      break;  // the case row carries everything else
  }
}

}  // namespace

std::string EncodeRatings(const std::vector<Rating>& ratings) {
  std::string out;
  for (const auto& r : ratings) {
    if (!out.empty()) out += ';';
    absl::StrAppend(&out, r.hypothesis_id, "=",
                    r.likelihood ? FormatDouble(*r.likelihood) : AchName(r.ach));
  }
  return out;
}

absl::StatusOr<std::vector<Rating>> DecodeRatings(absl::string_view text) {
  // Hand-rolled: this runs for every item of every inference (see bench/README.md).
  std::vector<Rating> out;
  if (text.empty()) return out;
  out.reserve(static_cast<size_t>(std::count(text.begin(), text.end(), ';')) + 1);
  const char* p = text.data();
  const char* const end = p + text.size();
  while (p < end) {
    const char* entry_end = static_cast<const char*>(memchr(p, ';', end - p));
    if (entry_end == nullptr) entry_end = end;
    const char* eq = static_cast<const char*>(memchr(p, '=', entry_end - p));
    if (eq == nullptr || eq + 1 >= entry_end) {
      return absl::InternalError(
          absl::StrCat("malformed ratings entry '", absl::string_view(p, entry_end - p), "'"));
    }
    Rating& r = out.emplace_back();
    r.hypothesis_id.assign(p, eq);
    if (eq[1] >= 'A' && eq[1] <= 'Z') {
      r.ach = AchFromName(absl::string_view(eq + 1, entry_end - eq - 1));
    } else {
      double v = 0;
      auto res = std::from_chars(eq + 1, entry_end, v);
      if (res.ec != std::errc() || res.ptr != entry_end) {
        return absl::InternalError(absl::StrCat(
            "malformed likelihood '", absl::string_view(eq + 1, entry_end - eq - 1), "'"));
      }
      r.likelihood = v;
    }
    p = entry_end + 1;
  }
  return out;
}

absl::Status PgReasoningStore::Append(const Event& event, const Case& after,
                                      const CallContext& ctx) {
  return pool_->Transaction(ctx.deadline, [&](pqxx::work& tx) -> absl::Status {
    if (event.version == 1) {
      auto r = tx.exec_params(
          "INSERT INTO reasoning.cases (id, question, context, owner, state, creator, "
          "create_time, update_time, version) VALUES ($1, $2, $3, $4, $5, $6, " GENESIS_TS(
              "$7") ", " GENESIS_TS("$7") ", 1) ON CONFLICT (id) DO NOTHING RETURNING 1",
          after.id, after.question, after.context, after.owner, CaseStateName(after.state),
          after.creator, Micros(after.create_time));
      if (r.empty()) {
        return WithReason(
            absl::AlreadyExistsError(absl::StrCat("case 'cases/", after.id, "' already exists")),
            reasons::kCaseAlreadyExists, {{"case", absl::StrCat("cases/", after.id)}});
      }
    } else {
      auto r = tx.exec_params(
          "UPDATE reasoning.cases SET question = $3, context = $4, owner = $5, state = $6, "
          "update_time = " GENESIS_TS("$7") ", version = $2 WHERE id = $1 AND version = $2 - 1",
          after.id, after.version, after.question, after.context, after.owner,
          CaseStateName(after.state), Micros(after.update_time));
      if (r.affected_rows() == 0) return CaseWriteConflict(tx, after.id);
    }
    tx.exec_params(
        "INSERT INTO reasoning.case_events (case_id, version, type, actor, event_time, data, "
        "request_id, request_hash) "
        "VALUES ($1, $2, $3, $4, " GENESIS_TS("$5") ", $6::jsonb, NULLIF($7, ''), NULLIF($8, ''))",
        event.case_id, event.version, EventTypeName(event.type), event.actor, Micros(event.time),
        event.data.dump(), event.request_id, event.request_hash);
    InsertProjection(tx, event, after);
    return absl::OkStatus();
  });
}

absl::StatusOr<std::optional<Event>> PgReasoningStore::FindRequest(const std::string& case_id,
                                                                   const std::string& request_id,
                                                                   const CallContext& ctx) {
  return pool_->ReadOnly(
      ctx.deadline, [&](pqxx::read_transaction& tx) -> absl::StatusOr<std::optional<Event>> {
        auto r = case_id.empty()
                     ? tx.exec_params(
                           "SELECT case_id, version, type, request_hash FROM "
                           "reasoning.case_events WHERE request_id = $1 AND version = 1",
                           request_id)
                     : tx.exec_params(
                           "SELECT case_id, version, type, request_hash FROM "
                           "reasoning.case_events WHERE case_id = $1 AND "
                           "request_id = $2 AND version > 1",
                           case_id, request_id);
        if (r.empty()) return std::optional<Event>();
        Event e;
        e.case_id = r[0][0].as<std::string>();
        e.version = r[0][1].as<int64_t>();
        e.type = EventTypeFromName(r[0][2].as<std::string>());
        e.request_id = request_id;
        e.request_hash = r[0][3].as<std::string>();
        return std::optional<Event>(std::move(e));
      });
}

absl::StatusOr<Case> PgReasoningStore::GetCase(const std::string& id, const CallContext& ctx) {
  return pool_->ReadOnly(ctx.deadline, [&](pqxx::read_transaction& tx) -> absl::StatusOr<Case> {
    auto r = tx.exec_params(
        absl::StrCat("SELECT ", kCaseColumns, " FROM reasoning.cases c WHERE c.id = $1"), id);
    if (r.empty()) return absl::NotFoundError(absl::StrCat("case 'cases/", id, "' does not exist"));
    Case c = CaseFromRow(r[0]);
    for (const auto& row : tx.exec_params(
             "SELECT id, statement, prior, none_of_these, creator, " GENESIS_MICROS(
                 "create_time") " FROM reasoning.hypotheses WHERE case_id = $1 ORDER BY ord",
             id)) {
      Hypothesis h;
      h.id = row[0].as<std::string>();
      h.statement = row[1].as<std::string>();
      h.prior = row[2].as<double>();
      h.none_of_these = row[3].as<bool>();
      h.creator = row[4].as<std::string>();
      h.create_time = FromMicros(row[5]);
      c.hypotheses.push_back(std::move(h));
    }
    auto evidence = tx.exec_params(kEvidenceQuery, id);
    c.evidence.reserve(evidence.size());
    for (const auto& row : evidence) {
      Evidence e;
      e.id = row[0].as<std::string>();
      e.description = row[1].as<std::string>();
      e.source = row[2].as<std::string>();
      e.reliability = row[3].as<double>();
      e.observe_time = FromMicros(row[4]);
      GENESIS_ASSIGN_OR_RETURN(e.ratings, DecodeRatings(row[5].c_str()));
      e.creator = row[6].as<std::string>();
      e.create_time = FromMicros(row[7]);
      c.evidence.push_back(std::move(e));
    }
    for (const auto& row : tx.exec_params(
             "SELECT hypothesis_id, rationale, confidence, override_reason, "
             "leading_hypothesis_id, posterior, decider, " GENESIS_MICROS(
                 "decide_time") " FROM reasoning.decisions WHERE case_id = $1 ORDER BY ord",
             id)) {
      Decision d;
      d.hypothesis_id = row[0].as<std::string>();
      d.rationale = row[1].as<std::string>();
      d.confidence = row[2].as<double>();
      d.override_reason = row[3].as<std::string>();
      d.leading_hypothesis_id = row[4].as<std::string>();
      d.posterior = row[5].as<double>();
      d.decider = row[6].as<std::string>();
      d.decide_time = FromMicros(row[7]);
      c.decisions.push_back(std::move(d));
    }
    return c;
  });
}

absl::StatusOr<Case> PgReasoningStore::GetCaseForInference(const std::string& id,
                                                           const CallContext& ctx) {
  return pool_->ReadOnly(ctx.deadline, [&](pqxx::read_transaction& tx) -> absl::StatusOr<Case> {
    // Two round trips, prepared once per connection (planning costs more than
    // execution at this size). The first row carries the case even without hypotheses.
    tx.conn().prepare("reasoning_infer_hypotheses",
                      "SELECT c.state, c.version, h.id, h.prior FROM reasoning.cases c "
                      "LEFT JOIN reasoning.hypotheses h ON h.case_id = c.id WHERE c.id = $1 "
                      "ORDER BY h.ord");
    tx.conn().prepare("reasoning_infer_evidence",
                      "SELECT id, reliability, ratings FROM reasoning.evidence WHERE case_id = $1 "
                      "ORDER BY ord");
    auto r = tx.exec_prepared("reasoning_infer_hypotheses", id);
    if (r.empty()) return absl::NotFoundError(absl::StrCat("case 'cases/", id, "' does not exist"));
    Case c;
    c.id = id;
    c.state = CaseStateFromName(r[0][0].c_str());
    c.version = r[0][1].as<int64_t>();
    for (const auto& row : r) {
      if (row[2].is_null()) continue;
      Hypothesis h;
      h.id = row[2].c_str();
      h.prior = row[3].as<double>();
      c.hypotheses.push_back(std::move(h));
    }
    auto evidence = tx.exec_prepared("reasoning_infer_evidence", id);
    c.evidence.reserve(evidence.size());
    for (const auto& row : evidence) {
      Evidence& e = c.evidence.emplace_back();
      e.id = row[0].c_str();
      e.reliability = row[1].as<double>();
      const pqxx::field ratings = row[2];
      GENESIS_ASSIGN_OR_RETURN(e.ratings,
                               DecodeRatings(absl::string_view(ratings.c_str(), ratings.size())));
    }
    return c;
  });
}

absl::StatusOr<CaseSummaryPage> PgReasoningStore::ListCases(int64_t after_seq, int limit,
                                                            const CallContext& ctx) {
  return pool_->ReadOnly(
      ctx.deadline, [&](pqxx::read_transaction& tx) -> absl::StatusOr<CaseSummaryPage> {
        auto r = tx.exec_params(absl::StrCat("SELECT c.seq, ", kCaseColumns,
                                             " FROM reasoning.cases c WHERE c.seq > $1 "
                                             "ORDER BY c.seq LIMIT $2"),
                                after_seq, limit + 1);
        CaseSummaryPage page;
        for (const auto& row : r) {
          if (static_cast<int>(page.cases.size()) == limit) {
            page.more = true;
            break;
          }
          page.last_seq = row[0].as<int64_t>();
          page.cases.push_back(CaseFromRow(row, 1));
        }
        return page;
      });
}

absl::StatusOr<EventPage> PgReasoningStore::ListEvents(const std::string& case_id,
                                                       int64_t after_version,
                                                       std::optional<absl::Time> until, int limit,
                                                       const CallContext& ctx) {
  return pool_->ReadOnly(
      ctx.deadline, [&](pqxx::read_transaction& tx) -> absl::StatusOr<EventPage> {
        if (tx.exec_params("SELECT 1 FROM reasoning.cases WHERE id = $1", case_id).empty()) {
          return absl::NotFoundError(absl::StrCat("case 'cases/", case_id, "' does not exist"));
        }
        pqxx::result r;
        if (until) {
          r = tx.exec_params(absl::StrCat(kEventColumns, "AND event_time <= ", GENESIS_TS("$3"),
                                          " ORDER BY version LIMIT $4"),
                             case_id, after_version, Micros(*until), limit + 1);
        } else {
          r = tx.exec_params(absl::StrCat(kEventColumns, "ORDER BY version LIMIT $3"), case_id,
                             after_version, limit + 1);
        }
        EventPage page;
        for (const auto& row : r) {
          if (static_cast<int>(page.events.size()) == limit) {
            page.more = true;
            break;
          }
          Event e;
          e.case_id = case_id;
          e.version = row[0].as<int64_t>();
          e.type = EventTypeFromName(row[1].c_str());
          e.actor = row[2].as<std::string>();
          e.time = FromMicros(row[3]);
          e.data = nlohmann::json::parse(row[4].c_str());
          page.events.push_back(std::move(e));
        }
        return page;
      });
}

#undef GENESIS_MICROS
#undef GENESIS_TS

}  // namespace genesis::reasoning
