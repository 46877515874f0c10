// Bidirectional-streaming callback RPCs through the call path every RPC
// shares (call_path.h: request id, deadline cap, caller identity, the same
// metric families with the whole stream as the time counted, outcome
// logging). A method's reactor derives from BidiCall and only handles
// messages; BidiCall runs each one on the WorkerPool, one at a time (the next
// read starts when the previous message was handled: flow control), with the
// request id on every log line, and:
//   * a message that arrives after the client went away or past the call's
//     deadline is not handled (CANCELLED, DEADLINE_EXCEEDED);
//   * the (capped) deadline ends the call with DEADLINE_EXCEEDED even while it
//     waits for the client, so an idle client cannot hold the call forever;
//   * RESOURCE_EXHAUSTED when the pool's queue is full.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include <grpcpp/alarm.h>
#include <grpcpp/grpcpp.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/base/metrics.h"
#include "common/base/status.h"
#include "common/rpc/call_context.h"
#include "common/rpc/call_path.h"
#include "common/rpc/request_checks.h"
#include "common/runtime/worker_pool.h"

namespace genesis {

class BidiDispatcher;

// One bidirectional call; owns itself (deleted once gRPC is done with it and
// no work or timer of it is pending).
template <typename Req, typename Resp>
class BidiCall : public grpc::ServerBidiReactor<Req, Resp> {
 protected:
  BidiCall() = default;

  // What the work may know of the call (set before the first message).
  [[nodiscard]] const CallContext& call() const { return call_; }

  // One message from the client, on a worker thread. OK: the next message is
  // read; an error ends the call with it.
  virtual absl::Status OnMessage(const Req& request) = 0;
  // The client sent its last message (half-close), on a worker thread: the
  // final message, sent with OK, or the error to end the call with.
  virtual absl::StatusOr<Resp> OnClientDone() = 0;
  // The call ends (any outcome), before its status is sent: release what the
  // call holds. Runs under the call's lock: it must not call WriteIfIdle.
  virtual void OnEnd() {}

  // Sends `message` unless a write is still in flight or the call ended
  // (false: not sent). For progress messages a newer one supersedes.
  bool WriteIfIdle(const Resp& message) {
    std::lock_guard lock(mu_);
    if (finished_ || writing_ || cancelled_) return false;
    out_ = message;
    writing_ = true;
    this->StartWrite(&out_);
    return true;
  }

 private:
  friend class BidiDispatcher;

  void Begin(grpc::CallbackServerContext* ctx, BidiDispatcher* dispatcher, std::string method);
  void OnReadDone(bool ok) final;
  void OnWriteDone(bool ok) final;
  void OnCancel() final { cancelled_ = true; }
  void OnDone() final {
    alarm_.Cancel();
    Unref();
  }
  // Handles the message just read (`got_message`) or the half-close.
  void Run(bool got_message);
  void OnDeadline();
  // Under mu_, once: counts and logs `status`, then finishes with it (after
  // the write in flight, and after writing `last` when given).
  void EndLocked(const absl::Status& status, std::optional<Resp> last = std::nullopt);
  void Unref() {
    if (refs_.fetch_sub(1) == 1) delete this;
  }

  grpc::CallbackServerContext* ctx_ = nullptr;
  BidiDispatcher* dispatcher_ = nullptr;
  std::string method_;
  absl::Time start_;
  CallContext call_;
  Req request_;  // touched by the worker only while no read is in flight
  grpc::Alarm alarm_;
  // gRPC (until OnDone), the deadline alarm (until it fires or is cancelled),
  // and the worker task while one is queued or running.
  std::atomic<int> refs_{2};
  std::atomic<bool> cancelled_{false};
  std::mutex mu_;
  bool busy_ = false;  // a worker task is queued or running
  bool writing_ = false;
  bool finished_ = false;
  bool deadline_passed_ = false;
  std::optional<grpc::Status> pending_status_;  // to finish with once writing_ ends
  std::optional<Resp> pending_last_;
  Resp out_;  // the message being written
};

class BidiDispatcher {
 public:
  // `service` is the full proto service name, used as a metric label;
  // `trust` says whose forwarded caller identity is read (call_path.h).
  // Pointers must outlive the dispatcher.
  BidiDispatcher(std::string service, WorkerPool* pool, MetricsRegistry* registry,
                 absl::Duration max_deadline, IdentityTrust trust)
      : pool_(pool), path_(std::move(service), registry, max_deadline, std::move(trust)) {}

