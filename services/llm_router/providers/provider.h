// Outbound calls to language models. One ProviderClient per wire protocol
// (OpenAI chat completions, Anthropic Messages, Gemini generateContent), each
// plain and streaming, reading token usage from the provider's answer.
//
// A call returns a ProviderResult rather than a bare status because the
// executor needs the HTTP status and Retry-After to decide on retries:
//   OK                    the answer (and its usage)
//   RESOURCE_EXHAUSTED    HTTP 429 (retryable; retry_after when the provider said)
//   UNAVAILABLE           HTTP 5xx/529, connection failures (retryable)
//   DEADLINE_EXCEEDED     the call's timeout passed (retryable)
//   INVALID_ARGUMENT      HTTP 400/413/422: the provider refused the request
//   UNAUTHENTICATED / PERMISSION_DENIED  HTTP 401 / 403 (bad or missing key)
//   NOT_FOUND             HTTP 404 (unknown model at the provider)
//   CANCELLED             the stream's sink stopped it (the caller went away)
//   INTERNAL              a 2xx answer that is not the protocol's format
// Implementations are thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "services/llm_router/model.h"

namespace genesis::llmrouter {

// A piece of a streamed tool call: the first one of a call has its id and
// name, the next ones fragments of its arguments (they concatenate).
struct ToolCallDelta {
  int index = 0;  // which call of the answer, from 0, in order
  std::string id;
  std::string name;
  std::string arguments;
};
// Receives tool-call pieces as the model generates them; false stops the stream.
using ToolCallSink = std::function<bool(const ToolCallDelta& delta)>;

struct ProviderRequest {
  const ModelSpec* model = nullptr;
  const std::vector<Message>* messages = nullptr;
  // Function calling (null or empty: none). The request was validated: names
  // are unique, a named tool choice is declared, every tool result answers a
  // call of an earlier assistant message.
  const std::vector<ToolSpec>* tools = nullptr;
  ToolChoice tool_choice{};
  // Streams: where tool-call pieces go (null: only kept in the reply).
  const ToolCallSink* tool_sink = nullptr;
  int max_tokens = 1024;
  std::optional<float> temperature;
  absl::Duration timeout = absl::Seconds(30);  // the whole call
  // Until the answer (a plain call) or a stream's first text; then, for
  // streams, the longest gap between bytes. DEADLINE_EXCEEDED
  // when one passes.
  absl::Duration first_byte_timeout = absl::InfiniteDuration();
  absl::Duration idle_timeout = absl::InfiniteDuration();
};

struct ProviderReply {
  std::string text;
  Usage usage;
  // "stop", "length", "tool_calls" (whenever the answer has tool calls) or
  // the provider's own value.
  std::string finish_reason;
  std::vector<ToolCall> tool_calls{};  // complete, in order; arguments "{}" at least
};

struct ProviderResult {
  absl::Status status;
  int http_status = 0;
  std::optional<absl::Duration> retry_after;
  ProviderReply reply;
};

// Receives text as the model generates it; false stops the stream.
using TextSink = std::function<bool(std::string_view text)>;

class ProviderClient {
 public:
  virtual ~ProviderClient() = default;
  virtual ProviderResult Complete(const ProviderRequest& request) = 0;
  // Streams text to `sink`; the result carries the whole text and usage.
  virtual ProviderResult Stream(const ProviderRequest& request, const TextSink& sink) = 0;
};

// The real clients, over libcurl (http_client.h).
std::unique_ptr<ProviderClient> MakeOpenAiClient();
std::unique_ptr<ProviderClient> MakeAnthropicClient();
std::unique_ptr<ProviderClient> MakeGeminiClient();
// Dispatches each call to the client of the model's protocol.
std::unique_ptr<ProviderClient> MakeProviderClients();

// Shared by the clients: the status for an HTTP error answer, with the
// provider's own message ({"error": {"message": ...}}) when there is one.
absl::Status StatusFromHttp(int http_status, std::string_view body);
// True for the failures worth retrying on the same model.
bool IsRetryable(const absl::Status& status);

// Shared by the wire protocols (function calling):
// an id for a tool call the provider gave none for (Gemini): "call_{index}_{8 hex}".
std::string MakeToolCallId(int index);
// The tool's name for a tool result: the name of the call `tool_call_id` in
// the earlier assistant messages ("" when none has that id).
std::string ToolNameOf(const std::vector<Message>& messages, const std::string& tool_call_id);
// "tool_calls" when there are calls and the provider said it stopped
// normally (Gemini says STOP), else `finish_reason`; empty arguments become "{}".
void SettleToolCalls(ProviderReply* reply);

}  // namespace genesis::llmrouter
