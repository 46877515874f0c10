#include "services/llm_router/http_client.h"

#include <curl/curl.h>

#include <mutex>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace genesis::llmrouter {
namespace {

struct Transfer {
  CURL* curl = nullptr;
  HttpResponse* response = nullptr;
  const BodySink* sink = nullptr;
  bool aborted = false;
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
  } else if (t->response->body.size() < (1u << 24)) {
    t->response->body.append(data, bytes);
  }
  return bytes;
}

size_t OnHeader(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string_view line(data, size * n);
  if (line.size() > 12 &&
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

}  // namespace

std::optional<absl::Duration> ParseRetryAfter(std::string_view value) {
  std::string v(absl::StripAsciiWhitespace(absl::string_view(value.data(), value.size())));
  double seconds = 0;
  if (!absl::SimpleAtod(v, &seconds) || seconds < 0) return std::nullopt;
  return absl::Seconds(seconds);
}

absl::StatusOr<HttpResponse> HttpPost(const HttpRequest& request, const BodySink* sink) {
  thread_local ThreadHandle handle;
  CURL* curl = handle.curl;
  if (!curl) return absl::InternalError("curl_easy_init failed");
  curl_easy_reset(curl);
  HttpResponse response;
  Transfer transfer;
  transfer.curl = curl;
  transfer.response = &response;
  transfer.sink = sink;
  transfer.start = absl::Now();
  transfer.first_byte_timeout = request.first_byte_timeout;
  transfer.idle_timeout = request.idle_timeout;
  if (request.content_started) transfer.content_started = &request.content_started;
  // A plain answer arrives at once: its first byte is its end, so libcurl's
  // own (exact) timeout carries the first-byte limit.
  const bool first_byte_is_total = !sink && request.first_byte_timeout < request.timeout;
  const absl::Duration total = first_byte_is_total ? request.first_byte_timeout : request.timeout;
  const bool watch = sink && (request.first_byte_timeout < request.timeout ||
                              request.idle_timeout < request.timeout);
  curl_slist* headers = nullptr;
  for (const auto& h : request.headers) headers = curl_slist_append(headers, h.c_str());
  headers = curl_slist_append(headers, "Expect:");  // no 100-continue round trip
  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_POST, 1L);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.data());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
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
  // The URL stays out of the message: it is an internal address.
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
      return absl::UnavailableError(what);
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
      return absl::InvalidArgumentError(absl::StrCat("bad provider URL: ", what));
    default:
      return absl::UnavailableError(what);
  }
}

}  // namespace genesis::llmrouter
