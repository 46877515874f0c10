#include "common/rpc.h"

#include <algorithm>
#include <memory>
#include <mutex>

#include "absl/strings/ascii.h"
#include "absl/strings/str_split.h"
#include "common/logging.h"
#include "common/status.h"

namespace genesis {
namespace {

constexpr char kRequestIdHeader[] = "x-request-id";

// Accepts caller-chosen ids that are safe to log; anything else is replaced.
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

std::string CodeName(absl::StatusCode code) { return absl::StatusCodeToString(code); }

std::mutex default_secret_mu;
std::string& DefaultGatewaySecret() {
  static auto* secret = new std::string();
  return *secret;
}

}  // namespace

void SetTrustedGatewaySecret(std::string secret) {
  std::lock_guard lock(default_secret_mu);
  DefaultGatewaySecret() = std::move(secret);
}

bool ReadForwardedIdentity(const std::multimap<grpc::string_ref, grpc::string_ref>& md,
                           const std::string& secret, CallContext* call) {
  auto auth = md.find("x-genesis-gateway-auth");
  if (secret.empty() || auth == md.end() || auth->second.size() != secret.size()) return false;
  unsigned char diff = 0;  // constant time in the secret's content
  for (size_t i = 0; i < secret.size(); ++i) diff |= auth->second.data()[i] ^ secret[i];
  if (diff != 0) return false;
  if (auto it = md.find("x-genesis-subject"); it != md.end()) {
    call->subject.assign(it->second.data(), it->second.size());
  }
  if (auto it = md.find("x-genesis-roles"); it != md.end()) {
    call->roles = absl::StrSplit(absl::string_view(it->second.data(), it->second.size()), ',',
                                 absl::SkipWhitespace());
  }
  return true;
}

namespace {
std::mutex trusted_peers_mu;
std::shared_ptr<const std::vector<std::string>>& TrustedPeers() {
  static auto* peers = new std::shared_ptr<const std::vector<std::string>>();
  return *peers;
}
}  // namespace

void SetTrustedIdentityPeers(std::optional<std::vector<std::string>> peers) {
  std::lock_guard lock(trusted_peers_mu);
  TrustedPeers() =
      peers ? std::make_shared<const std::vector<std::string>>(*std::move(peers)) : nullptr;
}

bool PeerIsOneOf(const grpc::ServerContextBase& ctx, const std::vector<std::string>& peers) {
  auto auth = ctx.auth_context();
  if (!auth || !auth->IsPeerAuthenticated()) return false;
  for (const char* property : {"x509_subject_alternative_name", "x509_common_name"}) {
    for (const grpc::string_ref& value : auth->FindPropertyValues(property)) {
      for (const auto& peer : peers) {
        if (value.size() == peer.size() && std::equal(peer.begin(), peer.end(), value.data())) {
          return true;
        }
      }
    }
  }
  return false;
}

bool ReadForwardedIdentity(const grpc::ServerContextBase& ctx, const std::string& secret,
                           CallContext* call) {
  std::shared_ptr<const std::vector<std::string>> peers;
  {
    std::lock_guard lock(trusted_peers_mu);
    peers = TrustedPeers();
  }
  const auto& md = ctx.client_metadata();
  if (peers != nullptr &&
      md.count("x-genesis-gateway-auth") + md.count("x-genesis-subject") +
              md.count("x-genesis-roles") >
          0 &&
      !PeerIsOneOf(ctx, *peers)) {
    return false;
  }
  return ReadForwardedIdentity(md, secret, call);
}

RpcDispatcher::RpcDispatcher(std::string service, WorkerPool* pool, MetricsRegistry* registry,
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
                                      {"grpc_service", "grpc_method", "grpc_code"})) {
  {
    std::lock_guard lock(default_secret_mu);
    gateway_secret_ = DefaultGatewaySecret();
  }
  registry->AddCallbackGauge("genesis_worker_queue_depth", "Calls waiting for a worker thread.",
                             [pool] { return pool->queued(); });
  registry->AddCallbackGauge("genesis_worker_busy", "Worker threads running a call.",
                             [pool] { return pool->busy(); });
}

void RpcDispatcher::Record(const std::string& method, absl::StatusCode code,
                           absl::Duration elapsed) {
  std::vector<std::string> labels{service_, method, CodeName(code)};
  handled_.WithLabels(labels).Inc();
  latency_.WithLabels(labels).Observe(absl::ToDoubleSeconds(elapsed));
}

grpc::ServerUnaryReactor* RpcDispatcher::Unary(grpc::CallbackServerContext* ctx, const char* method,
                                               Work work) {
  const absl::Time start = absl::Now();
  auto* reactor = ctx->DefaultReactor();

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
  call.is_cancelled = [ctx] { return ctx->IsCancelled(); };
  ReadForwardedIdentity(*ctx, gateway_secret_, &call);

  std::string method_name(method);
  auto task = [this, reactor, call = std::move(call), work = std::move(work), method_name,
               start]() mutable {
    RequestIdScope scope(call.request_id);
    absl::Status status;
    if (call.Cancelled()) {
      status = absl::CancelledError("the call was cancelled before it was served");
    } else if (call.Expired()) {
      status = absl::DeadlineExceededError("the deadline passed before the call was served");
    } else {
      status = work(call);
    }
    const absl::Duration elapsed = absl::Now() - start;
    Record(method_name, status.code(), elapsed);
    if (status.code() == absl::StatusCode::kInternal ||
        status.code() == absl::StatusCode::kUnknown ||
        status.code() == absl::StatusCode::kDataLoss) {
      log_->error("{}/{} {} in {:.3f} ms: {}", service_, method_name, CodeName(status.code()),
                  absl::ToDoubleMilliseconds(elapsed), status.message());
    } else {
      log_->debug("{}/{} {} in {:.3f} ms", service_, method_name, CodeName(status.code()),
                  absl::ToDoubleMilliseconds(elapsed));
    }
    reactor->Finish(ToGrpcStatus(status));
  };
  if (!pool_->TrySubmit(std::move(task))) {
    absl::Status busy = absl::ResourceExhaustedError(
        "server overloaded: too many calls queued; retry with backoff");
    Record(method_name, busy.code(), absl::Now() - start);
    reactor->Finish(ToGrpcStatus(busy));
  }
  return reactor;
}

}  // namespace genesis
