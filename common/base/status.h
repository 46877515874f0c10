// Error model shared by every service.
//
// Inside a service errors are absl::Status with the most specific code. Field
// problems are collected in a FieldViolations and become INVALID_ARGUMENT
// carrying a google.rpc.BadRequest payload. ToGrpcStatus() is the single
// conversion to grpc::Status at the transport edge; it puts a serialized
// google.rpc.Status (with its details) in the grpc-status-details-bin trailer,
// as https://google.aip.dev/193 describes.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <grpcpp/support/status.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace genesis {

// Type URL under which a google.rpc.BadRequest is kept in an absl::Status payload.
inline constexpr char kBadRequestTypeUrl[] = "type.googleapis.com/google.rpc.BadRequest";

// Collects field violations; ToStatus() is OK when there are none.
// Not thread-safe.
class FieldViolations {
 public:
  // `field` is a path such as "item.attributes.price" (proto field names).
  void Add(std::string field, std::string description);
  [[nodiscard]] bool empty() const { return violations_.empty(); }
  [[nodiscard]] size_t size() const { return violations_.size(); }
  // INVALID_ARGUMENT whose message lists every violation, with a BadRequest
  // payload; OK when nothing was added.
  [[nodiscard]] absl::Status ToStatus() const;

 private:
  std::vector<std::pair<std::string, std::string>> violations_;
};

// INVALID_ARGUMENT for a single field.
[[nodiscard]] absl::Status InvalidField(std::string field, std::string description);

// The BadRequest payload of `status`, if any (field violations for callers and tests).
[[nodiscard]] std::vector<std::pair<std::string, std::string>> FieldViolationsOf(
    const absl::Status& status);

// The one conversion from absl::Status to grpc::Status (codes are equal by value).
[[nodiscard]] grpc::Status ToGrpcStatus(const absl::Status& status);

// A failed call to another Genesis service (`service`, e.g. "LLM router"), as
// this service reports it, message naming the service: FAILED_PRECONDITION and
// RESOURCE_EXHAUSTED are the other service's verdicts and pass through; a
// deadline or cancellation stays one; INVALID_ARGUMENT means this service built
// a bad request (INTERNAL); anything else is "<service> unavailable".
[[nodiscard]] absl::Status DownstreamStatus(const grpc::Status& status, absl::string_view service);

// Parses the google.rpc.Status details of a grpc::Status (empty when none).
[[nodiscard]] google::rpc::Status RpcStatusOf(const grpc::Status& status);

// Evaluates `expr` (an absl::Status) and returns it from the caller when not OK.
#define GENESIS_RETURN_IF_ERROR(expr)             \
  do {                                            \
    if (::absl::Status _st = (expr); !_st.ok()) { \
      return _st;                                 \
    }                                             \
  } while (0)

#define GENESIS_CONCAT_INNER_(a, b) a##b
#define GENESIS_CONCAT_(a, b) GENESIS_CONCAT_INNER_(a, b)
#define GENESIS_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                   \
  if (!tmp.ok()) return tmp.status();                  \
  lhs = std::move(*tmp)

// `GENESIS_ASSIGN_OR_RETURN(auto x, StatusOrExpr());`
#define GENESIS_ASSIGN_OR_RETURN(lhs, expr) \
  GENESIS_ASSIGN_OR_RETURN_IMPL_(GENESIS_CONCAT_(_statusor_, __LINE__), lhs, expr)

}  // namespace genesis
