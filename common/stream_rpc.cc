#include "common/stream_rpc.h"

#include "absl/strings/ascii.h"

namespace genesis {
namespace {

constexpr char kRequestIdHeader[] = "x-request-id";

// The same rule as RpcDispatcher: caller-chosen ids that are safe to log.
bool UsableRequestId(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.' &&
        c != ':') {
      return false;
    }
  }
  return true;
}

}  // namespace

// The names, help texts and labels are RpcDispatcher's, so the registry
// returns the families it registered (or registers them for both).
ServerStreamDispatcher::ServerStreamDispatcher(std::string service, WorkerPool* pool,
                                               MetricsRegistry* registry,
                                               absl::Duration max_deadline)
    : service_(std::move(service)),
      pool_(pool),
      log_(Logger("rpc")),
      max_deadline_(max_deadline),
      handled_(registry->AddCounter("genesis_grpc_server_handled_total",
                                    "RPCs completed on the server, by method and status code.",
                                    {"grpc_service", "grpc_method", "grpc_code"})),
      latency_(registry->AddHistogram("genesis_grpc_server_handling_seconds",
                                      "Time from receiving an RPC to finishing it, in seconds.",
                                      {"grpc_service", "grpc_method", "grpc_code"})) {}

CallContext ServerStreamDispatcher::BeginCall(grpc::CallbackServerContext* ctx,
                                              absl::Time start) const {
  CallContext call;
  const auto& md = ctx->client_metadata();
  if (auto it = md.find(kRequestIdHeader);
      it != md.end() && UsableRequestId(std::string_view(it->second.data(), it->second.size()))) {
    call.request_id.assign(it->second.data(), it->second.size());
  } else {
    call.request_id = NewRequestId();
  }
  ctx->AddInitialMetadata(kRequestIdHeader, call.request_id);
  call.deadline = std::min(absl::FromChrono(ctx->deadline()), start + max_deadline_);
  ReadForwardedIdentity(*ctx, gateway_secret_, &call);
  return call;
}

absl::Status ServerStreamDispatcher::RunWork(const std::string& method, const CallContext& call,
                                             absl::Time start,
                                             const std::function<absl::Status()>& work) {
  RequestIdScope scope(call.request_id);
  absl::Status status;
  if (call.Cancelled()) {
    status = absl::CancelledError("the call was cancelled before it was served");
  } else if (call.Expired()) {
    status = absl::DeadlineExceededError("the deadline passed before the call was served");
  } else {
    status = work();
  }
  const absl::Duration elapsed = absl::Now() - start;
  Record(method, status.code(), elapsed);
  const std::string code = absl::StatusCodeToString(status.code());
  if (status.code() == absl::StatusCode::kInternal || status.code() == absl::StatusCode::kUnknown ||
      status.code() == absl::StatusCode::kDataLoss) {
    log_->error("{}/{} (stream) {} in {:.3f} ms: {}", service_, method, code,
                absl::ToDoubleMilliseconds(elapsed), status.message());
  } else {
    log_->debug("{}/{} (stream) {} in {:.3f} ms", service_, method, code,
                absl::ToDoubleMilliseconds(elapsed));
  }
  return status;
}

absl::Status ServerStreamDispatcher::Refuse(const std::string& method, absl::Time start) {
  absl::Status busy =
      absl::ResourceExhaustedError("server overloaded: too many calls queued; retry with backoff");
  Record(method, busy.code(), absl::Now() - start);
  return busy;
}

void ServerStreamDispatcher::Record(const std::string& method, absl::StatusCode code,
                                    absl::Duration elapsed) {
  std::vector<std::string> labels{service_, method, absl::StatusCodeToString(code)};
  handled_.WithLabels(labels).Inc();
  latency_.WithLabels(labels).Observe(absl::ToDoubleSeconds(elapsed));
}

}  // namespace genesis
