#include "gateway/backend.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/channel_arguments.h>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "grpc/health/v1/health.pb.h"

namespace genesis::gateway {
namespace {

// Owns what one asynchronous call needs until its callback runs.
struct PendingCall {
  grpc::ClientContext context;
  grpc::ByteBuffer request;
  grpc::ByteBuffer response;
};

std::string Flatten(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  std::string out;
  if (!buffer.Dump(&slices).ok()) return out;
  out.reserve(buffer.Length());
  for (const auto& s : slices) out.append(reinterpret_cast<const char*>(s.begin()), s.size());
  return out;
}

}  // namespace

GrpcBackend::GrpcBackend(const std::string& address, int max_message_bytes)
    : channel_([&] {
        grpc::ChannelArguments args;
        args.SetMaxReceiveMessageSize(max_message_bytes);
        args.SetMaxSendMessageSize(max_message_bytes);
        return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
      }()),
      stub_(channel_) {}

void GrpcBackend::Call(const std::string& grpc_path, std::string request, absl::Time deadline,
                       const Metadata& metadata,
                       std::function<void(grpc::Status, std::string)> done) {
  auto call = std::make_shared<PendingCall>();
  call->context.set_deadline(absl::ToChronoTime(deadline));
  for (const auto& [k, v] : metadata) call->context.AddMetadata(k, v);
  grpc::Slice slice(request);
  call->request = grpc::ByteBuffer(&slice, 1);
  stub_.UnaryCall(&call->context, grpc_path, grpc::StubOptions(), &call->request, &call->response,
                  [call, done = std::move(done)](grpc::Status status) {
                    done(status, status.ok() ? Flatten(call->response) : std::string());
                  });
}

void GrpcBackend::CheckHealth(const std::string& service, absl::Time deadline,
                              std::function<void(bool)> done) {
  grpc::health::v1::HealthCheckRequest req;
  req.set_service(service);
  Call("/grpc.health.v1.Health/Check", req.SerializeAsString(), deadline, {},
       [done = std::move(done)](grpc::Status status, std::string response) {
         grpc::health::v1::HealthCheckResponse res;
         done(status.ok() && res.ParseFromString(response) &&
              res.status() == grpc::health::v1::HealthCheckResponse::SERVING);
       });
}

absl::StatusOr<std::map<std::string, std::string>> ParseBackendList(const std::string& list) {
  std::map<std::string, std::string> out;
  for (absl::string_view entry : absl::StrSplit(list, ',', absl::SkipWhitespace())) {
    entry = absl::StripAsciiWhitespace(entry);
    std::pair<std::string, std::string> kv = absl::StrSplit(entry, absl::MaxSplits('=', 1));
    if (kv.first.empty() || kv.second.empty() || kv.second.find(':') == std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("'", entry, "': want <package.Service>=<host>:<port>"));
    }
    out[kv.first] = kv.second;
  }
  return out;
}

std::string AddressEnvFor(const std::string& service_full_name) {
  std::vector<std::string> parts = absl::StrSplit(service_full_name, '.');
  if (parts.size() < 3 || parts[0] != "genesis") return "";
  return absl::StrCat("GENESIS_", absl::AsciiStrToUpper(parts[1]), "_ADDR");
}

}  // namespace genesis::gateway
