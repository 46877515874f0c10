// The shared skeleton of the HTTP provider clients: POST a JSON body, map
// HTTP errors and transport failures to statuses, and for streams feed the
// SSE events to the protocol's handler. Each wire protocol (wire_*.cc)
// supplies the request, the parse of a whole answer and the handling of one
// stream event.
#pragma once

#include <map>
#include <memory>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/http/http_client.h"
#include "services/llm_router/providers/provider.h"

namespace genesis::llmrouter {

class HttpProviderClient : public ProviderClient {
 public:
  ProviderResult Complete(const ProviderRequest& request) final;
  ProviderResult Stream(const ProviderRequest& request, const TextSink& sink) final;

  // The protocol's pieces below are public for the wire tests
  // (tests/wire_test.cc): pure functions of their arguments.

  // State of one streamed answer.
  struct StreamState {
    ProviderReply reply;
    bool done = false;  // the protocol's end-of-stream marker arrived
    const TextSink* sink = nullptr;
    const ToolCallSink* tool_sink = nullptr;
    bool sink_stopped = false;
    // Anthropic: content block index -> tool call index.
    std::map<int, int> tool_blocks;
    // Passes text to the caller's sink and keeps it in the reply.
    void Emit(std::string_view text);
    // A piece of tool call `index` (0-based, in order; a new index starts a
    // call with its id and name): kept in the reply, passed to the tool sink.
    void EmitToolDelta(int index, std::string_view id, std::string_view name,
                       std::string_view arguments);
  };

  virtual HttpRequest BuildRequest(const ProviderRequest& request, bool stream) const = 0;
  virtual absl::StatusOr<ProviderReply> ParseReply(std::string_view body) const = 0;
  // Handles one SSE event; a non-OK status ends the stream with that error.
  virtual absl::Status OnEvent(std::string_view event, std::string_view data,
                               StreamState* state) const = 0;
};

// The clients of each protocol with their pieces reachable (tests).
std::unique_ptr<HttpProviderClient> MakeWireClient(Protocol protocol);
std::unique_ptr<HttpProviderClient> MakeOpenAiWire();
std::unique_ptr<HttpProviderClient> MakeAnthropicWire();
std::unique_ptr<HttpProviderClient> MakeGeminiWire();

}  // namespace genesis::llmrouter
