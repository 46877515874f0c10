// The one outbound HTTP client of the mesh (libcurl): the router's provider
// clients, and the bot manager's channel sends and Alexa certificate fetches.
// A blocking GET or POST with a deadline per call, a bound on the body kept,
// redirects returned as they are unless asked for, the status, Retry-After
// and either the whole body or, for streams, the body as it arrives. Each
// thread reuses one curl handle, so connections to a host stay open between
// calls. Thread-safe.
//
// HTTP error statuses (4xx, 5xx, an unfollowed 3xx) are responses, not
// errors: the caller maps them. Errors are transport failures only:
//   DEADLINE_EXCEEDED   the call's time ran out (`timeout` or `deadline`,
//                       whichever is first; connect or transfer), or no body
//                       byte came within first_byte_timeout, or (after the
//                       first) none for idle_timeout; also when no time was
//                       left before the call (then nothing is sent)
//   UNAVAILABLE         cannot resolve or connect, connection dropped, TLS
//                       failure, too many redirects
//   RESOURCE_EXHAUSTED  the body to keep is larger than max_response_bytes
//   CANCELLED           the body sink returned false
//   INVALID_ARGUMENT    a malformed URL, or a scheme other than http/https
// Messages are stable and never hold the URL (internal addresses and tokens
// in paths or queries must not reach callers); the failure is logged (logger
// "http_client", with the request id) naming only the URL's scheme, host and
// port. A failure after which the request may have reached the server (it
// was connected; e.g. the connection broke or the answer timed out) carries
// the kHttpMaybeSentPayload payload: see HttpRequestMayHaveBeenSent.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace genesis {

struct HttpRequest {
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  std::string body;                  // sent by POST; GET sends none
  // The whole call ends after `timeout` or at `deadline`, whichever is first.
  absl::Duration timeout = absl::Seconds(30);
  absl::Time deadline = absl::InfiniteFuture();  // e.g. the caller's CallContext::deadline
  absl::Duration connect_timeout = absl::Seconds(5);
  // Until the first body byte (without a sink: the whole answer; with a sink
  // and `content_started`: until that returns true, e.g. the first text of a
  // stream whose protocol sends a header event at once).
  absl::Duration first_byte_timeout = absl::InfiniteDuration();
  std::function<bool()> content_started;
  // With a sink, after the first body byte: the longest gap between bytes
  // (checked about once a second by libcurl's progress callback).
  absl::Duration idle_timeout = absl::InfiniteDuration();
  // The most body bytes kept in HttpResponse::body (a whole answer, or the
  // error answer of a streamed call); a longer body fails the call with
  // RESOURCE_EXHAUSTED. Bytes handed to a sink are not counted.
  size_t max_response_bytes = size_t{16} << 20;
  // Off: a 3xx answer is returned as it is. On: at most `max_redirects`
  // hops, to http or https only.
  bool follow_redirects = false;
  int max_redirects = 5;
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
// GETs `request.url` (the body is not sent); the sink as for HttpPost.
absl::StatusOr<HttpResponse> HttpGet(const HttpRequest& request, const BodySink* sink = nullptr);

// The payload type URL that marks a failed call whose request may have
// reached the server.
inline constexpr char kHttpMaybeSentPayload[] = "genesis.http/maybe-sent";

// True when `status` (an error of HttpPost/HttpGet) says the request may have
// reached the server: it was connected before the call failed. False when it
// certainly never left (no such host, connection refused, a bad URL, no time
// left), so resending cannot repeat it.
[[nodiscard]] inline bool HttpRequestMayHaveBeenSent(const absl::Status& status) {
  return status.GetPayload(kHttpMaybeSentPayload).has_value();
}

// "Retry-After" in seconds (HTTP dates are not used by the callers' peers).
std::optional<absl::Duration> ParseRetryAfter(std::string_view value);

enum class HttpMethod { kGet, kPost };

// The seam for code that takes its HTTP client injected (tests fake Send).
class HttpClient {
 public:
  virtual ~HttpClient() = default;
  // One call, with the contract of HttpPost / HttpGet above.
  virtual absl::StatusOr<HttpResponse> Send(HttpMethod method, const HttpRequest& request,
                                            const BodySink* sink) = 0;

  absl::StatusOr<HttpResponse> Post(const HttpRequest& request, const BodySink* sink = nullptr) {
    return Send(HttpMethod::kPost, request, sink);
  }
  absl::StatusOr<HttpResponse> Get(const HttpRequest& request, const BodySink* sink = nullptr) {
    return Send(HttpMethod::kGet, request, sink);
  }
};

// HttpClient over HttpPost / HttpGet (libcurl).
class CurlHttpClient final : public HttpClient {
 public:
  absl::StatusOr<HttpResponse> Send(HttpMethod method, const HttpRequest& request,
                                    const BodySink* sink) override;
};

}  // namespace genesis
