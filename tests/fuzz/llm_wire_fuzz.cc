// The router's provider clients reading providers' answers
// (services/llm_router/providers/wire_openai.cc, wire_anthropic.cc, wire_gemini.cc,
// http_provider.cc, provider.cc): whole answers, SSE streams and error
// bodies. HttpPost (common/http/http_client.h) is replaced here by one that answers with
// the input, so the real clients run without a network.
// Input: byte 0 picks the protocol (% 3: OpenAI, Anthropic, Gemini) and,
// with bit 2, a stream; byte 1 the HTTP status (an index into kStatuses) and
// the read size of a stream; the rest is the body.
// Invariants: no exception escapes; the status is one the executor knows
// (provider.h); a streamed answer's text is what the sink received.
#include <cstdint>
#include <string>
#include <string_view>

#include "common/http/http_client.h"
#include "services/llm_router/model.h"
#include "services/llm_router/providers/provider.h"
#include "tests/fuzz/fuzz_util.h"

namespace genesis::llmrouter {
namespace {

struct Answer {
  int status = 200;
  std::string_view body;
  size_t read = 1;
};
thread_local Answer answer;

}  // namespace
}  // namespace genesis::llmrouter

namespace genesis {

using llmrouter::answer;

absl::StatusOr<HttpResponse> HttpPost(const HttpRequest& request, const BodySink* sink) {
  HttpResponse response;
  response.status = answer.status;
  const bool ok = answer.status >= 200 && answer.status < 300;
  if (sink == nullptr || !ok) {
    response.body = std::string(answer.body);
    return response;
  }
  for (size_t at = 0; at < answer.body.size(); at += answer.read) {
    if (!(*sink)(answer.body.substr(at, answer.read))) {
      return absl::CancelledError("the body sink stopped the transfer");
    }
  }
  return response;
}

std::optional<absl::Duration> ParseRetryAfter(std::string_view value) { return std::nullopt; }

}  // namespace genesis

namespace {

using namespace genesis::llmrouter;

constexpr int kStatuses[] = {200, 200, 200, 200, 201, 400, 401, 403, 404,
                             408, 413, 422, 429, 500, 503, 529, 302, 418};

bool Known(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kOk:
    case absl::StatusCode::kResourceExhausted:
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kUnauthenticated:
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kCancelled:
    case absl::StatusCode::kInternal:
    case absl::StatusCode::kUnknown:  // an HTTP status outside the table (3xx, 418)
      return true;
    default:
      return false;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  static ProviderClient* clients[] = {MakeOpenAiClient().release(), MakeAnthropicClient().release(),
                                      MakeGeminiClient().release()};
  ProviderClient* client = clients[data[0] % 3];
  const bool stream = (data[0] & 4) != 0;
  answer.status = kStatuses[data[1] % (sizeof(kStatuses) / sizeof(kStatuses[0]))];
  answer.read = data[1] / 16 + 1;
  answer.body = std::string_view(reinterpret_cast<const char*>(data) + 2, size - 2);

  static const ModelSpec model = [] {
    ModelSpec m;
    m.id = "fuzz";
    m.provider_model = "fuzz-model";
    m.base_url = "http://127.0.0.1:1";
    return m;
  }();
  static const std::vector<Message> messages = {{Role::kUser, "olá"}};
  ProviderRequest request;
  request.model = &model;
  request.messages = &messages;

  if (!stream) {
    ProviderResult result = client->Complete(request);
    FUZZ_CHECK(Known(result.status.code()));
    FUZZ_CHECK(result.http_status == answer.status);
    return 0;
  }
  std::string seen;
  size_t calls = 0;
  const TextSink sink = [&](std::string_view text) {
    seen.append(text);
    return ++calls < 10000;
  };
  ProviderResult result = client->Stream(request, sink);
  FUZZ_CHECK(Known(result.status.code()));
  if (result.status.ok()) FUZZ_CHECK(result.reply.text == seen);
  return 0;
}
