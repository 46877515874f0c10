// Error model shared by every service.
//
// Inside a service errors are absl::Status with the most specific code. Field
// problems are collected in a FieldViolations and become INVALID_ARGUMENT
// carrying a google.rpc.BadRequest payload. ToGrpcStatus() is the single
// conversion to grpc::Status at the transport edge; it puts a serialized
// google.rpc.Status (with its details) in the grpc-status-details-bin trailer,
// as https://google.aip.dev/193 describes.
//
// Every error leaves with a google.rpc.ErrorInfo: the logic names a specific
// reason with WithReason() (UPPER_SNAKE_CASE, stable, listed in the service's
// README), else the code's name is the reason; the domain is the service's
// ("catalog.genesis.dev"). UNAVAILABLE and RESOURCE_EXHAUSTED also carry a
// google.rpc.RetryInfo: the logic's delay (WithRetryDelay), else one second.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <grpcpp/support/status.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace genesis {

// Type URL under which a google.rpc.BadRequest is kept in an absl::Status payload.
inline constexpr char kBadRequestTypeUrl[] = "type.googleapis.com/google.rpc.BadRequest";
// ... a google.rpc.ErrorInfo (WithReason), and a google.rpc.RetryInfo (WithRetryDelay).
inline constexpr char kErrorInfoTypeUrl[] = "type.googleapis.com/google.rpc.ErrorInfo";
inline constexpr char kRetryInfoTypeUrl[] = "type.googleapis.com/google.rpc.RetryInfo";

// The domain of errors raised outside any one service (ToGrpcStatus' default).
inline constexpr char kDefaultErrorDomain[] = "genesis.dev";
// The retry delay of an UNAVAILABLE or RESOURCE_EXHAUSTED error that names none.
inline constexpr absl::Duration kDefaultRetryDelay = absl::Seconds(1);

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

// `status` with a google.rpc.ErrorInfo naming `reason` (UPPER_SNAKE_CASE,
// e.g. "ITEM_NOT_FOUND") and `metadata` (non-secret facts a client can act on:
// the resource name, a limit). The domain is left to ToGrpcStatus unless
// `domain` is given (an error passed through from another service keeps its
// own). Replaces an earlier reason; an OK status is returned unchanged.
[[nodiscard]] absl::Status WithReason(
    absl::Status status, absl::string_view reason,
    std::vector<std::pair<std::string, std::string>> metadata = {}, absl::string_view domain = {});

// `status` with `reason` (and `metadata`) when its code is `code` and it
// names no reason yet: how the logic names a store's plain error (NOT_FOUND
// from GetExperiment is EXPERIMENT_NOT_FOUND). Other statuses pass unchanged.
[[nodiscard]] absl::Status WithReasonFor(
    absl::Status status, absl::StatusCode code, absl::string_view reason,
    std::vector<std::pair<std::string, std::string>> metadata = {});
template <typename T>
[[nodiscard]] absl::StatusOr<T> WithReasonFor(
    absl::StatusOr<T> result, absl::StatusCode code, absl::string_view reason,
    std::vector<std::pair<std::string, std::string>> metadata = {}) {
  if (result.ok()) return result;
  return WithReasonFor(std::move(result).status(), code, reason, std::move(metadata));
}

// `status` with a google.rpc.RetryInfo: when a retry may succeed (a rate
// limit's refill, a breaker's remaining open time). Negative delays count as
// zero; an OK status is returned unchanged.
[[nodiscard]] absl::Status WithRetryDelay(absl::Status status, absl::Duration delay);

// The ErrorInfo attached by WithReason, if any.
[[nodiscard]] std::optional<google::rpc::ErrorInfo> ErrorInfoOf(const absl::Status& status);
// Its reason, "" when none was attached (tests and logs).
[[nodiscard]] std::string ReasonOf(const absl::Status& status);
// The delay attached by WithRetryDelay, if any.
[[nodiscard]] std::optional<absl::Duration> RetryDelayOf(const absl::Status& status);

// The reason of an error whose logic named none: the code's name
// ("NOT_FOUND", "UNAVAILABLE").
[[nodiscard]] std::string DefaultReason(absl::StatusCode code);

// The error domain of a service by its full proto name:
// "genesis.catalog.v1.CatalogService" -> "catalog.genesis.dev"; a name outside
// `genesis.<x>.` gets kDefaultErrorDomain.
[[nodiscard]] std::string ErrorDomainOf(absl::string_view service_full_name);

// The one conversion from absl::Status to grpc::Status (codes are equal by
// value). The details are the status' payloads (BadRequest...), an ErrorInfo
// (the attached one with `domain` filled in when it has none, else
// DefaultReason(code) in `domain`) and, for UNAVAILABLE and
// RESOURCE_EXHAUSTED, a RetryInfo (the attached one, else kDefaultRetryDelay).
[[nodiscard]] grpc::Status ToGrpcStatus(const absl::Status& status,
                                        absl::string_view domain = kDefaultErrorDomain);

// A failed call to another Genesis service (`service`, e.g. "LLM router"), as
// this service reports it, message naming the service: FAILED_PRECONDITION and
// RESOURCE_EXHAUSTED are the other service's verdicts and pass through; a
// deadline or cancellation stays one; INVALID_ARGUMENT means this service built
// a bad request (INTERNAL); anything else is "<service> unavailable".
[[nodiscard]] absl::Status DownstreamStatus(const grpc::Status& status, absl::string_view service);

// Parses the google.rpc.Status details of a grpc::Status (empty when none).
[[nodiscard]] google::rpc::Status RpcStatusOf(const grpc::Status& status);
// The ErrorInfo / RetryInfo among the details of a google.rpc.Status, if any
// (clients and tests).
[[nodiscard]] std::optional<google::rpc::ErrorInfo> ErrorInfoOf(const google::rpc::Status& status);
[[nodiscard]] std::optional<absl::Duration> RetryDelayOf(const google::rpc::Status& status);

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
