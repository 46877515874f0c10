#include "common/rpc/mesh_channel.h"

#include <grpcpp/create_channel.h>

namespace genesis {
namespace {

int Ms(absl::Duration d) { return static_cast<int>(absl::ToInt64Milliseconds(d)); }

}  // namespace

grpc::ChannelArguments MeshChannelArguments(const MeshChannelOptions& options) {
  grpc::ChannelArguments args;
  args.SetServiceConfigJSON(kMeshServiceConfig);
  // The mesh's balancing is this process's choice, not a DNS record's.
  args.SetInt(GRPC_ARG_SERVICE_CONFIG_DISABLE_RESOLUTION, 1);
  args.SetInt(GRPC_ARG_DNS_MIN_TIME_BETWEEN_RESOLUTIONS_MS,
              Ms(options.min_time_between_resolutions));
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, Ms(options.keepalive_time));
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, Ms(options.keepalive_timeout));
  args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 0);
  // gRPC stops pinging after two pings without data by default: a long,
  // quiet call (a stream waiting for a model) would then go unwatched.
  args.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, Ms(options.max_reconnect_backoff));
  if (options.max_receive_message_bytes > 0) {
    args.SetMaxReceiveMessageSize(options.max_receive_message_bytes);
  }
  if (options.max_send_message_bytes > 0) {
    args.SetMaxSendMessageSize(options.max_send_message_bytes);
  }
  return args;
}

std::shared_ptr<grpc::Channel> MakeMeshChannel(
    const std::string& target, std::shared_ptr<grpc::ChannelCredentials> credentials,
    const MeshChannelOptions& options) {
  return grpc::CreateCustomChannel(target, std::move(credentials), MeshChannelArguments(options));
}

}  // namespace genesis
