// The gRPC backends the gateway forwards to, behind a small interface so the
// gateway logic is tested with a fake.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <grpcpp/channel.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/status.h>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace genesis::gateway {

using Metadata = std::vector<std::pair<std::string, std::string>>;

// A running server-streaming call (Backend::CallStream).
class StreamCall {
 public:
  virtual ~StreamCall() = default;
  // Ends the call early; on_done follows (CANCELLED unless it had ended). Idempotent.
  virtual void Cancel() = 0;
};

// What a server-streaming call reports.
struct StreamHandlers {
  // Each response message, serialized. The next one is read only after
  // `more()` ran; it must run exactly once per message (also after Cancel()).
  std::function<void(std::string message, std::function<void()> more)> on_message;
  // Exactly once, after the last on_message's `more()`, with the final status.
  std::function<void(grpc::Status)> on_done;
};

// One backend (a set of services behind one address). Thread-safe.
class Backend {
 public:
  virtual ~Backend() = default;
  // A unary call of `grpc_path` ("/pkg.Service/Method") with a serialized
  // request. `done` runs exactly once, on any thread, with the status and the
  // serialized response.
  virtual void Call(const std::string& grpc_path, std::string request, absl::Time deadline,
                    const Metadata& metadata,
                    std::function<void(grpc::Status, std::string)> done) = 0;
  // Call() for a call that is idempotent (`idempotent`: a GET route, or a
  // request with a non-empty `request_id`, see common/rpc/mesh_channel.h):
  // such a call may be retried on another address after UNAVAILABLE
  // (GrpcBackend, RoundRobinBackend); any other call never is. The default
  // ignores the flag.
  virtual void CallIdempotent(const std::string& grpc_path, std::string request,
                              absl::Time deadline, const Metadata& metadata, bool idempotent,
                              std::function<void(grpc::Status, std::string)> done) {
    (void)idempotent;
    Call(grpc_path, std::move(request), deadline, metadata, std::move(done));
  }
  // A server-streaming call: one request, the responses through `handlers`.
  // The default answers UNIMPLEMENTED. The handle may be null after on_done ran.
  virtual std::shared_ptr<StreamCall> CallStream(const std::string& grpc_path, std::string request,
                                                 absl::Time deadline, const Metadata& metadata,
                                                 StreamHandlers handlers);
  // grpc.health.v1.Health/Check of `service`: `done(true)` when SERVING.
  virtual void CheckHealth(const std::string& service, absl::Time deadline,
                           std::function<void(bool)> done) = 0;
};

// A Backend over one gRPC channel with grpc::GenericStub: a mesh channel
// (common/rpc/mesh_channel.h), so an address with several replicas
// (dns:///catalog:50051, ipv4:10.0.0.5:50051,10.0.0.6:50051) is balanced per
// call over all of them (round_robin), failed ones skipped. An idempotent
// call that fails with UNAVAILABLE (or CANCELLED: a replica shutting down
// cancels calls it had not started; the gateway cancels no unary call) is
// tried again at once, at most kMeshRetryAttempts times in all and within its
// deadline: round_robin picks the next connected replica for it.
class GrpcBackend : public Backend {
 public:
  // `address`: a gRPC target (mesh_channel.h). `max_request_bytes` bounds what is sent to the
  // backend, `max_response_bytes` what is accepted from it (a voice answer of 5,000 characters is
  // over 16 MB of audio); `credentials`: MeshChannelCredentials (common/rpc/tls.h).
  GrpcBackend(const std::string& address, int max_request_bytes, int max_response_bytes,
              std::shared_ptr<grpc::ChannelCredentials> credentials);
  void Call(const std::string& grpc_path, std::string request, absl::Time deadline,
            const Metadata& metadata, std::function<void(grpc::Status, std::string)> done) override;
  void CallIdempotent(const std::string& grpc_path, std::string request, absl::Time deadline,
                      const Metadata& metadata, bool idempotent,
                      std::function<void(grpc::Status, std::string)> done) override;
  std::shared_ptr<StreamCall> CallStream(const std::string& grpc_path, std::string request,
                                         absl::Time deadline, const Metadata& metadata,
                                         StreamHandlers handlers) override;
  void CheckHealth(const std::string& service, absl::Time deadline,
                   std::function<void(bool)> done) override;
  // The channel (server reflection uses it too).
  [[nodiscard]] const std::shared_ptr<grpc::Channel>& channel() const { return channel_; }

 private:
  std::shared_ptr<grpc::Channel> channel_;
  grpc::GenericStub stub_;
};

// Several addresses of one backend: each call goes to the next one in turn
// (round-robin); a call of an idempotent route that fails with UNAVAILABLE is
// retried once on the next address, within its deadline. Streams are not
// retried. Ready (CheckHealth) when any address is SERVING. Thread-safe.
class RoundRobinBackend : public Backend {
 public:
  // `backends` (not owned, at least one) must outlive this object.
  explicit RoundRobinBackend(std::vector<Backend*> backends);
  void Call(const std::string& grpc_path, std::string request, absl::Time deadline,
            const Metadata& metadata, std::function<void(grpc::Status, std::string)> done) override;
  void CallIdempotent(const std::string& grpc_path, std::string request, absl::Time deadline,
                      const Metadata& metadata, bool idempotent,
                      std::function<void(grpc::Status, std::string)> done) override;
  std::shared_ptr<StreamCall> CallStream(const std::string& grpc_path, std::string request,
                                         absl::Time deadline, const Metadata& metadata,
                                         StreamHandlers handlers) override;
  void CheckHealth(const std::string& service, absl::Time deadline,
                   std::function<void(bool)> done) override;

 private:
  Backend* Next(size_t* index);
  const std::vector<Backend*> backends_;
  std::atomic<size_t> next_{0};
};

// "svc=addr|addr,..." entries (from --backend) -> service full name ->
// addresses ("host:port", several separated by '|' for round-robin).
// INVALID_ARGUMENT naming the entry when one is malformed.
absl::StatusOr<std::map<std::string, std::vector<std::string>>> ParseBackendList(
    const std::string& list);

// The environment variable that run.sh exports for a service's package:
// genesis.catalog.v1.CatalogService -> GENESIS_CATALOG_ADDR ("" when the name
// is not genesis.<name>.*).
std::string AddressEnvFor(const std::string& service_full_name);

}  // namespace genesis::gateway
