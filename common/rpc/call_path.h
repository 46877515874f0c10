// The one call path every RPC of a service goes through, whatever its kind
// (unary: rpc.h, server-streaming: stream_rpc.h, bidirectional: bidi_rpc.h).
// Every call gets, from BeginCall:
//   * a request id: the caller's `x-request-id` when it is safe to log
//     (1..128 characters of [A-Za-z0-9-_.:]), else a new one; sent back as
//     initial metadata and set on every log line of the call's work;
//   * a deadline: the caller's, capped by the server's maximum;
//   * the caller identity forwarded by the gateway, read under the
//     service's IdentityTrust (below), else none; with mTLS also the peer's
//     certificate name, and an administrator certificate's identity;
// Admit() refuses a method marked `(genesis.api.v1.administrative)` in the
// protos (proto/genesis/api/v1/access.proto) to a caller without identity:
// UNAUTHENTICATED when anonymous, PERMISSION_DENIED for another service's
// certificate; every call of such a method, allowed or refused, is written
// to the audit log (audit_log.h) by FinishCall;
// and, from FinishCall, one outcome: the absl::Status converted once
// (ToGrpcStatus, errors in the service's domain, ErrorDomainOf), counted in
// genesis_grpc_server_handled_total and genesis_grpc_server_handling_seconds (labels grpc_service,
// grpc_method, grpc_code; the time is the whole call) and logged with the request id (INTERNAL,
// UNKNOWN and DATA_LOSS at error level with their message, the rest at debug).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/base/metrics.h"
#include "common/rpc/audit_log.h"
#include "common/rpc/call_context.h"
#include "common/rpc/tls.h"

namespace google::protobuf {
class Message;
}
namespace spdlog {
class logger;
}

namespace genesis {

// Who may forward a caller identity (`x-genesis-subject`, `x-genesis-roles`,
// comma-separated) to this service. Built once at start (ServiceConfig's
// `identity`) and given to every dispatcher.
struct IdentityTrust {
  // Without mTLS: the secret the gateway sends in `x-genesis-gateway-auth`
  // (compared in constant time); empty (the default) trusts no forwarded
  // identity. Not used with mTLS: the certificate proves the gateway.
  std::string gateway_secret;
  // With mTLS (client certificates required): the peers (certificate
  // subjectAltName or common name) whose forwarded identity is read, with no
  // secret; identity metadata from any other peer is ignored. nullopt: no
  // mTLS (the secret decides).
  std::optional<std::vector<std::string>> trusted_peers;
  // With mTLS: peers whose certificate alone identifies an administrator
  // (subject = the certificate name, role admin) when no identity is
  // forwarded.
  std::vector<std::string> admin_peers;

  // The trust of a service started with --gateway_secret and the --tls_*
  // flags: peers instead of the secret when `tls` requires client
  // certificates.
  static IdentityTrust For(std::string gateway_secret, const TlsConfig& tls);
};

// The identity in `metadata` when its x-genesis-gateway-auth matches `secret`
// (non-empty); false and nothing set otherwise. Exposed for tests.
bool ReadForwardedIdentity(const std::multimap<grpc::string_ref, grpc::string_ref>& metadata,
                           const std::string& secret, CallContext* call);
// Whether the call's authenticated peer is one of `peers` (false when the
// peer is not authenticated).
bool PeerIsOneOf(const grpc::ServerContextBase& ctx, const std::vector<std::string>& peers);
// The caller of `ctx` under `trust`. Without mTLS: ReadForwardedIdentity() of
// its metadata with the secret. With mTLS: `call->peer` is the certificate's
// name; the forwarded identity is read from a trusted peer (no secret), an
// admin peer without one is an administrator; false when no identity was set.
bool ReadForwardedIdentity(const grpc::ServerContextBase& ctx, const IdentityTrust& trust,
                           CallContext* call);

// What the dispatchers of one service share. Thread-safe after construction.
class CallPath {
 public:
  // `service` is the full proto service name (the grpc_service label). The
  // metric families are registered once per registry: every CallPath on the
  // same registry shares them. `registry` must outlive the path.
  // `audit` receives the records of administrative calls; null: the process
  // log (AuditLog()).
  CallPath(std::string service, MetricsRegistry* registry, absl::Duration max_deadline,
           IdentityTrust trust, std::shared_ptr<AuditLog> audit = nullptr);

  // At the start of a call, on the gRPC thread that received it (before any
  // write): request id (sent back as initial metadata), capped deadline,
  // identity. `start` is when the call arrived; `is_cancelled` is left to the
  // dispatcher.
  [[nodiscard]] CallContext BeginCall(grpc::CallbackServerContext* ctx, absl::Time start) const;

  // Whether `call` may run `method`: OK unless the method is administrative
  // and the call has no identity (UNAUTHENTICATED anonymous, PERMISSION_DENIED
  // from a service's certificate), with a message saying how to call it.
  [[nodiscard]] absl::Status Admit(const std::string& method, const CallContext& call) const;
  // Whether the protos mark `method` of this service administrative.
  [[nodiscard]] bool IsAdministrative(const std::string& method) const;

  // Runs `work` with the call's request id on every log line, unless the call
  // was cancelled or its deadline passed meanwhile (then CANCELLED or
  // DEADLINE_EXCEEDED, `work` not run).
  static absl::Status RunWork(const CallContext& call, const std::function<absl::Status()>& work);

  // At the end of a call: counts and logs `status` (with the call's request
  // id), writes the audit record of an administrative method (with the
  // `audit_fields` of `request`, when given) and returns `status` converted
  // for gRPC. Once per call.
  grpc::Status FinishCall(const std::string& method, const CallContext& call, absl::Time start,
                          const absl::Status& status,
                          const google::protobuf::Message* request = nullptr);

  // The status of a call the worker pool had no room for.
  static absl::Status Overloaded();

 private:
  const std::string service_;
  // The ErrorInfo domain of the service's errors ("catalog.genesis.dev").
  const std::string domain_;
  const absl::Duration max_deadline_;
  const IdentityTrust trust_;
  // Administrative methods of the service: name -> audit_fields.
  std::map<std::string, std::vector<std::string>> administrative_;
  std::shared_ptr<AuditLog> audit_;
  std::shared_ptr<spdlog::logger> log_;
  Family<Counter>& handled_;
  Family<Histogram>& latency_;
};

}  // namespace genesis
