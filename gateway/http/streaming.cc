#include "gateway/http/streaming.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace genesis::gateway {

StreamFormat StreamFormatFromAccept(const std::string& accept) {
  return absl::StrContains(absl::AsciiStrToLower(accept), "text/event-stream")
             ? StreamFormat::kSse
             : StreamFormat::kNdjson;
}

const char* StreamContentType(StreamFormat format) {
  return format == StreamFormat::kNdjson ? "application/x-ndjson" : "text/event-stream";
}

std::string FrameMessage(StreamFormat format, const std::string& json) {
  if (format == StreamFormat::kOpenAi) return json;
  if (format == StreamFormat::kSse) return absl::StrCat("data: ", json, "\n\n");
  return absl::StrCat(json, "\n");
}

std::string FrameError(StreamFormat format, const std::string& status_json) {
  if (format == StreamFormat::kOpenAi) return absl::StrCat("data: ", status_json, "\n\n");
  if (format == StreamFormat::kSse)
    return absl::StrCat("event: error\ndata: ", status_json, "\n\n");
  return absl::StrCat(R"({"error":)", status_json, "}\n");
}

StreamRelay::StreamRelay(StreamFormat format, ToJson to_json, StatusJson status_json)
    : format_(format), to_json_(std::move(to_json)), status_json_(std::move(status_json)) {}

StreamHandlers StreamRelay::Handlers(std::function<void()> on_first,
                                     std::function<void(grpc::Status)> on_error,
                                     std::function<void(grpc::Status)> on_end) {
  on_first_ = std::move(on_first);
  on_error_ = std::move(on_error);
  on_end_ = std::move(on_end);
  auto self = shared_from_this();
  StreamHandlers h;
  h.on_message = [self](std::string message, std::function<void()> more) {
    self->OnMessage(std::move(message), std::move(more));
  };
  h.on_done = [self](grpc::Status status) { self->OnDone(std::move(status)); };
  return h;
}

void StreamRelay::SetCall(std::shared_ptr<StreamCall> call) {
  bool cancel;
  {
    std::lock_guard lock(mu_);
    // Kept only while the call runs: the call holds this relay (its handlers), so
    // keeping it after OnDone would keep both, and the HTTP connection, forever.
    if (!call_done_) call_ = call;
    cancel = cancelled_ || failed_.has_value();
  }
  if (cancel && call) call->Cancel();
}

void StreamRelay::OnMessage(std::string message, std::function<void()> more) {
  auto json = to_json_(message);
  if (!json.ok()) {
    // An undecodable message ends the stream: the call is cancelled and its
    // final status replaced by this one.
    std::shared_ptr<StreamCall> call;
    {
      std::lock_guard lock(mu_);
      failed_ = grpc::Status(grpc::StatusCode::INTERNAL, std::string(json.status().message()));
      call = call_;
    }
    if (call) call->Cancel();
    more();
    return;
  }
  std::string frame = FrameMessage(format_, *json);
  if (frame.empty()) return more();  // an empty chunk would end the HTTP body
  bool first = false, queued = false;
  {
    std::lock_guard lock(mu_);
    if (phase_ != Phase::kStarted) {
      queued = true;
      first = phase_ == Phase::kWaiting;
      phase_ = Phase::kPending;
      pending_.emplace_back(std::move(frame), std::move(more));
    }
  }
  if (first) return TakeOnFirst()();
  if (queued) return;  // sent by Start()
  Send(std::move(frame), std::move(more));
}

void StreamRelay::OnDone(grpc::Status status) {
  Phase phase;
  std::shared_ptr<StreamCall> call;  // released after the lock, on return
  {
    std::lock_guard lock(mu_);
    call_done_ = true;
    call = std::move(call_);
    if (failed_) status = *failed_;
    phase = phase_;
    if (phase == Phase::kWaiting && status.ok()) phase_ = Phase::kPending;
    if (phase != Phase::kStarted) ended_ = status;
  }
  if (phase == Phase::kWaiting) {
    if (status.ok()) return TakeOnFirst()();
    auto on_error = std::move(on_error_);
    on_first_ = nullptr;
    return on_error(status);
  }
  if (phase == Phase::kStarted) End(status);
}

std::function<void()> StreamRelay::TakeOnFirst() {
  // The callbacks hold the HTTP connection, which holds this relay: drop them once used.
  auto f = std::move(on_first_);
  on_error_ = nullptr;
  return f;
}

void StreamRelay::Start(std::shared_ptr<BodyWriter> writer) {
  std::deque<std::pair<std::string, std::function<void()>>> pending;
  std::optional<grpc::Status> ended;
  {
    std::lock_guard lock(mu_);
    writer_ = std::move(writer);
    phase_ = Phase::kStarted;
    pending.swap(pending_);
    ended = ended_;
  }
  for (auto& [frame, more] : pending) Send(std::move(frame), std::move(more));
  if (ended) End(*ended);
}

void StreamRelay::Cancel() {
  std::shared_ptr<StreamCall> call;
  {
    std::lock_guard lock(mu_);
    cancelled_ = true;
    call = call_;
  }
  if (call) call->Cancel();
}

void StreamRelay::Send(std::string frame, std::function<void()> more) {
  writer_->Write(std::move(frame), [self = shared_from_this(), more = std::move(more)](bool ok) {
    if (!ok) self->Cancel();
    more();
  });
}

void StreamRelay::End(const grpc::Status& status) {
  on_end_(status);
  bool cancelled;
  {
    std::lock_guard lock(mu_);
    cancelled = cancelled_;
  }
  if (!status.ok() && !cancelled) {
    writer_->Write(FrameError(format_, status_json_(status)), [](bool) {});
  } else if (status.ok() && !cancelled && format_ == StreamFormat::kOpenAi) {
    writer_->Write("data: [DONE]\n\n", [](bool) {});
  }
  writer_->Finish();
}

}  // namespace genesis::gateway