  // Starts `reactor` (a BidiCall) as the call `ctx` of `method` and returns
  // it to gRPC, which owns it from then on.
  template <typename Reactor>
  Reactor* Bidi(grpc::CallbackServerContext* ctx, const char* method,
                std::unique_ptr<Reactor> reactor) {
    Reactor* r = reactor.release();
    r->Begin(ctx, this, method);
    return r;
  }

 private:
  template <typename, typename>
  friend class BidiCall;

  WorkerPool* pool_;
  CallPath path_;
};

template <typename Req, typename Resp>
void BidiCall<Req, Resp>::Begin(grpc::CallbackServerContext* ctx, BidiDispatcher* dispatcher,
                                std::string method) {
  ctx_ = ctx;
  dispatcher_ = dispatcher;
  method_ = std::move(method);
  start_ = absl::Now();
  call_ = dispatcher_->path_.BeginCall(ctx, start_);
  call_.is_cancelled = [this] { return cancelled_ || ctx_->IsCancelled(); };
  std::lock_guard lock(mu_);  // the alarm may fire at once: it waits for the first read
  alarm_.Set(absl::ToChronoTime(call_.deadline), [this](bool fired) {
    if (fired) OnDeadline();
    Unref();
  });
  this->StartRead(&request_);
}

template <typename Req, typename Resp>
void BidiCall<Req, Resp>::OnReadDone(bool ok) {
  {
    std::lock_guard lock(mu_);
    if (finished_) return;
    busy_ = true;
  }
  refs_.fetch_add(1);
  if (dispatcher_->pool_->TrySubmit([this, ok] { Run(ok); })) return;
  {
    std::lock_guard lock(mu_);
    busy_ = false;
    if (!finished_) EndLocked(CallPath::Overloaded());
  }
  Unref();
}

template <typename Req, typename Resp>
void BidiCall<Req, Resp>::Run(bool got_message) {
  std::optional<Resp> last;
  absl::Status status = CallPath::RunWork(call_, [&]() -> absl::Status {
    if (got_message) {
      GENESIS_RETURN_IF_ERROR(CheckRequest(request_));  // request_checks.h, for every message
      return OnMessage(request_);
    }
    absl::StatusOr<Resp> final_message = OnClientDone();
    if (!final_message.ok()) return final_message.status();
    last = *std::move(final_message);
    return absl::OkStatus();
  });
  {
    std::lock_guard lock(mu_);
    busy_ = false;
    if (!finished_) {
      if (status.ok() && got_message && (deadline_passed_ || call_.Expired())) {
        status = absl::DeadlineExceededError("the call passed its deadline");
      } else if (status.ok() && got_message && cancelled_) {
        status = absl::CancelledError("the client went away");
      }
      if (!status.ok() || !got_message) {
        EndLocked(status, std::move(last));
      } else {
        request_.Clear();
        this->StartRead(&request_);
      }
    }
  }
  Unref();
}

template <typename Req, typename Resp>
void BidiCall<Req, Resp>::OnDeadline() {
  std::lock_guard lock(mu_);
  deadline_passed_ = true;
  // A running task ends the call itself when it finishes.
  if (finished_ || busy_) return;
  EndLocked(absl::DeadlineExceededError("the call passed its deadline"));
}

template <typename Req, typename Resp>
void BidiCall<Req, Resp>::OnWriteDone(bool) {
  std::lock_guard lock(mu_);
  writing_ = false;
  if (!pending_status_) return;
  if (pending_last_) {
    out_ = *std::move(pending_last_);
    this->StartWriteAndFinish(&out_, grpc::WriteOptions(), *pending_status_);
  } else {
    this->Finish(*pending_status_);
  }
  pending_status_.reset();
}

template <typename Req, typename Resp>
void BidiCall<Req, Resp>::EndLocked(const absl::Status& status, std::optional<Resp> last) {
  finished_ = true;
  OnEnd();
  grpc::Status result = dispatcher_->path_.FinishCall(method_, call_, start_, status);
  if (writing_) {
    pending_status_ = std::move(result);
    pending_last_ = std::move(last);
  } else if (last) {
    out_ = *std::move(last);
    this->StartWriteAndFinish(&out_, grpc::WriteOptions(), std::move(result));
  } else {
    this->Finish(std::move(result));
  }
}

}  // namespace genesis
