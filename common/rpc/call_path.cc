#include "common/rpc/call_path.h"

#include <algorithm>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/field_mask.pb.h>
#include <google/protobuf/message.h>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/base/reasons.h"
#include "common/base/status.h"
#include "common/runtime/logging.h"
#include "genesis/api/v1/access.pb.h"

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
  if (tls.enabled() && tls.require_client_cert) {
    trust.trusted_peers = tls.trusted_peers;
    trust.admin_peers = tls.admin_peers;
  } else {
    trust.gateway_secret = std::move(gateway_secret);
  }
  return trust;
}

namespace {

bool ReadIdentityMetadata(const std::multimap<grpc::string_ref, grpc::string_ref>& md,
                          CallContext* call) {
  if (auto it = md.find("x-genesis-subject"); it != md.end()) {
    call->subject.assign(it->second.data(), it->second.size());
  }
  if (auto it = md.find("x-genesis-roles"); it != md.end()) {
    call->roles = absl::StrSplit(absl::string_view(it->second.data(), it->second.size()), ',',
                                 absl::SkipWhitespace());
  }
  return call->HasIdentity();
}

// The name a verified client certificate is known by: its common name, else
// its first subjectAltName; empty when the peer is not authenticated.
std::string AuthenticatedPeerName(const grpc::ServerContextBase& ctx) {
  auto auth = ctx.auth_context();
  if (!auth || !auth->IsPeerAuthenticated()) return "";
  for (const char* property : {"x509_common_name", "x509_subject_alternative_name"}) {
    for (const grpc::string_ref& value : auth->FindPropertyValues(property)) {
      if (value.size() > 0) return std::string(value.data(), value.size());
    }
  }
  return "";
}

}  // namespace

bool ReadForwardedIdentity(const std::multimap<grpc::string_ref, grpc::string_ref>& md,
                           const std::string& secret, CallContext* call) {
  auto auth = md.find("x-genesis-gateway-auth");
  if (secret.empty() || auth == md.end() || auth->second.size() != secret.size()) return false;
  unsigned char diff = 0;  // constant time in the secret's content
  for (size_t i = 0; i < secret.size(); ++i) diff |= auth->second.data()[i] ^ secret[i];
  if (diff != 0) return false;
  ReadIdentityMetadata(md, call);
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
  if (!trust.trusted_peers.has_value())
    return ReadForwardedIdentity(md, trust.gateway_secret, call);
  call->peer = AuthenticatedPeerName(ctx);
  if (call->peer.empty()) return false;
  if (PeerIsOneOf(ctx, *trust.trusted_peers) && ReadIdentityMetadata(md, call)) return true;
  if (PeerIsOneOf(ctx, trust.admin_peers)) {
    call->subject = call->peer;
    call->roles = {"admin"};
    return true;
  }
  return false;
}

namespace {

// The value of the dotted `path` in `message`, for the audit log: strings as
// they are, enums by name, numbers in decimal, a FieldMask as its paths
// joined with ','; "" when unset or not a scalar.
std::string AuditFieldValue(const google::protobuf::Message& message, const std::string& path) {
  const google::protobuf::Message* m = &message;
  std::vector<std::string> parts = absl::StrSplit(path, '.');
  for (size_t i = 0; i < parts.size(); ++i) {
    const auto* field = m->GetDescriptor()->FindFieldByName(parts[i]);
    if (field == nullptr || field->is_repeated()) return "";
    const auto* r = m->GetReflection();
    using F = google::protobuf::FieldDescriptor;
    if (field->cpp_type() == F::CPPTYPE_MESSAGE) {
      if (!r->HasField(*m, field)) return "";
      m = &r->GetMessage(*m, field);
      if (i + 1 == parts.size()) {
        if (const auto* mask = dynamic_cast<const google::protobuf::FieldMask*>(m)) {
          return absl::StrJoin(mask->paths(), ",");
        }
        return "";
      }
      continue;
    }
    if (i + 1 != parts.size()) return "";
    switch (field->cpp_type()) {
      case F::CPPTYPE_STRING:
        return r->GetString(*m, field);
      case F::CPPTYPE_ENUM:
        return r->GetEnum(*m, field)->name();
      case F::CPPTYPE_BOOL:
        return r->GetBool(*m, field) ? "true" : "false";
      case F::CPPTYPE_INT32:
        return std::to_string(r->GetInt32(*m, field));
      case F::CPPTYPE_INT64:
        return std::to_string(r->GetInt64(*m, field));
      case F::CPPTYPE_UINT32:
        return std::to_string(r->GetUInt32(*m, field));
      case F::CPPTYPE_UINT64:
        return std::to_string(r->GetUInt64(*m, field));
      case F::CPPTYPE_DOUBLE:
        return absl::StrCat(r->GetDouble(*m, field));
      case F::CPPTYPE_FLOAT:
        return absl::StrCat(r->GetFloat(*m, field));
      default:
        return "";
    }
  }
  return "";
}

}  // namespace

