// The router's configuration file (config/models.json): the models to seed
// the registry with and the per-task policy (primary model, then ordered
// fallbacks), modelled on the routing table of seed 001.
//
//   {"models": [{"id": "sim-gpt-4o", "provider": "simulator", "protocol": "openai",
//                "provider_model": "gpt-4o", "base_url": "{simulator}/v1",
//                "api_key_env": "", "base_url_env": "", "input_price_per_mtok": 5,
//                "output_price_per_mtok": 15, "context_window": 128000,
//                "capabilities": ["chat", "json"], "locality": "cloud",
//                "quality": 85, "enabled": true, "simulated": true,
//                "rpm": 500, "tpm": 200000}, ...],
//    "policies": {"reasoning": ["claude-3-5-sonnet", "gpt-4o", ...], ...},
//    "feedback_weighted_tasks": ["chat"]}
//
// "rpm"/"tpm": the provider's requests / tokens per minute for the model
// (execution/rate_limit.h; 0 or absent: no limit).
//
// "{simulator}" in a base URL is replaced by the simulator's URL; simulated
// models are configured only when one is given. A real model is configured
// when the variable named by api_key_env is set (keyless local models: when
// base_url_env is set, which also overrides base_url).
#pragma once

#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "services/llm_router/model.h"

namespace genesis::llmrouter {

struct RouterConfig {
  std::vector<ModelSpec> models;
  std::map<Task, std::vector<std::string>> policies;
  // Tasks whose policy order is replaced by feedback-weighted selection
  // (Thompson sampling, selection/experiment.h): "feedback_weighted_tasks": ["chat"].
  std::set<Task> feedback_weighted;
};

// Reads a value from the environment ("" when unset). Injected for tests.
using EnvLookup = std::function<std::string(const std::string& name)>;
EnvLookup ProcessEnv();

// Parses and validates the file's text: INVALID_ARGUMENT naming the first bad
// entry (unknown protocol, capability, task or model in a policy, duplicate id).
// Resolves keys and URLs with `env` and `simulator_url` ("" = no simulator).
absl::StatusOr<RouterConfig> ParseRouterConfig(const std::string& json_text,
                                               const std::string& simulator_url,
                                               const EnvLookup& env);

// Reads the file, then ParseRouterConfig. NOT_FOUND when it cannot be read.
absl::StatusOr<RouterConfig> LoadRouterConfig(const std::string& path,
                                              const std::string& simulator_url,
                                              const EnvLookup& env);

}  // namespace genesis::llmrouter
