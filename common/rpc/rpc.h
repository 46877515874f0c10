// Runs the work of unary callback RPCs on a WorkerPool, through the call path
// every RPC shares (call_path.h: request id, deadline cap, caller identity,
// metrics, outcome logging), and:
//   * work for calls that were cancelled or expired while queued is skipped;
//   * RESOURCE_EXHAUSTED at once when the pool's queue is full.
#pragma once

#include <functional>
#include <string>

#include <grpcpp/grpcpp.h>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/base/metrics.h"
#include "common/rpc/call_context.h"
#include "common/rpc/call_path.h"
#include "common/runtime/worker_pool.h"

namespace genesis {

class RpcDispatcher {
 public:
  using Work = std::function<absl::Status(const CallContext&)>;

  // `service` is the full proto service name, used as a metric label;
  // `trust` says whose forwarded caller identity is read (call_path.h).
  // Pointers must outlive the dispatcher.
  RpcDispatcher(std::string service, WorkerPool* pool, MetricsRegistry* registry,
                absl::Duration max_deadline, IdentityTrust trust);

  // Returns the reactor for a unary callback method. `work` fills the
  // response (captured by the caller) and returns the call's status.
  grpc::ServerUnaryReactor* Unary(grpc::CallbackServerContext* ctx, const char* method, Work work);

 private:
  WorkerPool* pool_;
  CallPath path_;
};

}  // namespace genesis
