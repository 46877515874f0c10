#include "common/rpc/mesh_channel.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/wire_format_lite.h>
#include <grpcpp/create_channel.h>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "google/api/annotations.pb.h"

namespace genesis {
namespace {

using google::protobuf::internal::WireFormatLite;

int Ms(absl::Duration d) { return static_cast<int>(absl::ToInt64Milliseconds(d)); }

std::string Seconds(absl::Duration d) { return absl::StrCat(absl::ToDoubleSeconds(d), "s"); }

}  // namespace

std::vector<const google::protobuf::MethodDescriptor*> GetMappedMethods(
    const google::protobuf::ServiceDescriptor& service) {
  std::vector<const google::protobuf::MethodDescriptor*> out;
  for (int i = 0; i < service.method_count(); ++i) {
    const google::protobuf::MethodDescriptor* method = service.method(i);
    if (!method->options().HasExtension(google::api::http)) continue;
    const google::api::HttpRule& rule = method->options().GetExtension(google::api::http);
    bool get = rule.pattern_case() == google::api::HttpRule::kGet;
    for (const auto& extra : rule.additional_bindings()) {
      get = get || extra.pattern_case() == google::api::HttpRule::kGet;
    }
    if (get) out.push_back(method);
  }
  return out;
}

std::string MeshServiceConfig(const std::vector<std::string>& idempotent_services) {
  nlohmann::json names = nlohmann::json::array();
  for (const std::string& name : idempotent_services) {
    const google::protobuf::ServiceDescriptor* service =
        google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(name);
    if (service == nullptr) continue;
    for (const auto* method : GetMappedMethods(*service)) {
      names.push_back({{"service", service->full_name()}, {"method", method->name()}});
    }
  }
  if (names.empty()) return kMeshServiceConfig;
  nlohmann::json config = nlohmann::json::parse(kMeshServiceConfig);
  config["methodConfig"] = nlohmann::json::array({{{"name", names},
                                                   {"retryPolicy",
                                                    {{"maxAttempts", kMeshRetryAttempts},
                                                     {"initialBackoff", Seconds(kMeshRetryBackoff)},
                                                     {"maxBackoff", "0.5s"},
                                                     {"backoffMultiplier", 2},
                                                     {"retryableStatusCodes", {"UNAVAILABLE"}}}}}});
  return config.dump();
}

bool RetryableWithRequestId(const google::protobuf::Descriptor& type, const std::string& request) {
  const google::protobuf::FieldDescriptor* field = type.FindFieldByName("request_id");
  if (field == nullptr || field->type() != google::protobuf::FieldDescriptor::TYPE_STRING ||
      field->is_repeated()) {
    return false;
  }
  google::protobuf::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(request.data()),
                                            static_cast<int>(request.size()));
  bool set = false;
  // The last occurrence wins, as when the message is parsed.
  while (const uint32_t tag = in.ReadTag()) {
    if (WireFormatLite::GetTagFieldNumber(tag) == field->number() &&
        WireFormatLite::GetTagWireType(tag) == WireFormatLite::WIRETYPE_LENGTH_DELIMITED) {
      uint32_t length = 0;
      if (!in.ReadVarint32(&length) || !in.Skip(static_cast<int>(length))) return false;
      set = length > 0;
    } else if (!WireFormatLite::SkipField(&in, tag)) {
      return false;
    }
  }
  return set;
}

grpc::ChannelArguments MeshChannelArguments(const MeshChannelOptions& options) {
  grpc::ChannelArguments args;
  args.SetServiceConfigJSON(MeshServiceConfig(options.idempotent_services));
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
