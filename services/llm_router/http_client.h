// A small blocking HTTP POST over libcurl for the provider clients: a
// deadline per call, the status, Retry-After and either the whole body or,
// for streams, the body as it arrives. Each thread reuses one curl handle,
// so connections to a provider stay open between calls. Thread-safe.
//
// Errors (transport only; HTTP error statuses are returned as responses):
//   DEADLINE_EXCEEDED  the timeout passed (connect or transfer), or no body
//                      byte came within first_byte_timeout, or (after the
//                      first) none for idle_timeout
// Messages name what happened, never the URL (internal addresses must not
// reach callers).
//   UNAVAILABLE        cannot resolve or connect, connection dropped
//   CANCELLED          the body sink returned false
//   INVALID_ARGUMENT   a malformed URL
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace genesis::llmrouter {

struct HttpRequest {
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  std::string body;
  absl::Duration timeout = absl::Seconds(30);  // the whole call
  absl::Duration connect_timeout = absl::Seconds(5);
  // Until the first body byte (without a sink: the whole answer; with a sink
  // and `content_started`: until that returns true, e.g. the first text of a
  // stream whose protocol sends a header event at once).
  absl::Duration first_byte_timeout = absl::InfiniteDuration();
  std::function<bool()> content_started;
  // With a sink, after the first body byte: the longest gap between bytes
  // (checked about once a second by libcurl's progress callback).
  absl::Duration idle_timeout = absl::InfiniteDuration();
};

struct HttpResponse {
  int status = 0;
  std::string body;  // the whole body, unless streamed to a sink on success
  std::optional<absl::Duration> retry_after;
};

// Receives body bytes of a 2xx response as they arrive; false aborts.
using BodySink = std::function<bool(std::string_view bytes)>;

// POSTs `request`. With a sink, a 2xx body goes to the sink (not kept) and
// error bodies are kept in `body`.
absl::StatusOr<HttpResponse> HttpPost(const HttpRequest& request, const BodySink* sink = nullptr);

// "Retry-After" in seconds (HTTP dates are not used by LLM providers).
std::optional<absl::Duration> ParseRetryAfter(std::string_view value);

}  // namespace genesis::llmrouter
