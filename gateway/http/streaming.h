// Server-streaming RPCs over HTTP/1.1: each response message becomes a
// Server-Sent Event (`data: <json>\n\n`, when the client sends
// `Accept: text/event-stream`) or a line of newline-delimited JSON; a failure
// after the stream started arrives as a final error event
// (`event: error\ndata: <google.rpc.Status json>\n\n`) or line
// (`{"error": <google.rpc.Status json>}`).
//
// The pieces: a BodyWriter is the HTTP side of a chunked response (server.cc
// implements it); a StreamSource produces the body (StreamRelay, fed by a
// Backend stream). The HTTP server calls Start() once the headers are sent
// and Cancel() when the client goes away.
#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "gateway/routing/backend.h"

namespace genesis::gateway {

// kOpenAi: OpenAI's chat-completion stream. The converter (StreamRelay's
// ToJson) returns whole `data: ...\n\n` events itself (possibly several, or
// none); an error is `data: {"error": ...}\n\n`; a clean end adds `data: [DONE]\n\n`.
enum class StreamFormat { kSse, kNdjson, kOpenAi };

// kSse when `accept` lists text/event-stream, else kNdjson.
StreamFormat StreamFormatFromAccept(const std::string& accept);
// The Content-Type of a stream in `format`.
const char* StreamContentType(StreamFormat format);
// One message's frame; `json` is one JSON value (newlines are escaped in JSON);
// kOpenAi frames are already complete and pass unchanged.
std::string FrameMessage(StreamFormat format, const std::string& json);
// The final error frame; `status_json` is a google.rpc.Status as JSON.
std::string FrameError(StreamFormat format, const std::string& status_json);

// The HTTP side of a streamed body. Thread-safe.
class BodyWriter {
 public:
  virtual ~BodyWriter() = default;
  // Queues one chunk; `written(true)` runs (on any thread) once it is on the
  // wire, `written(false)` when the connection failed.
  virtual void Write(std::string chunk, std::function<void(bool)> written) = 0;
  // Ends the body (the last chunk). Nothing may be written after it.
  virtual void Finish() = 0;
};

// The producer of a streamed body. Thread-safe.
class StreamSource {
 public:
  virtual ~StreamSource() = default;
  // Called once, after the response headers were sent.
  virtual void Start(std::shared_ptr<BodyWriter> writer) = 0;
  // The client went away: stop producing (Finish() is still called).
  virtual void Cancel() = 0;
};

// Relays one backend stream to a BodyWriter with flow control (the next
// message is read once the previous one is on the wire). The first event
// decides the HTTP response: an error before any message is an ordinary
// error response (`on_error`), else `on_first` hands this source to the
// server and the messages, then the final status, follow as frames.
class StreamRelay : public StreamSource, public std::enable_shared_from_this<StreamRelay> {
 public:
  using ToJson = std::function<absl::StatusOr<std::string>(const std::string&)>;
  using StatusJson = std::function<std::string(const grpc::Status&)>;

  StreamRelay(StreamFormat format, ToJson to_json, StatusJson status_json);

  // The handlers to give to Backend::CallStream. `on_first` runs once when
  // the stream is established (first non-empty frame or clean end; a message
  // whose frame is empty is skipped), `on_error` once
  // when it failed before any message; exactly one of them runs. `on_end`
  // runs once with the final status after the stream was started.
  StreamHandlers Handlers(std::function<void()> on_first,
                          std::function<void(grpc::Status)> on_error,
                          std::function<void(grpc::Status)> on_end);
  // The backend call, to cancel when the client goes away.
  void SetCall(std::shared_ptr<StreamCall> call);

  void Start(std::shared_ptr<BodyWriter> writer) override;
  void Cancel() override;

 private:
  void OnMessage(std::string message, std::function<void()> more);
  void OnDone(grpc::Status status);
  std::function<void()> TakeOnFirst();
  void Send(std::string frame, std::function<void()> more);
  void End(const grpc::Status& status);  // the final error frame (if any) and Finish()

  const StreamFormat format_;
  const ToJson to_json_;
  const StatusJson status_json_;
  std::function<void()> on_first_;
  std::function<void(grpc::Status)> on_error_, on_end_;

  std::mutex mu_;
  enum class Phase { kWaiting, kPending, kStarted } phase_ = Phase::kWaiting;
  bool cancelled_ = false;              // by the client
  std::optional<grpc::Status> failed_;  // a message did not convert
  std::shared_ptr<BodyWriter> writer_;
  std::shared_ptr<StreamCall> call_;  // until OnDone
  bool call_done_ = false;
  // What arrived between on_first and Start(): frames and the final status.
  std::deque<std::pair<std::string, std::function<void()>>> pending_;
  std::optional<grpc::Status> ended_;
};

}  // namespace genesis::gateway
