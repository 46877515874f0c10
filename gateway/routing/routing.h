// Where the gateway's routes and backends come from, built at start and again
// on SIGHUP: the descriptors (the build's descriptor set file, the backends'
// gRPC server reflection, or both), the route table and transcoder made from
// them, and the backend of each service (--backend, GENESIS_<NAME>_ADDR, or
// the address whose reflection listed it). Channels are created once per
// address and kept for the life of the process, so a rebuild never closes a
// channel a request in flight uses.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "gateway/routing/backend.h"
#include "gateway/routing/http_rules.h"
#include "gateway/routing/transcoder.h"

namespace genesis::gateway {

enum class DescriptorSource { kFile, kReflection, kBoth };

// "file" | "reflection" | "both"; INVALID_ARGUMENT otherwise.
absl::StatusOr<DescriptorSource> ParseDescriptorSource(const std::string& text);

struct RoutingOptions {
  DescriptorSource source = DescriptorSource::kFile;
  std::string descriptor_set;  // the FileDescriptorSet file (kFile, kBoth)
  // Service full name -> addresses (--backend).
  std::map<std::string, std::vector<std::string>> backends;
  // Extra address lists asked for reflection (the GENESIS_<NAME>_ADDR values).
  std::vector<std::vector<std::string>> reflection_addresses;
  // Reads GENESIS_<NAME>_ADDR; injectable for tests.
  std::function<std::string(const std::string&)> getenv;
  absl::Duration reflection_timeout = absl::Seconds(5);
  int max_message_bytes = 4 << 20;    // a request sent to a backend
  int max_response_bytes = 80 << 20;  // an answer accepted from a backend
  // What backend channels connect with: MeshChannelCredentials (common/rpc/tls.h).
  std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::InsecureChannelCredentials();
  TranscoderOptions transcoder;
};

struct Routing {
  std::unique_ptr<Transcoder> transcoder;
  RouteTable routes;
  std::map<std::string, Backend*> backends;  // owned by the RoutingBuilder
  // Human-readable notes for the log: services without a backend, backends
  // whose reflection failed, "svc -> addr" lines.
  std::vector<std::string> warnings;
  std::vector<std::string> notes;
};

// Not thread-safe: main builds at start and on SIGHUP, from one thread.
class RoutingBuilder {
 public:
  explicit RoutingBuilder(RoutingOptions options);

  // INVALID_ARGUMENT (bad descriptors, conflicting rules, a --backend naming
  // no service), NOT_FOUND (descriptor set file), UNAVAILABLE (reflection
  // only, and no backend answered). A backend whose reflection fails is a
  // warning: its services are left out until the next rebuild.
  absl::StatusOr<Routing> Build();

 private:
  Backend* BackendFor(const std::vector<std::string>& addresses);
  GrpcBackend* Channel(const std::string& address);

  const RoutingOptions options_;
  std::map<std::string, std::unique_ptr<GrpcBackend>> channels_;
  std::map<std::string, std::unique_ptr<RoundRobinBackend>> balancers_;
};

// Every GENESIS_<NAME>_ADDR variable of the environment: its value split on '|'.
std::vector<std::vector<std::string>> AddressesFromEnvironment();

}  // namespace genesis::gateway
