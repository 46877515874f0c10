// The gateway's one gRPC -> HTTP status table, and conversions of errors to
// google.rpc.Status (whose JSON is every error response's body).
#pragma once

#include <grpcpp/support/status.h>

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/rpc/status.pb.h"

namespace genesis::gateway {

// The canonical mapping (google/rpc/code.proto): INVALID_ARGUMENT 400,
// NOT_FOUND 404, UNAVAILABLE 503, ... ; unknown codes 500.
int HttpStatusFromCode(int grpc_code);

// The canonical name of a gRPC code ("UNAVAILABLE", "NOT_FOUND"; absl's
// spelling, the same as the services' grpc_code metric label).
std::string GrpcCodeName(grpc::StatusCode code);

// The ErrorInfo domain of the gateway's own errors (refused before any backend).
inline constexpr char kGatewayErrorDomain[] = "gateway.genesis.dev";
// The reason of a request refused by the gateway's rate limit.
inline constexpr char kReasonRateLimited[] = "RATE_LIMITED";

// google.rpc.Status of an absl::Status raised by the gateway itself: its
// payloads (BadRequest...) as details, ErrorInfo in kGatewayErrorDomain, and
// RetryInfo on UNAVAILABLE / RESOURCE_EXHAUSTED (common/base/status.h).
google::rpc::Status RpcStatusFromAbsl(const absl::Status& status);

// The Retry-After of an error response: the RetryInfo delay among `status`'s
// details rounded up to whole seconds, at least 1; nullopt without RetryInfo.
std::optional<int> RetryAfterSeconds(const google::rpc::Status& status);

// What a caller reads when gRPC itself failed a call to a backend with
// UNAVAILABLE (no replica reachable, or none reporting SERVING).
inline constexpr absl::string_view kBackendUnavailableMessage =
    "the service behind this route is unavailable (no replica is reachable and ready); "
    "retry with back-off";

// google.rpc.Status of a backend's grpc::Status: the grpc-status-details-bin
// trailer when present (its code and message win only if they agree), else
// the code alone with a message fit for a caller (gRPC's own text names
// internal addresses): kBackendUnavailableMessage for UNAVAILABLE, the text
// through ForCaller (common/base/text.h) otherwise; the original is logged
// (debug).
google::rpc::Status RpcStatusFromGrpc(const grpc::Status& status);

}  // namespace genesis::gateway
