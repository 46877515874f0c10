// The one way a Genesis process opens a gRPC channel to another Genesis
// process (the gateway to each service, the services to the LLM router): per
// call balancing over every replica behind the target, dead replicas found
// and skipped, bounded reconnects.
//
// What a target may be (gRPC's name syntax):
//   host:port                     one name, resolved by DNS (the same as
//                                 dns:///host:port)
//   dns:///host:port              every address DNS returns for `host` (a
//                                 Kubernetes headless Service: every ready
//                                 pod), re-resolved when a connection fails
//   dns://server:port/host:port   the same, asking that DNS server (c-ares)
//   ipv4:a.b.c.d:port,e.f.g.h:port   a fixed list of addresses (ipv6:[::1]:p
//                                 likewise; with TLS the server name to check
//                                 then needs an override, so prefer a name)
//   unix:/path                    a local socket
//
// What every such channel gets (MeshChannelArguments):
//   balancing    round_robin as the default service config: each call goes to
//                the next connected address, every resolved address is
//                connected, one that fails is skipped until it reconnects.
//                Service configs published in DNS (TXT records) are ignored
//   health       each connection watches the server's gRPC health (service
//                "", grpc.health.v1.Health/Watch): a replica that reports
//                NOT_SERVING (starting, no database primary, or shutting
//                down: common/runtime/server.h) gets no new call until it
//                reports SERVING again. A replica that begins to shut down
//                is thus skipped within a round trip, while it still takes
//                calls for its drain delay (--shutdown_drain_delay_ms), so no
//                call is sent to a server that has stopped accepting. A
//                server without the health service counts as serving
//   re-resolving gRPC resolves the name again when a connection fails or is
//                closed (a pod going away), at most every
//                `min_time_between_resolutions`; a name is not re-resolved
//                on a timer, so replicas added later are found at the next
//                connection failure or close
//   keepalive    a ping every `keepalive_time` while calls are in flight
//                (never on an idle connection), the connection closed when
//                none is answered within `keepalive_timeout`: a replica whose
//                host hung (no RST) is detected and skipped. Servers
//                (common/runtime/server.cc) accept pings every 10 s or more
//                seldom, so the default 20 s is never answered by GOAWAY
//   reconnects   the backoff between attempts to a failed address grows to
//                at most `max_reconnect_backoff` (gRPC's own grows to 120 s)
//   sizes        the largest message received and sent
//   retries      a call of an idempotent method that fails with UNAVAILABLE
//                is tried again, at most kMeshRetryAttempts times in all, each
//                attempt picked anew by round_robin (so on another replica
//                while one is connected), within the call's deadline.
//                Idempotent here means GET-mapped (google.api.http `get`, also
//                as an additional binding) in one of the services named in
//                `idempotent_services`; every other method is never retried
//                after it reached a server (gRPC's transparent retry of a call
//                no server received, on by default in 1.51, stays). Calls
//                whose request carries a `request_id` are idempotent too, but
//                a channel cannot see the request: their callers retry
//                (RetryableWithRequestId, the gateway's backends).
// Credentials are the caller's: MeshChannelCredentials (common/rpc/tls.h).
// Channels connect lazily; thread-safe like any grpc::Channel.
#pragma once

#include <memory>
#include <string>

#include <grpcpp/channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/channel_arguments.h>

#include <vector>

#include <google/protobuf/descriptor.h>

#include "absl/time/time.h"

namespace genesis {

struct MeshChannelOptions {
  // Largest message received / sent; 0 keeps gRPC's default (4 MiB received,
  // no limit sent).
  int max_receive_message_bytes = 0;
  int max_send_message_bytes = 0;
  absl::Duration keepalive_time = absl::Seconds(20);
  absl::Duration keepalive_timeout = absl::Seconds(10);
  absl::Duration max_reconnect_backoff = absl::Seconds(5);
  absl::Duration min_time_between_resolutions = absl::Seconds(2);
  // The services (full names, found among the compiled-in descriptors) whose
  // GET-mapped methods are retried on UNAVAILABLE (above); usually the one
  // service the caller's stub is for: Stub::service_full_name().
  std::vector<std::string> idempotent_services;
};

// The default service config every mesh channel has (no retries).
inline constexpr char kMeshServiceConfig[] =
    R"({"loadBalancingConfig":[{"round_robin":{}}],"healthCheckConfig":{"serviceName":""}})";

// Attempts of an idempotent call in all (the first one and two retries), and
// the pause before the first retry (doubled for the next, at most 0.5 s).
inline constexpr int kMeshRetryAttempts = 3;
inline constexpr absl::Duration kMeshRetryBackoff = absl::Milliseconds(50);

// The methods of `service` mapped to an HTTP GET (google.api.http), which the
// project treats as safe to repeat.
[[nodiscard]] std::vector<const google::protobuf::MethodDescriptor*> GetMappedMethods(
    const google::protobuf::ServiceDescriptor& service);

// The service config of a mesh channel: round_robin, and a retryPolicy
// (UNAVAILABLE only) for the GET-mapped methods of `idempotent_services`
// (full names; one not compiled in is skipped).
[[nodiscard]] std::string MeshServiceConfig(const std::vector<std::string>& idempotent_services);

// True when `request` (a serialized `type`) has a top-level string field
// `request_id` that is set and not empty: the server then answers a repeat
// with the first outcome, so the call may be retried after UNAVAILABLE.
[[nodiscard]] bool RetryableWithRequestId(const google::protobuf::Descriptor& type,
                                          const std::string& request);

// The channel arguments described above.
[[nodiscard]] grpc::ChannelArguments MeshChannelArguments(const MeshChannelOptions& options = {});

// A channel to `target` (see above) with `credentials` and MeshChannelArguments(options).
[[nodiscard]] std::shared_ptr<grpc::Channel> MakeMeshChannel(
    const std::string& target, std::shared_ptr<grpc::ChannelCredentials> credentials,
    const MeshChannelOptions& options = {});

}  // namespace genesis
