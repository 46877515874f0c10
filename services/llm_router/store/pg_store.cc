#include "services/llm_router/store/pg_store.h"

#include "absl/strings/str_join.h"
#include "common/base/text.h"

namespace genesis::llmrouter {
namespace {

constexpr char kModelColumns[] =
    "id, provider, provider_model, protocol, base_url, locality, simulated, enabled, "
    "input_price_per_mtok, output_price_per_mtok, context_window, "
    "array_to_string(capabilities, ','), quality";

// A text[] literal of capability names ("{chat,json}"); names are [a-z_].
std::string CapabilitiesArray(uint32_t caps) {
  return "{" + absl::StrJoin(CapabilityNames(caps), ",") + "}";
}

ModelSpec ModelFromRow(const pqxx::row& r) {
  ModelSpec m;
  m.id = r[0].as<std::string>();
  m.provider = r[1].as<std::string>();
  m.provider_model = r[2].as<std::string>();
  m.protocol = ProtocolFromName(r[3].as<std::string>()).value_or(Protocol::kOpenAi);
  m.base_url = r[4].as<std::string>();
  m.locality = r[5].as<std::string>() == "local" ? Locality::kLocal : Locality::kCloud;
  m.simulated = r[6].as<bool>();
  m.enabled = r[7].as<bool>();
  m.input_price_per_mtok = r[8].as<double>();
  m.output_price_per_mtok = r[9].as<double>();
  m.context_window = r[10].as<int>();
  m.capabilities = 0;
  const std::string caps = r[11].is_null() ? "" : r[11].as<std::string>();
  size_t start = 0;
  while (start < caps.size()) {
    size_t comma = caps.find(',', start);
    if (comma == std::string::npos) comma = caps.size();
    if (auto bit = CapabilityFromName(caps.substr(start, comma - start))) m.capabilities |= *bit;
    start = comma + 1;
  }
  m.quality = r[12].as<int>();
  return m;
}

}  // namespace

absl::Status PgRouterStore::SeedModels(const std::vector<ModelSpec>& models,
                                       const CallContext& ctx) {
  return pool_->Transaction(ctx.deadline, [&](pqxx::work& tx) -> absl::Status {
    for (const auto& m : models) {
      tx.exec_params(
          "INSERT INTO llm_router.models (id, provider, provider_model, protocol, base_url, "
          "locality, simulated, enabled, input_price_per_mtok, output_price_per_mtok, "
          "context_window, capabilities, quality) "
          "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::text[], $13) "
          "ON CONFLICT (id) DO UPDATE SET provider = EXCLUDED.provider, "
          "provider_model = EXCLUDED.provider_model, protocol = EXCLUDED.protocol, "
          "base_url = EXCLUDED.base_url, locality = EXCLUDED.locality, "
          "simulated = EXCLUDED.simulated",
          m.id, m.provider, m.provider_model, std::string(ProtocolName(m.protocol)), m.base_url,
          std::string(m.locality == Locality::kLocal ? "local" : "cloud"), m.simulated, m.enabled,
          m.input_price_per_mtok, m.output_price_per_mtok, m.context_window,
          CapabilitiesArray(m.capabilities), m.quality);
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<ModelSpec>> PgRouterStore::LoadModels(const CallContext& ctx) {
  return pool_->ReadOnly(ctx.deadline,
                         [&](pqxx::read_transaction& tx) -> absl::StatusOr<std::vector<ModelSpec>> {
                           std::vector<ModelSpec> models;
                           for (const auto& row : tx.exec(std::string("SELECT ") + kModelColumns +
                                                          " FROM llm_router.models ORDER BY id")) {
                             models.push_back(ModelFromRow(row));
                           }
                           return models;
                         });
}

absl::Status PgRouterStore::SaveTunables(const ModelSpec& m, const CallContext& ctx) {
  return pool_->Transaction(ctx.deadline, [&](pqxx::work& tx) -> absl::Status {
    auto r = tx.exec_params(
        "UPDATE llm_router.models SET enabled = $2, input_price_per_mtok = $3, "
        "output_price_per_mtok = $4, context_window = $5, capabilities = $6::text[], "
        "quality = $7, update_time = now() WHERE id = $1",
        m.id, m.enabled, m.input_price_per_mtok, m.output_price_per_mtok, m.context_window,
        CapabilitiesArray(m.capabilities), m.quality);
    if (r.affected_rows() == 0) return absl::NotFoundError("model " + m.id + " not found");
    return absl::OkStatus();
  });
}

absl::Status PgRouterStore::EnqueueRetry(const RetryRecord& r, const CallContext& ctx) {
  return pool_->Transaction(ctx.deadline, [&](pqxx::work& tx) -> absl::Status {
    tx.exec_params(
        "INSERT INTO llm_router.retry_queue (request_id, subject, agent, task, request, "
        "attempts, error) VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb, $7)",
        r.request_id, r.subject, r.agent, std::string(TaskName(r.task)), r.request_json,
        r.attempts_json, ToStorableText(r.error));
    return absl::OkStatus();
  });
}

}  // namespace genesis::llmrouter
