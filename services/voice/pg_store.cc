#include "services/voice/pg_store.h"

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"

namespace genesis::voice {
namespace {

constexpr char kColumns[] =
    "id, kind, (extract(epoch from create_time) * 1000000)::bigint, language, subject, "
    "audio_micros, stages::text, audio_bytes";

InteractionRecord FromRow(const pqxx::row& row) {
  InteractionRecord r;
  r.id = row[0].as<std::string>();
  r.kind = static_cast<InteractionKind>(row[1].as<int>());
  r.create_time = absl::FromUnixMicros(row[2].as<int64_t>());
  r.language = row[3].as<std::string>();
  r.subject = row[4].as<std::string>();
  r.audio_duration = absl::Microseconds(row[5].as<int64_t>());
  auto stages = nlohmann::json::parse(row[6].as<std::string>(), nullptr, false);
  if (stages.is_array()) {
    for (const auto& s : stages) {
      if (!s.is_object()) continue;
      r.stages.push_back({static_cast<Stage>(s.value("stage", 0)), s.value("engine", ""),
                          absl::Microseconds(s.value("micros", int64_t{0}))});
    }
  }
  r.stored_audio_bytes = row[7].as<int64_t>();
  return r;
}

}  // namespace

absl::Status PgInteractionStore::Insert(const InteractionRecord& record, const CallContext& ctx) {
  nlohmann::json stages = nlohmann::json::array();
  for (const auto& s : record.stages) {
    stages.push_back({{"stage", static_cast<int>(s.stage)},
                      {"engine", s.engine},
                      {"micros", absl::ToInt64Microseconds(s.duration)}});
  }
  return pool_->Transaction(ctx.deadline, [&](pqxx::work& tx) -> absl::Status {
    const char* sql =
        "INSERT INTO voice.interactions (id, kind, create_time, language, subject, audio_micros, "
        "stages, audio, audio_bytes) VALUES ($1, $2, to_timestamp($3::double precision / 1e6), "
        "$4, $5, $6, $7::jsonb, $8, $9)";
    const int64_t micros = absl::ToUnixMicros(record.create_time);
    if (record.audio.empty()) {
      tx.exec_params(sql, record.id, static_cast<int>(record.kind), micros, record.language,
                     record.subject, absl::ToInt64Microseconds(record.audio_duration),
                     stages.dump(), nullptr, int64_t{0});
    } else {
      pqxx::binarystring audio(record.audio.data(), record.audio.size());
      tx.exec_params(sql, record.id, static_cast<int>(record.kind), micros, record.language,
                     record.subject, absl::ToInt64Microseconds(record.audio_duration),
                     stages.dump(), audio, static_cast<int64_t>(record.audio.size()));
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<InteractionRecord>> PgInteractionStore::List(
    int limit, const std::optional<InteractionCursor>& after, const CallContext& ctx) {
  return pool_->ReadOnly(
      ctx.deadline,
      [&](pqxx::read_transaction& tx) -> absl::StatusOr<std::vector<InteractionRecord>> {
        pqxx::result rows;
        if (after) {
          rows = tx.exec_params(absl::StrCat("SELECT ", kColumns,
                                             " FROM voice.interactions WHERE (create_time, id) < "
                                             "(to_timestamp($1::double precision / 1e6), $2) "
                                             "ORDER BY create_time DESC, id DESC LIMIT $3"),
                                absl::ToUnixMicros(after->first), after->second, limit);
        } else {
          rows = tx.exec_params(absl::StrCat("SELECT ", kColumns,
                                             " FROM voice.interactions "
                                             "ORDER BY create_time DESC, id DESC LIMIT $1"),
                                limit);
        }
        std::vector<InteractionRecord> out;
        for (const auto& row : rows) out.push_back(FromRow(row));
        return out;
      });
}

}  // namespace genesis::voice
