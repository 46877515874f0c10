#include "gateway/http/errors.h"

#include <algorithm>

#include "common/base/status.h"
#include "common/base/text.h"
#include "common/runtime/logging.h"

namespace genesis::gateway {

std::string GrpcCodeName(grpc::StatusCode code) {
  return absl::StatusCodeToString(static_cast<absl::StatusCode>(code));
}

int HttpStatusFromCode(int grpc_code) {
  switch (static_cast<grpc::StatusCode>(grpc_code)) {
    case grpc::StatusCode::OK:
      return 200;
    case grpc::StatusCode::CANCELLED:
      return 499;
    case grpc::StatusCode::UNKNOWN:
      return 500;
    case grpc::StatusCode::INVALID_ARGUMENT:
      return 400;
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return 504;
    case grpc::StatusCode::NOT_FOUND:
      return 404;
    case grpc::StatusCode::ALREADY_EXISTS:
      return 409;
    case grpc::StatusCode::PERMISSION_DENIED:
      return 403;
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return 429;
    case grpc::StatusCode::FAILED_PRECONDITION:
      return 400;
    case grpc::StatusCode::ABORTED:
      return 409;
    case grpc::StatusCode::OUT_OF_RANGE:
      return 400;
    case grpc::StatusCode::UNIMPLEMENTED:
      return 501;
    case grpc::StatusCode::INTERNAL:
      return 500;
    case grpc::StatusCode::UNAVAILABLE:
      return 503;
    case grpc::StatusCode::DATA_LOSS:
      return 500;
    case grpc::StatusCode::UNAUTHENTICATED:
      return 401;
    default:
      return 500;
  }
}

google::rpc::Status RpcStatusFromAbsl(const absl::Status& status) {
  return RpcStatusFromGrpc(ToGrpcStatus(status, kGatewayErrorDomain));
}

std::optional<int> RetryAfterSeconds(const google::rpc::Status& status) {
  auto delay = RetryDelayOf(status);
  if (!delay) return std::nullopt;
  const int64_t seconds = absl::ToInt64Seconds(absl::Ceil(*delay, absl::Seconds(1)));
  return static_cast<int>(std::clamp<int64_t>(seconds, 1, 86400));
}

google::rpc::Status RpcStatusFromGrpc(const grpc::Status& status) {
  google::rpc::Status out = RpcStatusOf(status);
  if (out.code() != static_cast<int>(status.error_code())) {
    // No (or inconsistent) details: the status line is the truth. Every
    // Genesis service sends details, so this status was made by gRPC itself
    // (no replica reachable or ready, a broken connection) and its text names
    // internal addresses: the caller gets a stable message, the log the rest.
    out.Clear();
    out.set_code(static_cast<int>(status.error_code()));
    if (status.error_code() == grpc::StatusCode::UNAVAILABLE) {
      out.set_message(std::string(kBackendUnavailableMessage));
    } else {
      out.set_message(ForCaller(status.error_message()));
    }
    if (out.message() != status.error_message()) {
      Logger("gateway")->debug("backend status {}: {}", GrpcCodeName(status.error_code()),
                               status.error_message());
    }
  }
  return out;
}

}  // namespace genesis::gateway
