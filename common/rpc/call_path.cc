#include "common/rpc/call_path.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_split.h"
#include "common/base/status.h"
#include "common/runtime/logging.h"

namespace genesis {
namespace {

constexpr char kRequestIdHeader[] = "x-request-id";

// Caller-chosen ids that are safe to log; anything else is replaced.
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

IdentityTrust IdentityTrust::For(std::string gateway_secret, const TlsConfig& tls) {
  IdentityTrust trust;
  trust.gateway_secret = std::move(gateway_secret);
  if (tls.enabled() && tls.require_client_cert) trust.trusted_peers = tls.trusted_peers;
  return trust;
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

bool ReadForwardedIdentity(const grpc::ServerContextBase& ctx, const IdentityTrust& trust,
                           CallContext* call) {
  const auto& md = ctx.client_metadata();
  if (trust.trusted_peers.has_value() &&
      md.count("x-genesis-gateway-auth") + md.count("x-genesis-subject") +
              md.count("x-genesis-roles") >
          0 &&
      !PeerIsOneOf(ctx, *trust.trusted_peers)) {
    return false;
  }
  return ReadForwardedIdentity(md, trust.gateway_secret, call);
}

CallPath::CallPath(std::string service, MetricsRegistry* registry, absl::Duration max_deadline,
                   IdentityTrust trust)
    : service_(std::move(service)),
      max_deadline_(max_deadline),
      trust_(std::move(trust)),
      log_(Logger("rpc")),
      handled_(registry->AddCounter("genesis_grpc_server_handled_total",
                                    "RPCs completed on the server, by method and status code.",
                                    {"grpc_service", "grpc_method", "grpc_code"})),
      latency_(registry->AddHistogram("genesis_grpc_server_handling_seconds",
                                      "Time from receiving an RPC to finishing it, in seconds.",
                                      {"grpc_service", "grpc_method", "grpc_code"})) {}

CallContext CallPath::BeginCall(grpc::CallbackServerContext* ctx, absl::Time start) const {
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
  ReadForwardedIdentity(*ctx, trust_, &call);
  return call;
}

absl::Status CallPath::RunWork(const CallContext& call, const std::function<absl::Status()>& work) {
  RequestIdScope scope(call.request_id);
  if (call.Cancelled()) return absl::CancelledError("the call was cancelled before it was served");
  if (call.Expired()) {
    return absl::DeadlineExceededError("the deadline passed before the call was served");
  }
  return work();
}

grpc::Status CallPath::FinishCall(const std::string& method, const CallContext& call,
                                  absl::Time start, const absl::Status& status) {
  RequestIdScope scope(call.request_id);
  const absl::Duration elapsed = absl::Now() - start;
  const std::string code = absl::StatusCodeToString(status.code());
  std::vector<std::string> labels{service_, method, code};
  handled_.WithLabels(labels).Inc();
  latency_.WithLabels(labels).Observe(absl::ToDoubleSeconds(elapsed));
  if (status.code() == absl::StatusCode::kInternal || status.code() == absl::StatusCode::kUnknown ||
      status.code() == absl::StatusCode::kDataLoss) {
    log_->error("{}/{} {} in {:.3f} ms: {}", service_, method, code,
                absl::ToDoubleMilliseconds(elapsed), status.message());
  } else {
    log_->debug("{}/{} {} in {:.3f} ms", service_, method, code,
                absl::ToDoubleMilliseconds(elapsed));
  }
  return ToGrpcStatus(status);
}

absl::Status CallPath::Overloaded() {
  return absl::ResourceExhaustedError(
      "server overloaded: too many calls queued; retry with backoff");
}

}  // namespace genesis
