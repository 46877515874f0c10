// What a Genesis client needs besides the generated stubs: a channel (mutual TLS), a call
// context (deadline, request id) and the error details of a failed call.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include <grpcpp/grpcpp.h>

#include "genesis/catalog/v1/catalog.grpc.pb.h"
#include "google/rpc/error_details.pb.h"

namespace example {

// PEM contents (not paths) of the mesh's CA and of this client's certificate and key.
struct Tls {
  std::string ca;
  std::string cert;
  std::string key;
};

// Reads a whole file; throws std::runtime_error when it cannot.
std::string ReadFile(const std::string& path);

// A channel to `address` (host:port) with mutual TLS; plaintext when tls.ca is empty.
std::shared_ptr<grpc::Channel> Connect(const std::string& address, const Tls& tls);

// A context with a deadline and an `x-request-id` the server logs the call with (and sends
// back in the initial metadata).
std::unique_ptr<grpc::ClientContext> NewContext(std::chrono::milliseconds timeout,
                                                const std::string& request_id);

// The google.rpc.Status of a failed call (grpc-status-details-bin), decoded.
struct ErrorDetails {
  grpc::StatusCode code = grpc::StatusCode::OK;
  std::string message;
  std::optional<google::rpc::BadRequest> bad_request;
  std::optional<google::rpc::ErrorInfo> error_info;
  std::optional<google::rpc::RetryInfo> retry_info;
};
ErrorDetails DecodeError(const grpc::Status& status);

// One line describing an item ("items/1 \"Title\" (types/lead)"), or the error's details.
// Takes the stub interface, so a gMock stub can stand in for the service.
std::string DescribeItem(genesis::catalog::v1::CatalogService::StubInterface& catalog,
                         const std::string& name);

// "CODE: message" plus "; field: description" per BadRequest violation and the
// ErrorInfo reason, when present.
std::string Describe(const ErrorDetails& error);

}  // namespace example
