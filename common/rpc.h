// Runs the work of unary callback RPCs on a WorkerPool, with the same
// treatment for every method of every service:
//   * request id from the `x-request-id` metadata (or a new one), sent back
//     as initial metadata and set on every log line of the call;
//   * the call's deadline (capped by a server default) passed to the work;
//   * work for calls that were cancelled or expired while queued is skipped;
//   * RESOURCE_EXHAUSTED at once when the pool's queue is full;
//   * absl::Status converted once (ToGrpcStatus) and counted in
//     genesis_grpc_server_handled_total / genesis_grpc_server_handling_seconds;
//   * the caller identity forwarded by the gateway (`x-genesis-subject`,
//     `x-genesis-roles`, comma-separated) goes into CallContext only when
//     `x-genesis-gateway-auth` equals the configured gateway secret (compared
//     in constant time); otherwise, or with no secret configured, those
//     headers are ignored and the identity stays empty.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/call_context.h"
#include "common/logging.h"
#include "common/metrics.h"
#include "common/worker_pool.h"

namespace genesis {

class RpcDispatcher {
 public:
  using Work = std::function<absl::Status(const CallContext&)>;

  // `service` is the full proto service name, used as a metric label.
  // Pointers must outlive the dispatcher.
  RpcDispatcher(std::string service, WorkerPool* pool, MetricsRegistry* registry,
                absl::Duration max_deadline);

  // Returns the reactor for a unary callback method. `work` fills the
  // response (captured by the caller) and returns the call's status.
  grpc::ServerUnaryReactor* Unary(grpc::CallbackServerContext* ctx, const char* method, Work work);

  // The secret the gateway sends; empty trusts no forwarded identity. New
  // dispatchers start with the process default (SetTrustedGatewaySecret).
  void set_gateway_secret(std::string secret) { gateway_secret_ = std::move(secret); }

 private:
  void Record(const std::string& method, absl::StatusCode code, absl::Duration elapsed);

  const std::string service_;
  WorkerPool* pool_;
  std::shared_ptr<spdlog::logger> log_;
  const absl::Duration max_deadline_;
  Family<Counter>& handled_;
  Family<Histogram>& latency_;
  std::string gateway_secret_;
};

// The process-wide default of RpcDispatcher::set_gateway_secret, set by
// ServiceConfigFromFlags from --gateway_secret (GENESIS_GATEWAY_SECRET).
void SetTrustedGatewaySecret(std::string secret);

// The identity in `metadata` when its x-genesis-gateway-auth matches `secret`
// (non-empty); false and nothing set otherwise. Exposed for tests.
bool ReadForwardedIdentity(const std::multimap<grpc::string_ref, grpc::string_ref>& metadata,
                           const std::string& secret, CallContext* call);

// With mTLS (client certificates required), the peers whose certificate (a
// subjectAltName or the common name) may forward identities: set by
// ServiceConfigFromFlags from --tls_trusted_peers (default "gateway") when
// mTLS is on (an empty list trusts no peer); nullopt (TLS off or without
// client certificates, the default): no peer check.
void SetTrustedIdentityPeers(std::optional<std::vector<std::string>> peers);
// Whether the call's authenticated peer is one of `peers` (false when the
// peer is not authenticated).
bool PeerIsOneOf(const grpc::ServerContextBase& ctx, const std::vector<std::string>& peers);
// What every server reads the caller with: ReadForwardedIdentity() of the
// call's metadata, and, when trusted identity peers are set, only from one of
// them (identity metadata from any other peer is ignored, secret or not).
bool ReadForwardedIdentity(const grpc::ServerContextBase& ctx, const std::string& secret,
                           CallContext* call);

}  // namespace genesis
