#include "services/llm_router/model.h"

#include <utility>

namespace genesis::llmrouter {
namespace {

constexpr std::pair<Task, const char*> kTasks[] = {
    {Task::kChat, "chat"},
    {Task::kReasoning, "reasoning"},
    {Task::kClassification, "classification"},
    {Task::kExtraction, "extraction"},
    {Task::kLongContext, "long_context"},
    {Task::kSummarization, "summarization"},
};

constexpr std::pair<uint32_t, const char*> kCapabilities[] = {
    {kCapChat, "chat"},
    {kCapTools, "tools"},
    {kCapJson, "json"},
    {kCapVision, "vision"},
    {kCapLongContext, "long_context"},
};

}  // namespace

const char* TaskName(Task task) {
  for (const auto& [t, name] : kTasks) {
    if (t == task) return name;
  }
  return "";
}

std::optional<Task> TaskFromName(const std::string& name) {
  for (const auto& [t, n] : kTasks) {
    if (name == n) return t;
  }
  return std::nullopt;
}

const char* ProtocolName(Protocol protocol) {
  switch (protocol) {
    case Protocol::kOpenAi:
      return "openai";
    case Protocol::kAnthropic:
      return "anthropic";
    case Protocol::kGemini:
      return "gemini";
  }
  return "";
}

std::optional<Protocol> ProtocolFromName(const std::string& name) {
  if (name == "openai") return Protocol::kOpenAi;
  if (name == "anthropic") return Protocol::kAnthropic;
  if (name == "gemini") return Protocol::kGemini;
  return std::nullopt;
}

std::optional<uint32_t> CapabilityFromName(const std::string& name) {
  for (const auto& [bit, n] : kCapabilities) {
    if (name == n) return bit;
  }
  return std::nullopt;
}

std::vector<std::string> CapabilityNames(uint32_t capabilities) {
  std::vector<std::string> names;
  for (const auto& [bit, n] : kCapabilities) {
    if (capabilities & bit) names.emplace_back(n);
  }
  return names;
}

bool UsesTools(const CompletionRequest& request) {
  if (!request.tools.empty()) return true;
  for (const auto& m : request.messages) {
    if (m.role == Role::kTool || !m.tool_calls.empty()) return true;
  }
  return false;
}

}  // namespace genesis::llmrouter
