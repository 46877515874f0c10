// Runs the work of unary callback RPCs on a WorkerPool, through the call path
// every RPC shares (call_path.h: request id, deadline cap, caller identity,
// metrics, outcome logging), and:
//   * work for calls that were cancelled or expired while queued is skipped;
//   * RESOURCE_EXHAUSTED at once when the pool's queue is full;
//   * an administrative method (access.proto) refused by CallPath::Admit()
//     before any work, and audited with its request;
//   * optionally, an answer found without waiting (an in-memory cache hit)
//     given at once on the gRPC thread that received the call, with no hop
//     to the pool and back.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include <google/protobuf/message.h>
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
  // Tried first, on the gRPC callback thread, after the call was admitted:
  // the call's status when it could answer (the response filled), nullopt
  // when `work` must run. It must never block (no I/O, no lock held across
  // I/O): it runs on gRPC's own threads, which serve every other call.
  using Inline = std::function<std::optional<absl::Status>(const CallContext&)>;

  // `service` is the full proto service name, used as a metric label;
  // `trust` says whose forwarded caller identity is read (call_path.h);
  // `audit` where administrative calls are recorded (null: the process log).
  // Pointers must outlive the dispatcher.
  RpcDispatcher(std::string service, WorkerPool* pool, MetricsRegistry* registry,
                absl::Duration max_deadline, IdentityTrust trust,
                std::shared_ptr<AuditLog> audit = nullptr);

  // Returns the reactor for a unary callback method. `request` is the call's
  // request (read for the audit log); `work` fills the response (captured by
  // the caller) and returns the call's status.
  grpc::ServerUnaryReactor* Unary(grpc::CallbackServerContext* ctx, const char* method,
                                  const google::protobuf::Message* request, Work work);
  // The same, with `inline_answer` tried first (above).
  grpc::ServerUnaryReactor* Unary(grpc::CallbackServerContext* ctx, const char* method,
                                  const google::protobuf::Message* request,
                                  const Inline& inline_answer, Work work);

 private:
  WorkerPool* pool_;
  CallPath path_;
};

}  // namespace genesis
