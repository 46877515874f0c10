#include "services/llm_router/providers/http_provider.h"

#include <nlohmann/json.hpp>

#include "services/llm_router/providers/sse.h"

namespace genesis::llmrouter {
namespace {

// A provider's answer is untrusted input: the wire parsers read it with
// nlohmann::json, whose accessors throw on a field of an unexpected type
// ({"usage": {"prompt_tokens": "5"}}). Such an answer is INTERNAL (a 2xx
// answer that is not the protocol's format), never an exception out of the call.
absl::Status NotTheFormat() {
  return absl::InternalError(
      "the provider's answer is not in its protocol's format (a field of an unexpected type)");
}

HttpRequest Timed(HttpRequest http, const ProviderRequest& request) {
  http.first_byte_timeout = request.first_byte_timeout;
  http.idle_timeout = request.idle_timeout;
  return http;
}

}  // namespace

void HttpProviderClient::StreamState::Emit(std::string_view text) {
  if (text.empty()) return;
  reply.text.append(text);
  if (sink && !sink_stopped && !(*sink)(text)) sink_stopped = true;
}

void HttpProviderClient::StreamState::EmitToolDelta(int index, std::string_view id,
                                                    std::string_view name,
                                                    std::string_view arguments) {
  if (index < 0 || index > 1024) return;  // untrusted input: bounded
  if (static_cast<size_t>(index) >= reply.tool_calls.size()) reply.tool_calls.resize(index + 1);
  ToolCall& call = reply.tool_calls[index];
  if (!id.empty()) call.id = std::string(id);
  if (!name.empty()) call.name.append(name);
  call.arguments.append(arguments);
  if (id.empty() && name.empty() && arguments.empty()) return;
  if (tool_sink && !sink_stopped &&
      !(*tool_sink)(
          ToolCallDelta{index, std::string(id), std::string(name), std::string(arguments)})) {
    sink_stopped = true;
  }
}

ProviderResult HttpProviderClient::Complete(const ProviderRequest& request) {
  ProviderResult result;
  auto response = HttpPost(Timed(BuildRequest(request, /*stream=*/false), request));
  if (!response.ok()) {
    result.status = response.status();
    return result;
  }
  result.http_status = response->status;
  result.retry_after = response->retry_after;
  if (response->status < 200 || response->status >= 300) {
    result.status = StatusFromHttp(response->status, response->body);
    return result;
  }
  absl::StatusOr<ProviderReply> reply;
  try {
    reply = ParseReply(response->body);
  } catch (const nlohmann::json::exception&) {
    reply = NotTheFormat();
  }
  if (!reply.ok()) {
    result.status = reply.status();
    return result;
  }
  result.reply = std::move(*reply);
  SettleToolCalls(&result.reply);
  return result;
}

ProviderResult HttpProviderClient::Stream(const ProviderRequest& request, const TextSink& sink) {
  ProviderResult result;
  StreamState state;
  state.sink = &sink;
  state.tool_sink = request.tool_sink;
  absl::Status event_status;
  SseParser parser([&](std::string_view event, std::string_view data) {
    try {
      event_status = OnEvent(event, data, &state);
    } catch (const nlohmann::json::exception&) {
      event_status = NotTheFormat();
    }
    return event_status.ok() && !state.sink_stopped;
  });
  BodySink body = [&](std::string_view bytes) {
    parser.Feed(bytes);
    return event_status.ok() && !state.sink_stopped;
  };
  HttpRequest http = Timed(BuildRequest(request, /*stream=*/true), request);
  // Anthropic sends message_start at once: the first-byte limit runs until
  // the first text or tool call (time to first token).
  http.content_started = [&state] {
    return !state.reply.text.empty() || !state.reply.tool_calls.empty();
  };
  auto response = HttpPost(http, &body);
  if (response.ok()) {
    result.http_status = response->status;
    result.retry_after = response->retry_after;
  }
  if (!event_status.ok()) {
    result.status = event_status;
  } else if (state.sink_stopped) {
    result.status = absl::CancelledError("the reader stopped the stream");
  } else if (!response.ok()) {
    result.status = response.status();
  } else if (response->status < 200 || response->status >= 300) {
    result.status = StatusFromHttp(response->status, response->body);
  } else {
    parser.Finish();
    if (!event_status.ok()) result.status = event_status;
    if (result.status.ok() && !state.done) {
      result.status = absl::UnavailableError("the provider ended the stream before its end marker");
    }
  }
  result.reply = std::move(state.reply);
  SettleToolCalls(&result.reply);
  return result;
}

}  // namespace genesis::llmrouter
