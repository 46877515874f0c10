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
// Credentials are the caller's: MeshChannelCredentials (common/rpc/tls.h).
// Channels connect lazily; thread-safe like any grpc::Channel.
#pragma once

#include <memory>
#include <string>

#include <grpcpp/channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/channel_arguments.h>

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
};

// The default service config every mesh channel has.
inline constexpr char kMeshServiceConfig[] = R"({"loadBalancingConfig":[{"round_robin":{}}]})";

// The channel arguments described above.
[[nodiscard]] grpc::ChannelArguments MeshChannelArguments(const MeshChannelOptions& options = {});

// A channel to `target` (see above) with `credentials` and MeshChannelArguments(options).
[[nodiscard]] std::shared_ptr<grpc::Channel> MakeMeshChannel(
    const std::string& target, std::shared_ptr<grpc::ChannelCredentials> credentials,
    const MeshChannelOptions& options = {});

}  // namespace genesis
