#include "services/llm_router/store/execution_partitions.h"

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "common/base/status.h"

namespace genesis::llmrouter {
namespace {

// One lock for every step, taken for the step's transaction only.
constexpr char kTryLockSql[] =
    "SELECT pg_try_advisory_xact_lock(hashtext('llm_router.executions partitions'))";
constexpr char kPartitionPrefix[] = "executions_p";

std::string DayTable(absl::CivilDay day) {
  return absl::StrFormat("%s%04d%02d%02d", kPartitionPrefix, day.year(), day.month(), day.day());
}

// The day of a daily partition's name; nullopt for any other table.
std::optional<absl::CivilDay> DayOfTable(const std::string& name) {
  const std::string prefix = kPartitionPrefix;
  if (name.size() != prefix.size() + 8 || name.compare(0, prefix.size(), prefix) != 0) {
    return std::nullopt;
  }
  absl::CivilDay day;
  std::string digits = name.substr(prefix.size());
  if (!absl::ParseCivilTime(
          absl::StrCat(digits.substr(0, 4), "-", digits.substr(4, 2), "-", digits.substr(6, 2)),
          &day)) {
    return std::nullopt;
  }
  return day;
}

absl::Time StartOf(absl::CivilDay day) { return absl::FromCivil(day, absl::UTCTimeZone()); }

std::string Timestamp(absl::Time t) {
  return absl::FormatTime(absl::RFC3339_full, t, absl::UTCTimeZone());
}

// What the catalog says about executions' partitions.
struct Layout {
  std::set<absl::CivilDay> days;
  bool legacy = false;
  absl::Time legacy_end = absl::InfinitePast();  // its upper bound
  std::vector<absl::CivilDay> waiting;           // days with rows in the default partition
};

bool TryLock(pqxx::work& tx) { return tx.exec(kTryLockSql)[0][0].as<bool>(); }

void SetLockTimeout(pqxx::work& tx, absl::Duration timeout) {
  tx.exec(absl::StrCat("SET LOCAL lock_timeout = ", absl::ToInt64Milliseconds(timeout)));
}

}  // namespace

absl::StatusOr<PartitionWork> ExecutionPartitions::Maintain(absl::Time now,
                                                            const CallContext& ctx) {
  auto layout =
      pool_->ReadOnly(ctx.deadline, [&](pqxx::read_transaction& tx) -> absl::StatusOr<Layout> {
        Layout out;
        auto parts = tx.exec(
            "SELECT c.relname, extract(epoch FROM (regexp_match(pg_get_expr(c.relpartbound, "
            "c.oid), 'TO \\(''([^'']*)''\\)'))[1]::timestamptz)::bigint "
            "FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = 'llm_router.executions'::regclass");
        for (const auto& row : parts) {
          auto name = row[0].as<std::string>();
          if (name == "executions_legacy") {
            out.legacy = true;
            if (!row[1].is_null()) out.legacy_end = absl::FromUnixSeconds(row[1].as<int64_t>());
          } else if (auto day = DayOfTable(name)) {
            out.days.insert(*day);
          }
        }
        auto waiting = tx.exec(
            "SELECT DISTINCT to_char(create_time AT TIME ZONE 'UTC', 'YYYY-MM-DD') "
            "FROM llm_router.executions_default");
        for (const auto& row : waiting) {
          absl::CivilDay day;
          if (absl::ParseCivilTime(row[0].as<std::string>(), &day)) out.waiting.push_back(day);
        }
        return out;
      });
  if (!layout.ok()) return layout.status();

  PartitionWork work;
  const bool bounded = options_.retention > absl::ZeroDuration();
  const absl::Time cutoff = bounded ? now - options_.retention : absl::InfinitePast();
  const absl::CivilDay today = absl::ToCivilDay(now, absl::UTCTimeZone());

  std::set<absl::CivilDay> wanted(layout->waiting.begin(), layout->waiting.end());
  for (int i = 0; i <= options_.days_ahead; ++i) wanted.insert(today + i);
  for (absl::CivilDay day : wanted) {
    // Days the legacy partition covers, and days retention would drop at
    // once (their waiting rows are deleted below), get no partition.
    if (layout->days.count(day) > 0 || StartOf(day) < layout->legacy_end ||
        StartOf(day + 1) <= cutoff) {
      continue;
    }
    GENESIS_RETURN_IF_ERROR(CreateDay(day, &work, ctx));
  }
  if (!bounded) return work;

  // Partitions wholly before the cutoff go whole, with the feedback on them.
  std::vector<std::string> whole;
  for (absl::CivilDay day : layout->days) {
    if (StartOf(day + 1) <= cutoff) whole.push_back(DayTable(day));
  }
  if (layout->legacy && layout->legacy_end <= cutoff) whole.push_back("executions_legacy");
  for (const std::string& table : whole) {
    GENESIS_RETURN_IF_ERROR(pool_->Transaction(ctx.deadline, [&](pqxx::work& tx) -> absl::Status {
      if (!TryLock(tx)) return absl::OkStatus();
      if (tx.exec_params1("SELECT to_regclass($1) IS NULL", "llm_router." + table)[0].as<bool>()) {
        return absl::OkStatus();
      }
      SetLockTimeout(tx, options_.lock_timeout);
      const std::string qualified = "llm_router." + table;
      work.feedback_deleted += tx.exec(absl::StrCat("DELETE FROM llm_router.feedback f USING ",
                                                    qualified, " e WHERE f.execution_id = e.id"))
                                   .affected_rows();
      tx.exec(absl::StrCat("ALTER TABLE llm_router.executions DETACH PARTITION ", qualified));
      tx.exec(absl::StrCat("DROP TABLE ", qualified));
      ++work.dropped;
      return absl::OkStatus();
    }));
  }

  // Partitions that straddle the cutoff lose their older rows a batch a round.
  std::vector<std::string> straddling = {"executions_default"};
  if (layout->legacy && layout->legacy_end > cutoff) straddling.push_back("executions_legacy");
  for (const std::string& table : straddling) {
    GENESIS_RETURN_IF_ERROR(pool_->Transaction(ctx.deadline, [&](pqxx::work& tx) -> absl::Status {
      if (!TryLock(tx)) return absl::OkStatus();
      const std::string qualified = "llm_router." + table;
      auto counts = tx.exec_params1(
          absl::StrCat("WITH gone AS (DELETE FROM ", qualified, " WHERE ctid IN (SELECT ctid FROM ",
                       qualified,
                       " WHERE create_time < $1::timestamptz LIMIT $2) RETURNING id), "
                       "fb AS (DELETE FROM llm_router.feedback f USING gone "
                       "WHERE f.execution_id = gone.id RETURNING 1) "
                       "SELECT (SELECT count(*) FROM gone), (SELECT count(*) FROM fb)"),
          Timestamp(cutoff), options_.delete_batch);
      work.rows_deleted += counts[0].as<int64_t>();
      work.feedback_deleted += counts[1].as<int64_t>();
      return absl::OkStatus();
    }));
  }
  return work;
}

absl::Status ExecutionPartitions::CreateDay(absl::CivilDay day, PartitionWork* work,
                                            const CallContext& ctx) {
  const std::string table = "llm_router." + DayTable(day);
  const std::string from = Timestamp(StartOf(day));
  const std::string to = Timestamp(StartOf(day + 1));
  return pool_->Transaction(ctx.deadline, [&](pqxx::work& tx) -> absl::Status {
    if (!TryLock(tx)) return absl::OkStatus();
    if (!tx.exec_params1("SELECT to_regclass($1) IS NULL", table)[0].as<bool>()) {
      return absl::OkStatus();  // another replica made it meanwhile
    }
    SetLockTimeout(tx, options_.lock_timeout);
    // Made apart and attached: rows of that day waiting in the default
    // partition move in first, as ATTACH requires.
    tx.exec(absl::StrCat("CREATE TABLE ", table,
                         " (LIKE llm_router.executions INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"));
    work->moved += tx.exec_params(absl::StrCat("WITH moved AS (DELETE FROM "
                                               "llm_router.executions_default WHERE create_time >= "
                                               "$1::timestamptz AND create_time < $2::timestamptz "
                                               "RETURNING *) INSERT INTO ",
                                               table, " SELECT * FROM moved"),
                                  from, to)
                       .affected_rows();
    tx.exec(absl::StrCat("ALTER TABLE llm_router.executions ATTACH PARTITION ", table,
                         " FOR VALUES FROM (", tx.quote(from), ") TO (", tx.quote(to), ")"));
    ++work->created;
    return absl::OkStatus();
  });
}

}  // namespace genesis::llmrouter
