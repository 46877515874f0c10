// Router: the model registry — seeded from the configuration and loaded at
// start (Init), read by every call (Models), its tunables changed by
// UpdateModel and re-read every refresh_interval (RefreshIfStale), so a change
// made through another replica applies here within that time.
#include <algorithm>

#include "common/base/status.h"
#include "services/llm_router/reasons.h"
#include "services/llm_router/roles.h"
#include "services/llm_router/router.h"

namespace genesis::llmrouter {
namespace {

std::string ModelId(const std::string& name) {
  return name.rfind("models/", 0) == 0 ? name.substr(7) : name;
}

}  // namespace

// The configured models with the tunables stored for them (an admin's
// UpdateModel through any replica), sorted by id.
std::shared_ptr<const std::vector<ModelSpec>> Router::WithStoredTunables(
    const std::vector<ModelSpec>& stored) const {
  auto models = std::make_shared<std::vector<ModelSpec>>();
  for (const auto& c : config_.models) {
    ModelSpec m = c;
    auto it = std::find_if(stored.begin(), stored.end(),
                           [&](const ModelSpec& s) { return s.id == c.id; });
    if (it != stored.end()) {
      m.enabled = it->enabled;
      m.input_price_per_mtok = it->input_price_per_mtok;
      m.output_price_per_mtok = it->output_price_per_mtok;
      m.context_window = it->context_window;
      m.capabilities = it->capabilities;
      m.quality = it->quality;
    }
    models->push_back(std::move(m));
  }
  std::sort(models->begin(), models->end(),
            [](const ModelSpec& a, const ModelSpec& b) { return a.id < b.id; });
  return models;
}

absl::Status Router::Init(const CallContext& ctx) {
  GENESIS_RETURN_IF_ERROR(store_->SeedModels(config_.models, ctx));
  GENESIS_ASSIGN_OR_RETURN(auto stored, store_->LoadModels(ctx));
  auto models = WithStoredTunables(stored);
  int configured = 0;
  for (const auto& m : *models) configured += m.configured && m.enabled;
  log_->info("registry: {} models, {} configured and enabled", models->size(), configured);
  {
    std::lock_guard<std::mutex> lock(mu_);
    models_ = std::move(models);
  }
  RefreshIfStale();
  return absl::OkStatus();
}

std::shared_ptr<const std::vector<ModelSpec>> Router::Models() const {
  std::lock_guard<std::mutex> lock(mu_);
  return models_;
}

std::vector<ModelSpec> Router::ListModels() const { return *Models(); }

absl::StatusOr<ModelSpec> Router::GetModel(const std::string& name) const {
  const std::string id = ModelId(name);
  for (const auto& m : *Models()) {
    if (m.id == id) return m;
  }
  if (id.empty()) return InvalidField("name", "is required: models/{model}");
  return WithReason(absl::NotFoundError("model " + name + " not found"), reasons::kModelNotFound,
                    {{"model", "models/" + id}});
}

absl::StatusOr<ModelSpec> Router::UpdateModel(const std::string& name, const ModelSpec& values,
                                              const std::vector<std::string>& mask,
                                              const CallContext& ctx) {
  GENESIS_RETURN_IF_ERROR(RequireAdmin(ctx, "UpdateModel"));
  if (ModelId(name).empty()) return InvalidField("model.name", "is required: models/{model}");
  GENESIS_ASSIGN_OR_RETURN(ModelSpec m, GetModel(name));
  FieldViolations v;
  if (mask.empty()) v.Add("update_mask", "names no field to update");
  for (const auto& path : mask) {
    if (path == "enabled") {
      m.enabled = values.enabled;
    } else if (path == "input_price_per_mtok" || path == "output_price_per_mtok") {
      double price = path == "input_price_per_mtok" ? values.input_price_per_mtok
                                                    : values.output_price_per_mtok;
      if (price < 0) v.Add("model." + path, "must not be negative");
      (path == "input_price_per_mtok" ? m.input_price_per_mtok : m.output_price_per_mtok) = price;
    } else if (path == "context_window") {
      if (values.context_window <= 0) v.Add("model.context_window", "must be positive");
      m.context_window = values.context_window;
    } else if (path == "capabilities") {
      m.capabilities = values.capabilities;
    } else if (path == "quality") {
      if (values.quality < 0 || values.quality > 100) v.Add("model.quality", "must be 0..100");
      m.quality = values.quality;
    } else {
      v.Add("update_mask", "cannot update '" + path +
                               "' (connection details come from the "
                               "configuration file)");
    }
  }
  GENESIS_RETURN_IF_ERROR(v.ToStatus());
  GENESIS_RETURN_IF_ERROR(store_->SaveTunables(m, ctx));
  std::lock_guard<std::mutex> lock(mu_);
  auto copy = std::make_shared<std::vector<ModelSpec>>(*models_);
  for (auto& s : *copy) {
    if (s.id == m.id) s = m;
  }
  models_ = std::move(copy);
  return m;
}

}  // namespace genesis::llmrouter