CallPath::CallPath(std::string service, MetricsRegistry* registry, absl::Duration max_deadline,
                   IdentityTrust trust, std::shared_ptr<AuditLog> audit)
    : service_(std::move(service)),
      domain_(ErrorDomainOf(service_)),
      max_deadline_(max_deadline),
      trust_(std::move(trust)),
      audit_(audit ? std::move(audit) : std::make_shared<AuditLog>()),
      log_(Logger("rpc")),
      handled_(registry->AddCounter("genesis_grpc_server_handled_total",
                                    "RPCs completed on the server, by method and status code.",
                                    {"grpc_service", "grpc_method", "grpc_code"})),
      latency_(registry->AddHistogram("genesis_grpc_server_handling_seconds",
                                      "Time from receiving an RPC to finishing it, in seconds.",
                                      {"grpc_service", "grpc_method", "grpc_code"})) {
  const auto* descriptor =
      google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(service_);
  if (descriptor == nullptr) return;  // a test service without a proto
  for (int i = 0; i < descriptor->method_count(); ++i) {
    const auto* method = descriptor->method(i);
    if (!method->options().HasExtension(api::v1::administrative)) continue;
    const auto& admin = method->options().GetExtension(api::v1::administrative);
    administrative_[method->name()] = {admin.audit_fields().begin(), admin.audit_fields().end()};
  }
}

bool CallPath::IsAdministrative(const std::string& method) const {
  return administrative_.count(method) > 0;
}

absl::Status CallPath::Admit(const std::string& method, const CallContext& call) const {
  if (!IsAdministrative(method) || call.HasIdentity()) return absl::OkStatus();
  if (!call.peer.empty()) {
    return absl::PermissionDeniedError(
        method +
        " is administrative: it needs a person's or operator's identity, forwarded by "
        "the gateway or from an administrator certificate (--tls_admin_peers); the "
        "certificate '" +
        call.peer + "' is not one");
  }
  return absl::UnauthenticatedError(
      method +
      " is administrative: call it through the gateway with a token, or over mutual "
      "TLS with an administrator certificate");
}

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
                                  absl::Time start, const absl::Status& status,
                                  const google::protobuf::Message* request) {
  RequestIdScope scope(call.request_id);
  if (auto admin = administrative_.find(method); admin != administrative_.end()) {
    AuditRecord record{absl::Now(),
                       service_,
                       method,
                       call.request_id,
                       call.subject,
                       call.roles,
                       call.peer,
                       absl::StatusCodeToString(status.code()),
                       {}};
    if (request != nullptr) {
      for (const auto& field : admin->second) {
        record.fields.emplace_back(field, AuditFieldValue(*request, field));
      }
    }
    audit_->Write(record);
  }
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
  return ToGrpcStatus(status, domain_);
}

absl::Status CallPath::Overloaded() {
  return WithReason(
      absl::ResourceExhaustedError("server overloaded: too many calls queued; retry with backoff"),
      reasons::kServerOverloaded);
}

}  // namespace genesis
