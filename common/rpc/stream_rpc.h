// Runs the work of server-streaming callback RPCs on a WorkerPool, through
// the call path every RPC shares (call_path.h: request id, deadline cap,
// caller identity, the same metric families as unary calls with the whole
// stream as the time counted, outcome logging), and, like RpcDispatcher:
//   * work for calls that were cancelled or expired while queued is skipped;
//   * RESOURCE_EXHAUSTED at once when the pool's queue is full.
// The work writes messages through a StreamWriter that blocks the worker
// thread until gRPC has taken the previous message (flow control: a slow
// reader slows the work down instead of piling messages up in memory) and
// reports when the client went away, so the work can stop.
#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include <grpcpp/grpcpp.h>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/base/metrics.h"
#include "common/base/status.h"
#include "common/rpc/call_context.h"
#include "common/rpc/call_path.h"
#include "common/rpc/request_checks.h"
#include "common/runtime/logging.h"
#include "common/runtime/worker_pool.h"

namespace genesis {

// What the work of a streaming call writes to. Used from the worker thread
// running the work only.
template <typename Resp>
class StreamWriter {
 public:
  virtual ~StreamWriter() = default;
  // Sends `message` and blocks until gRPC has taken it or the call ended
  // (cancelled by the client, or past its deadline: the call is then
  // cancelled). False when the message was not delivered: stop writing, the
  // status returned by the work is then only logged and counted.
  [[nodiscard]] virtual bool Write(const Resp& message) = 0;
};

class ServerStreamDispatcher {
 public:
  template <typename Resp>
  using Work = std::function<absl::Status(const CallContext&, StreamWriter<Resp>&)>;

  // `service` is the full proto service name, used as a metric label;
  // `trust` says whose forwarded caller identity is read (call_path.h).
  // Pointers must outlive the dispatcher.
  ServerStreamDispatcher(std::string service, WorkerPool* pool, MetricsRegistry* registry,
                         absl::Duration max_deadline, IdentityTrust trust);

  // Returns the reactor for a server-streaming callback method. `request` is
  // checked (request_checks.h) before any work; `work` reads it (captured by
  // the caller; valid until the call ends), writes messages and returns the
  // call's final status.
  template <typename Resp>
  grpc::ServerWriteReactor<Resp>* ServerStream(grpc::CallbackServerContext* ctx, const char* method,
                                               const google::protobuf::Message* request,
                                               Work<Resp> work);

 private:
  template <typename Resp>
  class Reactor;

  WorkerPool* pool_;
  CallPath path_;
};

// One streaming call. Owns itself: deleted by gRPC's OnDone, which comes
// only after Finish, which the worker calls as its very last use of it.
template <typename Resp>
class ServerStreamDispatcher::Reactor final : public grpc::ServerWriteReactor<Resp>,
                                              public StreamWriter<Resp> {
 public:
  explicit Reactor(grpc::CallbackServerContext* ctx) : ctx_(ctx) {}

  bool Write(const Resp& message) override {
    std::unique_lock lock(mu_);
    if (cancelled_ || !last_write_ok_) return false;
    pending_ = message;  // must stay put until OnWriteDone
    writing_ = true;
    lock.unlock();
    this->StartWrite(&pending_);
    lock.lock();
    // Every started write completes (with ok=false once the call is
    // cancelled); a reader stalled past the deadline is cancelled here.
    while (writing_) {
      if (cv_.wait_until(lock, absl::ToChronoTime(deadline_)) == std::cv_status::timeout &&
          writing_ && !cancel_requested_) {
        cancel_requested_ = true;
        ctx_->TryCancel();
      }
    }
    return last_write_ok_ && !cancelled_;
  }

  bool Cancelled() {
    std::lock_guard lock(mu_);
    return cancelled_;
  }
  void set_deadline(absl::Time deadline) { deadline_ = deadline; }

  void OnWriteDone(bool ok) override {
    std::lock_guard lock(mu_);
    writing_ = false;
    last_write_ok_ = ok;
    cv_.notify_all();
  }
  void OnCancel() override {
    std::lock_guard lock(mu_);
    cancelled_ = true;
    cv_.notify_all();
  }
  void OnDone() override { delete this; }

 private:
  grpc::CallbackServerContext* const ctx_;
  absl::Time deadline_ = absl::InfiniteFuture();
  std::mutex mu_;
  std::condition_variable cv_;
  Resp pending_;
  bool writing_ = false;
  bool last_write_ok_ = true;
  bool cancelled_ = false;
  bool cancel_requested_ = false;
};

template <typename Resp>
grpc::ServerWriteReactor<Resp>* ServerStreamDispatcher::ServerStream(
    grpc::CallbackServerContext* ctx, const char* method, const google::protobuf::Message* request,
    Work<Resp> work) {
  const absl::Time start = absl::Now();
  auto* reactor = new Reactor<Resp>(ctx);
  CallContext call = path_.BeginCall(ctx, start);
  if (absl::Status checked = request != nullptr ? CheckRequest(*request) : absl::OkStatus();
      !checked.ok()) {
    reactor->Finish(path_.FinishCall(method, call, start, checked));
    return reactor;
  }
  reactor->set_deadline(call.deadline);
  call.is_cancelled = [ctx, reactor] { return reactor->Cancelled() || ctx->IsCancelled(); };
  auto task = [this, reactor, call, work = std::move(work), method = std::string(method), start] {
    absl::Status status = CallPath::RunWork(call, [&] {
      absl::Status st = work(call, *reactor);
      if (st.ok() && reactor->Cancelled()) st = absl::CancelledError("the client went away");
      return st;
    });
    // The last use of the reactor: OnDone may follow at once.
    reactor->Finish(path_.FinishCall(method, call, start, status));
  };
  if (!pool_->TrySubmit(std::move(task))) {
    reactor->Finish(path_.FinishCall(method, call, start, CallPath::Overloaded()));
  }
  return reactor;
}

}  // namespace genesis
