#include "common/http/http_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <mutex>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/runtime/logging.h"

namespace genesis {
namespace {

struct Transfer {
  CURL* curl = nullptr;
  HttpResponse* response = nullptr;
  const BodySink* sink = nullptr;
  size_t max_body = 0;
  bool aborted = false;    // the sink returned false
  bool too_large = false;  // the body to keep passed max_body
  absl::Time start;
  absl::Duration first_byte_timeout;
  absl::Duration idle_timeout;
  std::optional<absl::Time> last_byte;  // set by the first body byte
  const std::function<bool()>* content_started = nullptr;
  enum class Stop { kNone, kFirstByte, kIdle } stopped = Stop::kNone;
};

// libcurl calls this about once a second while nothing arrives (and more
// often while data flows): non-zero aborts the transfer.
int OnProgress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* t = static_cast<Transfer*>(user);
  const absl::Time now = absl::Now();
  const bool started = t->last_byte && (t->content_started == nullptr || (*t->content_started)());
  if (!started) {
    if (now - t->start >= t->first_byte_timeout) {
      t->stopped = Transfer::Stop::kFirstByte;
      return 1;
    }
  } else if (now - *t->last_byte >= t->idle_timeout) {
    t->stopped = Transfer::Stop::kIdle;
    return 1;
  }
  return 0;
}

size_t OnBody(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t bytes = size * n;
  if (bytes > 0) t->last_byte = absl::Now();
  if (t->response->status == 0) {
    long code = 0;
    curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &code);
    t->response->status = static_cast<int>(code);
  }
  const bool ok = t->response->status >= 200 && t->response->status < 300;
  if (t->sink && ok) {
    if (!(*t->sink)(std::string_view(data, bytes))) {
      t->aborted = true;
      return 0;  // makes curl stop with CURLE_WRITE_ERROR
    }
    return bytes;
  }
  if (bytes > t->max_body - t->response->body.size()) {
    t->too_large = true;
    return 0;
  }
  t->response->body.append(data, bytes);
  return bytes;
}

size_t OnHeader(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string_view line(data, size * n);
  if (absl::StartsWith(absl::string_view(line.data(), line.size()), "HTTP/")) {
    // A new response begins (after a 100 Continue or a followed redirect).
    t->response->status = 0;
    t->response->body.clear();
    t->response->retry_after.reset();
  } else if (line.size() > 12 &&
             absl::AsciiStrToLower(std::string(line.substr(0, 12))) == "retry-after:") {
    t->response->retry_after = ParseRetryAfter(line.substr(12));
  }
  return size * n;
}

// One handle per thread keeps its connection cache between calls.
struct ThreadHandle {
  CURL* curl = nullptr;
  ThreadHandle() {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
    curl = curl_easy_init();
  }
  ~ThreadHandle() {
    if (curl) curl_easy_cleanup(curl);
  }
};

long Millis(absl::Duration d) {
  return static_cast<long>(std::max<int64_t>(1, absl::ToInt64Milliseconds(d)));
}

// "https://host:port" of `url`, for logs: the path and query may carry
// tokens (Telegram's /bot<token>/, Gemini's ?key=).
std::string OriginOf(const std::string& url) {
  CURLU* u = curl_url();
  if (u == nullptr) return "<url>";
  std::string out = "<malformed url>";
  if (curl_url_set(u, CURLUPART_URL, url.c_str(), 0) == CURLUE_OK) {
    char* scheme = nullptr;
    char* host = nullptr;
    char* port = nullptr;
    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
    curl_url_get(u, CURLUPART_HOST, &host, 0);
    curl_url_get(u, CURLUPART_PORT, &port, 0);
    out = absl::StrCat(scheme ? scheme : "?", "://", host ? host : "?", port ? ":" : "",
                       port ? port : "");
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
  }
  curl_url_cleanup(u);
  return out;
}

// Failures that happen before any byte of the request can have left.
bool NeverLeft(CURLcode rc) {
  switch (rc) {
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
      return true;
    default:
      return false;
  }
}

// The error of a failed transfer, with a stable message (never the URL).
absl::Status TransferError(CURLcode rc, const Transfer& transfer, const HttpRequest& request,
                           bool first_byte_is_total, absl::Duration total) {
  const std::string what = curl_easy_strerror(rc);
  switch (rc) {
    case CURLE_OPERATION_TIMEDOUT:
      if (first_byte_is_total) {
        return absl::DeadlineExceededError(
            absl::StrCat("timed out: no answer within ", Millis(total), " ms"));
      }
      return absl::DeadlineExceededError(absl::StrCat("timed out after ", Millis(total), " ms"));
    case CURLE_ABORTED_BY_CALLBACK:
      if (transfer.stopped == Transfer::Stop::kFirstByte) {
        return absl::DeadlineExceededError(
            absl::StrCat("timed out: ", transfer.content_started ? "no text" : "no first byte",
                         " within ", Millis(request.first_byte_timeout), " ms"));
      }
      if (transfer.stopped == Transfer::Stop::kIdle) {
        return absl::DeadlineExceededError(absl::StrCat(
            "timed out: the stream stalled, no data for ", Millis(request.idle_timeout), " ms"));
      }
      return absl::UnavailableError(what);
    case CURLE_WRITE_ERROR:
      if (transfer.aborted) return absl::CancelledError("stopped by the reader: " + what);
      if (transfer.too_large) {
        return absl::ResourceExhaustedError(
            absl::StrCat("the answer is larger than ", request.max_response_bytes, " bytes"));
      }
      return absl::UnavailableError(what);
    case CURLE_FILESIZE_EXCEEDED:
      return absl::ResourceExhaustedError(
          absl::StrCat("the answer is larger than ", request.max_response_bytes, " bytes"));
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
      return absl::InvalidArgumentError(absl::StrCat("bad URL: ", what));
    default:
      return absl::UnavailableError(what);
  }
}

