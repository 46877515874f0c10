// The gateway's one gRPC -> HTTP status table, and conversions of errors to
// google.rpc.Status (whose JSON is every error response's body).
#pragma once

#include <grpcpp/support/status.h>

#include <string>

#include "absl/status/status.h"
#include "google/rpc/status.pb.h"

namespace genesis::gateway {

// The canonical mapping (google/rpc/code.proto): INVALID_ARGUMENT 400,
// NOT_FOUND 404, UNAVAILABLE 503, ... ; unknown codes 500.
int HttpStatusFromCode(int grpc_code);

// The canonical name of a gRPC code ("UNAVAILABLE", "NOT_FOUND"; absl's
// spelling, the same as the services' grpc_code metric label).
std::string GrpcCodeName(grpc::StatusCode code);

// google.rpc.Status of an absl::Status, its payloads (BadRequest...) as details.
google::rpc::Status RpcStatusFromAbsl(const absl::Status& status);

// google.rpc.Status of a backend's grpc::Status: the grpc-status-details-bin
// trailer when present (its code and message win only if they agree), else
// the code and message alone.
google::rpc::Status RpcStatusFromGrpc(const grpc::Status& status);

}  // namespace genesis::gateway
