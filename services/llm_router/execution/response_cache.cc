#include "services/llm_router/execution/response_cache.h"

#include <openssl/sha.h>

#include <cmath>

#include <nlohmann/json.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"

namespace genesis::llmrouter {

std::string ResponseCacheKey(const CompletionRequest& r, Task task, int max_tokens) {
  nlohmann::json messages = nlohmann::json::array();
  for (const auto& m : r.messages) {
    messages.push_back(
        {static_cast<int>(m.role), std::string(absl::StripAsciiWhitespace(m.content))});
  }
  nlohmann::json j = {{"v", 1}, {"messages", messages}, {"max_tokens", max_tokens}};
  if (!r.model.empty()) {
    j["model"] = r.model;
  } else {
    j["task"] = TaskName(task);
    j["strategy"] = static_cast<int>(r.strategy);
    j["max_cost_usd"] = r.constraints.max_cost_usd;
    j["capabilities"] = r.constraints.required_capabilities;
  }
  if (r.temperature) j["temperature"] = std::lround(*r.temperature * 1000.0);
  const std::string text = j.dump();
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), sizeof digest));
}

}  // namespace genesis::llmrouter