absl::StatusOr<HttpResponse> Perform(HttpMethod method, const HttpRequest& request,
                                     const BodySink* sink) {
  const char* verb = method == HttpMethod::kPost ? "POST" : "GET";
  const absl::Time start = absl::Now();
  const absl::Duration call_timeout = std::min(request.timeout, request.deadline - start);
  if (call_timeout <= absl::ZeroDuration()) {
    Logger("http_client")->debug("{} {} not sent: no time was left", verb, OriginOf(request.url));
    return absl::DeadlineExceededError("no time was left for the call");
  }
  thread_local ThreadHandle handle;
  CURL* curl = handle.curl;
  if (!curl) return absl::InternalError("curl_easy_init failed");
  curl_easy_reset(curl);
  HttpResponse response;
  Transfer transfer;
  transfer.curl = curl;
  transfer.response = &response;
  transfer.sink = sink;
  transfer.max_body = request.max_response_bytes;
  transfer.start = start;
  transfer.first_byte_timeout = request.first_byte_timeout;
  transfer.idle_timeout = request.idle_timeout;
  if (request.content_started) transfer.content_started = &request.content_started;
  // A plain answer arrives at once: its first byte is its end, so libcurl's
  // own (exact) timeout carries the first-byte limit.
  const bool first_byte_is_total = !sink && request.first_byte_timeout < call_timeout;
  const absl::Duration total = first_byte_is_total ? request.first_byte_timeout : call_timeout;
  const bool watch =
      sink && (request.first_byte_timeout < call_timeout || request.idle_timeout < call_timeout);
  curl_slist* headers = nullptr;
  for (const auto& h : request.headers) headers = curl_slist_append(headers, h.c_str());
  headers = curl_slist_append(headers, "Expect:");  // no 100-continue round trip
  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  if (method == HttpMethod::kPost) {
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(request.body.size()));
  } else {
    curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
  }
  // Refused early when the answer announces a longer body than may be kept.
  if (!sink) {
    curl_easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE,
                     static_cast<curl_off_t>(request.max_response_bytes));
  }
  if (request.follow_redirects) {
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(curl, CURLOPT_MAXREDIRS, static_cast<long>(request.max_redirects));
    curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  } else {
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
  }
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, Millis(total));
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                   Millis(std::min(request.connect_timeout, total)));
  if (watch) {
    curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, OnProgress);
    curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &transfer);
    curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
  }
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &transfer);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &transfer);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  const CURLcode rc = curl_easy_perform(curl);
  curl_slist_free_all(headers);
  if (response.status == 0) {
    long code = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
    response.status = static_cast<int>(code);
  }
  if (rc == CURLE_OK) return response;

  absl::Status status = TransferError(rc, transfer, request, first_byte_is_total, total);
  // A timeout may come before the connection or after the request went out.
  curl_off_t sent = 0;
  curl_easy_getinfo(curl, CURLINFO_REQUEST_SIZE, &sent);
  const bool maybe_sent = !NeverLeft(rc) && (rc != CURLE_OPERATION_TIMEDOUT || sent > 0);
  if (maybe_sent) status.SetPayload(kHttpMaybeSentPayload, absl::Cord("1"));
  // The URL's origin goes to the log only: the caller's message stays stable.
  auto log = Logger("http_client");
  const auto level = transfer.aborted ? spdlog::level::debug : spdlog::level::warn;
  log->log(level, "{} {} failed after {} ms: {} (curl: {}; the request may have arrived: {})", verb,
           OriginOf(request.url), absl::ToInt64Milliseconds(absl::Now() - start), status.message(),
           curl_easy_strerror(rc), maybe_sent ? "yes" : "no");
  return status;
}

}  // namespace

std::optional<absl::Duration> ParseRetryAfter(std::string_view value) {
  std::string v(absl::StripAsciiWhitespace(absl::string_view(value.data(), value.size())));
  double seconds = 0;
  if (!absl::SimpleAtod(v, &seconds) || seconds < 0) return std::nullopt;
  return absl::Seconds(seconds);
}

absl::StatusOr<HttpResponse> HttpPost(const HttpRequest& request, const BodySink* sink) {
  return Perform(HttpMethod::kPost, request, sink);
}

absl::StatusOr<HttpResponse> HttpGet(const HttpRequest& request, const BodySink* sink) {
  return Perform(HttpMethod::kGet, request, sink);
}

absl::StatusOr<HttpResponse> CurlHttpClient::Send(HttpMethod method, const HttpRequest& request,
                                                  const BodySink* sink) {
  return method == HttpMethod::kPost ? HttpPost(request, sink) : HttpGet(request, sink);
}

}  // namespace genesis
