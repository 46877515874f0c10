// The gateway's OpenAI-compatible front door (gateway/openai/openai.h): what a
// client POSTs to /v1/chat/completions, parsed by ParseChatRequest with the
// Genesis headers, then what the gateway writes back from it: the OpenAI
// error object of a refusal (ErrorJson), or a completion and stream chunks
// whose text and model come from the request (CompletionJson, ChunkEncoder).
// Input: a flags byte (bit 0: an X-Genesis-Task header, bit 1: an
// X-Genesis-Sensitive header), each header's value up to a newline, then the
// body. Header values are any bytes, as HTTP/1.1 carries them (obs-text).
// Invariants: no exception escapes; a refusal is INVALID_ARGUMENT and its
// error object is JSON with a message; an accepted request has messages with
// a role and non-empty content, limits within their documented ranges, and
// serializes as a CompleteRequest the router parses back to the same message;
// the completion and chunk JSON parse and carry the text.
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "gateway/http/errors.h"
#include "gateway/http/strict_json.h"
#include "gateway/openai/openai.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

namespace openai = genesis::gateway::openai;
namespace v1 = genesis::llmrouter::v1;
using nlohmann::json;

// Cuts the next line (without its newline) off `in`.
std::string Line(std::string_view& in) {
  const size_t nl = in.find('\n');
  std::string line(in.substr(0, nl));
  in = nl == std::string_view::npos ? std::string_view() : in.substr(nl + 1);
  return line;
}

void CheckRefusal(const absl::Status& status) {
  FUZZ_CHECK(status.code() == absl::StatusCode::kInvalidArgument);
  FUZZ_CHECK(!status.message().empty());
  const std::string body = openai::ErrorJson(genesis::gateway::RpcStatusFromAbsl(status));
  const json doc = json::parse(body, nullptr, false);
  FUZZ_CHECK(doc.is_object() && doc.contains("error"));
  FUZZ_CHECK(doc["error"]["message"].is_string() && !doc["error"]["message"].empty());
  FUZZ_CHECK(doc["error"]["type"] == "invalid_request_error");
}

void CheckAccepted(const std::string& body, const openai::ChatRequest& chat) {
  FUZZ_CHECK(genesis::gateway::CheckStrictJson(body).ok());
  const v1::CompleteRequest& req = chat.request;
  FUZZ_CHECK(req.messages_size() > 0);
  for (const auto& m : req.messages()) {
    FUZZ_CHECK(m.role() == v1::ROLE_SYSTEM || m.role() == v1::ROLE_USER ||
               m.role() == v1::ROLE_ASSISTANT);
    FUZZ_CHECK(!m.content().empty());
  }
  FUZZ_CHECK(req.max_tokens() >= 0 && req.max_tokens() <= 1000000);
  FUZZ_CHECK(req.temperature() >= 0 && req.temperature() <= 2);
  FUZZ_CHECK(!req.subject().empty() && req.subject().size() <= 256);
  FUZZ_CHECK(!chat.requested_model.empty());
  // What the gateway sends the router parses there as the same message.
  const std::string wire = req.SerializeAsString();
  v1::CompleteRequest back;
  FUZZ_CHECK(back.ParseFromString(wire));
  FUZZ_CHECK(back.SerializeAsString() == wire);

  // The answers that echo the request: a completion, and stream chunks.
  const std::string& text = req.messages(0).content();
  v1::CompleteResponse response;
  response.set_text(text);
  response.set_model(req.model());
  const json completion = json::parse(
      openai::CompletionJson(response, "chatcmpl-1", absl::FromUnixSeconds(1)), nullptr, false);
  FUZZ_CHECK(completion.is_object());
  FUZZ_CHECK(completion["choices"][0]["message"]["content"] == text);
  openai::ChunkEncoder encoder("chatcmpl-1", absl::FromUnixSeconds(1), chat.requested_model,
                               chat.include_usage);
  v1::StreamCompleteResponse piece;
  piece.set_text(text);
  *piece.mutable_summary() = response;
  auto events = encoder.Encode(piece.SerializeAsString());
  FUZZ_CHECK(events.ok());
  std::string_view rest = *events;
  int chunks = 0;
  while (!rest.empty()) {
    FUZZ_CHECK(rest.substr(0, 6) == "data: ");
    const size_t end = rest.find("\n\n");
    FUZZ_CHECK(end != std::string_view::npos);
    const json chunk = json::parse(rest.substr(6, end - 6), nullptr, false);
    FUZZ_CHECK(chunk.is_object() && chunk["object"] == "chat.completion.chunk");
    if (chunks == 0) FUZZ_CHECK(chunk["choices"][0]["delta"]["content"] == text);
    ++chunks;
    rest.remove_prefix(end + 2);
  }
  FUZZ_CHECK(chunks == (chat.include_usage ? 3 : 2));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t flags = data[0];
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::map<std::string, std::string> headers;
  if ((flags & 1) != 0) headers["x-genesis-task"] = Line(in);
  if ((flags & 2) != 0) headers["x-genesis-sensitive"] = Line(in);
  const std::string body(in);
  auto chat = openai::ParseChatRequest(body, headers, "user:fuzz");
  if (!chat.ok()) {
    CheckRefusal(chat.status());
  } else {
    CheckAccepted(body, *chat);
  }
  return 0;
}
