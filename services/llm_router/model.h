// The LLM router's domain types: models of the registry, requests, answers
// and attempts. Plain C++, no gRPC (grpc_service.cc converts the protos).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace genesis::llmrouter {

enum class Role { kUnspecified, kSystem, kUser, kAssistant, kTool };
enum class Protocol { kOpenAi, kAnthropic, kGemini };
enum class Locality { kLocal, kCloud };
enum class Strategy { kPolicy, kCheapest, kLowestLatency, kQualityFirst };
enum class Task {
  kUnspecified,
  kChat,
  kReasoning,
  kClassification,
  kExtraction,
  kLongContext,
  kSummarization,
};

// Capabilities as bits, so "has all required" is one mask test.
enum Capability : uint32_t {
  kCapChat = 1u << 0,
  kCapTools = 1u << 1,
  kCapJson = 1u << 2,
  kCapVision = 1u << 3,
  kCapLongContext = 1u << 4,
};

// "chat", "reasoning"... (the names used in models.json); "" for unspecified.
const char* TaskName(Task task);
std::optional<Task> TaskFromName(const std::string& name);
const char* ProtocolName(Protocol protocol);
std::optional<Protocol> ProtocolFromName(const std::string& name);
std::optional<uint32_t> CapabilityFromName(const std::string& name);
std::vector<std::string> CapabilityNames(uint32_t capabilities);

struct ModelSpec {
  std::string id;              // registry id; resource name "models/{id}"
  std::string provider;        // "openai", "anthropic", "simulator"...
  std::string provider_model;  // the id the provider knows
  Protocol protocol = Protocol::kOpenAi;
  std::string base_url;     // e.g. https://api.openai.com/v1 (no trailing slash)
  std::string api_key_env;  // environment variable holding the key ("" = none needed)
  std::string api_key;      // resolved at start; never logged, stored or returned
  double input_price_per_mtok = 0;
  double output_price_per_mtok = 0;
  int context_window = 8192;
  uint32_t capabilities = kCapChat;
  Locality locality = Locality::kCloud;
  bool enabled = true;
  int quality = 50;  // 0..100
  bool simulated = false;
  // The key (or, for keyless local models, the URL) is present.
  bool configured = false;
  // The provider's limits for this model (configuration file; 0: none).
  int rpm = 0;
  int64_t tpm = 0;

  // Estimated cost of `in` input and `out` output tokens, in US dollars.
  [[nodiscard]] double Cost(int64_t in, int64_t out) const {
    return (static_cast<double>(in) * input_price_per_mtok +
            static_cast<double>(out) * output_price_per_mtok) /
           1e6;
  }
};

// Function calling. A tool the model may call: `parameters` is the JSON
// Schema of its arguments as JSON text (an object schema; "" = none).
struct ToolSpec {
  std::string name;
  std::string description;
  std::string parameters;
};

// One call of a tool by the model; `arguments` is JSON text (an object).
struct ToolCall {
  std::string id;
  std::string name;
  std::string arguments;

  bool operator==(const ToolCall&) const = default;
};

enum class ToolChoiceMode { kAuto, kNone, kRequired, kTool };
struct ToolChoice {
  ToolChoiceMode mode = ToolChoiceMode::kAuto;
  std::string name;  // kTool: a declared tool
};

struct Message {
  Role role = Role::kUser;
  std::string content;
  std::vector<ToolCall> tool_calls{};  // kAssistant: the calls the model made
  std::string tool_call_id{};          // kTool: the call this result answers
};

struct Constraints {
  double max_cost_usd = 0;  // 0: no limit
  uint32_t required_capabilities = 0;
};

struct CompletionRequest {
  std::vector<Message> messages;
  Task task = Task::kUnspecified;
  std::string model;  // explicit model id ("" = policy)
  int max_tokens = 0;
  std::optional<float> temperature;
  bool sensitive = false;
  Strategy strategy = Strategy::kPolicy;
  Constraints constraints;
  std::string subject;
  std::string agent;
  bool no_cache = false;
  std::vector<ToolSpec> tools{};
  ToolChoice tool_choice{};
};

// True when the request declares tools or its conversation carries tool
// calls or results (never answered from the response cache).
bool UsesTools(const CompletionRequest& request);

struct Usage {
  int64_t input_tokens = 0;
  int64_t output_tokens = 0;
};

enum class AttemptOutcome { kOk, kFailed, kSkippedCircuitOpen };

struct Attempt {
  std::string model_id;
  int try_number = 1;
  AttemptOutcome outcome = AttemptOutcome::kFailed;
  int http_status = 0;
  std::string error;
  absl::Duration latency;
};

struct Completion {
  std::string text;
  std::string model_id;
  std::string provider;
  Usage usage;
  double cost_usd = 0;
  absl::Duration latency;
  std::vector<Attempt> attempts;
  Task task = Task::kUnspecified;
  bool sensitive = false;
  std::string finish_reason;  // "tool_calls" when the model called tools
  std::vector<ToolCall> tool_calls{};
  bool simulated = false;
  bool cached = false;        // from the response cache: usage and cost are 0
  bool sandbox = false;       // the subject is in sandbox mode (or it could not be read)
  int64_t execution_id = 0;   // the accounting row (0: not recorded)
  std::string experiment_id;  // the experiment and arm that routed the call ("" none)
  std::string arm;
};

}  // namespace genesis::llmrouter
