// The gRPC backends the gateway forwards to, behind a small interface so the
// gateway logic is tested with a fake.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <grpcpp/channel.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/support/status.h>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace genesis::gateway {

using Metadata = std::vector<std::pair<std::string, std::string>>;

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
  // grpc.health.v1.Health/Check of `service`: `done(true)` when SERVING.
  virtual void CheckHealth(const std::string& service, absl::Time deadline,
                           std::function<void(bool)> done) = 0;
};

// A Backend over one insecure HTTP/2 channel with grpc::GenericStub.
class GrpcBackend : public Backend {
 public:
  GrpcBackend(const std::string& address, int max_message_bytes);
  void Call(const std::string& grpc_path, std::string request, absl::Time deadline,
            const Metadata& metadata, std::function<void(grpc::Status, std::string)> done) override;
  void CheckHealth(const std::string& service, absl::Time deadline,
                   std::function<void(bool)> done) override;

 private:
  std::shared_ptr<grpc::Channel> channel_;
  grpc::GenericStub stub_;
};

// "svc=addr" entries (from --backend) -> service full name -> address.
// INVALID_ARGUMENT naming the entry when one is malformed.
absl::StatusOr<std::map<std::string, std::string>> ParseBackendList(const std::string& list);

// The environment variable that run.sh exports for a service's package:
// genesis.catalog.v1.CatalogService -> GENESIS_CATALOG_ADDR ("" when the name
// is not genesis.<name>.*).
std::string AddressEnvFor(const std::string& service_full_name);

}  // namespace genesis::gateway
