#include "services/llm_router/config.h"

#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

namespace genesis::llmrouter {
namespace {

absl::Status Bad(const std::string& where, const std::string& what) {
  return absl::InvalidArgumentError(absl::StrCat("models config: ", where, ": ", what));
}

absl::StatusOr<ModelSpec> ParseModel(const nlohmann::json& m, const std::string& where,
                                     const std::string& simulator_url, const EnvLookup& env) {
  if (!m.is_object()) return Bad(where, "must be an object");
  ModelSpec spec;
  spec.id = m.value("id", "");
  if (spec.id.empty() || spec.id.find('/') != std::string::npos) {
    return Bad(where, "id must be non-empty and contain no '/'");
  }
  spec.provider = m.value("provider", "");
  spec.provider_model = m.value("provider_model", spec.id);
  auto protocol = ProtocolFromName(m.value("protocol", ""));
  if (!protocol) return Bad(where, "protocol must be openai, anthropic or gemini");
  spec.protocol = *protocol;
  spec.base_url = m.value("base_url", "");
  spec.api_key_env = m.value("api_key_env", "");
  spec.input_price_per_mtok = m.value("input_price_per_mtok", 0.0);
  spec.output_price_per_mtok = m.value("output_price_per_mtok", 0.0);
  spec.context_window = m.value("context_window", 8192);
  spec.quality = m.value("quality", 50);
  spec.enabled = m.value("enabled", true);
  spec.simulated = m.value("simulated", false);
  const std::string locality = m.value("locality", "cloud");
  if (locality != "local" && locality != "cloud")
    return Bad(where, "locality must be local or cloud");
  spec.locality = locality == "local" ? Locality::kLocal : Locality::kCloud;
  if (spec.input_price_per_mtok < 0 || spec.output_price_per_mtok < 0) {
    return Bad(where, "prices must not be negative");
  }
  if (spec.context_window <= 0) return Bad(where, "context_window must be positive");
  spec.rpm = m.value("rpm", 0);
  spec.tpm = m.value("tpm", int64_t{0});
  if (spec.rpm < 0 || spec.tpm < 0) return Bad(where, "rpm and tpm must not be negative");
  spec.capabilities = 0;
  for (const auto& c : m.value("capabilities", nlohmann::json::array({"chat"}))) {
    auto bit = c.is_string() ? CapabilityFromName(c.get<std::string>()) : std::nullopt;
    if (!bit) return Bad(where, absl::StrCat("unknown capability ", c.dump()));
    spec.capabilities |= *bit;
  }
  const std::string base_url_env = m.value("base_url_env", "");
  if (spec.simulated) {
    spec.configured = !simulator_url.empty();
    spec.base_url = absl::StrReplaceAll(spec.base_url, {{"{simulator}", simulator_url}});
  } else {
    if (!base_url_env.empty() && !env(base_url_env).empty()) spec.base_url = env(base_url_env);
    if (!spec.api_key_env.empty()) {
      spec.api_key = env(spec.api_key_env);
      spec.configured = !spec.api_key.empty();
    } else {
      spec.configured = !base_url_env.empty() && !env(base_url_env).empty();
    }
  }
  while (!spec.base_url.empty() && spec.base_url.back() == '/') spec.base_url.pop_back();
  if (spec.base_url.empty()) return Bad(where, "base_url is required");
  return spec;
}

}  // namespace

EnvLookup ProcessEnv() {
  return [](const std::string& name) {
    const char* v = std::getenv(name.c_str());
    return std::string(v ? v : "");
  };
}

absl::StatusOr<RouterConfig> ParseRouterConfig(const std::string& json_text,
                                               const std::string& simulator_url,
                                               const EnvLookup& env) {
  nlohmann::json doc = nlohmann::json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) return Bad("file", "not a JSON object");
  RouterConfig config;
  std::set<std::string> ids;
  const auto& models = doc.value("models", nlohmann::json::array());
  for (size_t i = 0; i < models.size(); ++i) {
    auto spec = ParseModel(models[i], absl::StrCat("models[", i, "]"), simulator_url, env);
    if (!spec.ok()) return spec.status();
    if (!ids.insert(spec->id).second) {
      return Bad(absl::StrCat("models[", i, "]"), "duplicate id " + spec->id);
    }
    config.models.push_back(std::move(*spec));
  }
  if (config.models.empty()) return Bad("models", "at least one model is required");
  const nlohmann::json policies = doc.value("policies", nlohmann::json::object());
  for (const auto& [task_name, list] : policies.items()) {
    auto task = TaskFromName(task_name);
    if (!task) return Bad("policies", "unknown task " + task_name);
    auto& order = config.policies[*task];
    for (const auto& id : list) {
      if (!id.is_string() || !ids.count(id.get<std::string>())) {
        return Bad("policies." + task_name, "unknown model " + id.dump());
      }
      order.push_back(id.get<std::string>());
    }
  }
  for (const auto& t : doc.value("feedback_weighted_tasks", nlohmann::json::array())) {
    auto task = t.is_string() ? TaskFromName(t.get<std::string>()) : std::nullopt;
    if (!task) return Bad("feedback_weighted_tasks", "unknown task " + t.dump());
    config.feedback_weighted.insert(*task);
  }
  return config;
}

absl::StatusOr<RouterConfig> LoadRouterConfig(const std::string& path,
                                              const std::string& simulator_url,
                                              const EnvLookup& env) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError("cannot read models config " + path);
  std::stringstream text;
  text << in.rdbuf();
  return ParseRouterConfig(text.str(), simulator_url, env);
}

}  // namespace genesis::llmrouter
