// The gateway's one gRPC -> HTTP status table, and conversions of errors to
// google.rpc.Status (whose JSON is every error response's body).
#pragma once

#include <grpcpp/support/status.h>

#include "absl/status/status.h"
#include "google/rpc/status.pb.h"

namespace genesis::gateway {

// The canonical mapping (google/rpc/code.proto): INVALID_ARGUMENT 400,
// NOT_FOUND 404, UNAVAILABLE 503, ... ; unknown codes 500.
int HttpStatusFromCode(int grpc_code);

// google.rpc.Status of an absl::Status, its payloads (BadRequest...) as details.
google::rpc::Status RpcStatusFromAbsl(const absl::Status& status);

// google.rpc.Status of a backend's grpc::Status: the grpc-status-details-bin
// trailer when present (its code and message win only if they agree), else
// the code and message alone.
google::rpc::Status RpcStatusFromGrpc(const grpc::Status& status);

}  // namespace genesis::gateway
