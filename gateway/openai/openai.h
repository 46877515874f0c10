// The OpenAI-compatible front door: OpenAI chat-completion and model-list
// JSON <-> genesis.llmrouter.v1 messages. Pure functions (no I/O); the
// gateway (gateway_openai.cc) does auth, rate limits and the backend calls.
//
// Request (POST /v1/chat/completions): `model` ("auto", "" or absent: the
// router selects; otherwise a registry model id, "sim-local" or
// "models/sim-local", tried instead of the policy), `messages` (role system /
// developer / user / assistant; content a string or an array of
// {"type": "text", "text": ...} parts), `max_completion_tokens` or
// `max_tokens`, `temperature` (0..2), `stream`, `stream_options.include_usage`,
// `user` (the subject accounted and budgeted; default: the caller's identity),
// `n` (1 only), `response_format` ({"type": "json_object"} requires a model
// with the JSON capability), function calling: `tools` (type "function"
// only; the parameters schema becomes a google.protobuf.Struct),
// `tool_choice` ("auto", "none", "required" or {"type": "function",
// "function": {"name"}}), assistant messages with `tool_calls` (content may
// be null) and `role: "tool"` messages with `tool_call_id`;
// `parallel_tool_calls` is ignored (the model may call several tools). Genesis extensions, as body
// fields or headers (the header wins): `genesis_task` / `X-Genesis-Task` (chat, reasoning,
// classification, extraction, long_context, summarization) and
// `genesis_sensitive` / `X-Genesis-Sensitive` (true/false: P0, local models
// only). Other OpenAI fields (the deprecated `functions`, logprobs...) are
// refused when they ask for something the router cannot do, and ignored
// otherwise. Answers carry `message.tool_calls` (finish_reason
// "tool_calls"); streams send `delta.tool_calls` pieces by index: a call's
// id, type and name first, then fragments of its arguments.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "genesis/llmrouter/v1/llm_router.pb.h"
#include "google/rpc/status.pb.h"

namespace genesis::gateway::openai {

struct ChatRequest {
  genesis::llmrouter::v1::CompleteRequest request;
  bool stream = false;
  bool include_usage = false;   // stream_options.include_usage
  std::string requested_model;  // as sent ("auto" when absent), for stream chunks
};

// Parses an OpenAI chat-completion body plus the Genesis headers (lower-case
// names). INVALID_ARGUMENT with a google.rpc.BadRequest whose field is the
// OpenAI parameter at fault ("messages[0].content", "temperature").
absl::StatusOr<ChatRequest> ParseChatRequest(const std::string& body,
                                             const std::map<std::string, std::string>& headers,
                                             const std::string& default_subject);

// "models/sim-local" -> "sim-local".
std::string ModelId(const std::string& model_name);

// The chat.completion object of a CompleteResponse.
std::string CompletionJson(const genesis::llmrouter::v1::CompleteResponse& response,
                           const std::string& id, absl::Time created);

// Turns StreamCompleteResponse messages into chat.completion.chunk events
// (`data: {...}\n\n`). Not thread-safe; one per stream (messages arrive in order).
class ChunkEncoder {
 public:
  ChunkEncoder(std::string id, absl::Time created, std::string model, bool include_usage);
  // The events for one serialized StreamCompleteResponse (may be "").
  // INTERNAL when the bytes do not parse.
  absl::StatusOr<std::string> Encode(const std::string& serialized);

 private:
  std::string Chunk(const std::string& model, const std::string& delta_json,
                    const std::string& finish_reason) const;
  const std::string id_;
  const int64_t created_;
  const std::string model_;
  const bool include_usage_;
  bool role_sent_ = false;
};

// The model list ({"object": "list", "data": [...]}) of the enabled models.
std::string ModelListJson(const genesis::llmrouter::v1::ListModelsResponse& response);

// OpenAI's error object {"error": {"message", "type", "param", "code"}} for a
// google.rpc.Status (param: the first field violation, when there is one).
std::string ErrorJson(const google::rpc::Status& status);

// The google.rpc.Status of a gateway error body (its JSON form), for turning
// the gateway's own refusals (401, 403, 429) into OpenAI errors.
google::rpc::Status StatusFromJson(const std::string& json, int http_status);

}  // namespace genesis::gateway::openai
