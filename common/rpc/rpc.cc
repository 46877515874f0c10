#include "common/rpc/rpc.h"

#include "common/rpc/request_checks.h"
#include "common/runtime/logging.h"

namespace genesis {

RpcDispatcher::RpcDispatcher(std::string service, WorkerPool* pool, MetricsRegistry* registry,
                             absl::Duration max_deadline, IdentityTrust trust,
                             std::shared_ptr<AuditLog> audit)
    : pool_(pool),
      path_(std::move(service), registry, max_deadline, std::move(trust), std::move(audit)) {
  registry->AddCallbackGauge("genesis_worker_queue_depth", "Calls waiting for a worker thread.",
                             [pool] { return pool->queued(); });
  registry->AddCallbackGauge("genesis_worker_busy", "Worker threads running a call.",
                             [pool] { return pool->busy(); });
}

grpc::ServerUnaryReactor* RpcDispatcher::Unary(grpc::CallbackServerContext* ctx, const char* method,
                                               const google::protobuf::Message* request,
                                               Work work) {
  return Unary(ctx, method, request, Inline(), std::move(work));
}

grpc::ServerUnaryReactor* RpcDispatcher::Unary(grpc::CallbackServerContext* ctx, const char* method,
                                               const google::protobuf::Message* request,
                                               const Inline& inline_answer, Work work) {
  const absl::Time start = absl::Now();
  auto* reactor = ctx->DefaultReactor();
  CallContext call = path_.BeginCall(ctx, start);
  absl::Status admitted = path_.Admit(method, call);
  if (admitted.ok() && request != nullptr) admitted = CheckRequest(*request);
  if (!admitted.ok()) {
    reactor->Finish(path_.FinishCall(method, call, start, admitted, request));
    return reactor;
  }
  if (inline_answer) {
    std::optional<absl::Status> answered;
    {
      RequestIdScope scope(call.request_id);
      answered = inline_answer(call);
    }
    if (answered) {
      reactor->Finish(path_.FinishCall(method, call, start, *answered, request));
      return reactor;
    }
  }
  call.is_cancelled = [ctx] { return ctx->IsCancelled(); };
  auto task = [this, reactor, call, request, work = std::move(work), method = std::string(method),
               start] {
    absl::Status status = CallPath::RunWork(call, [&] { return work(call); });
    reactor->Finish(path_.FinishCall(method, call, start, status, request));
  };
  if (!pool_->TrySubmit(std::move(task))) {
    reactor->Finish(path_.FinishCall(method, call, start, CallPath::Overloaded(), request));
  }
  return reactor;
}

}  // namespace genesis
