#include "common/base/status.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/base/reasons.h"
#include "google/protobuf/any.pb.h"
#include "google/protobuf/duration.pb.h"

namespace genesis {

void FieldViolations::Add(std::string field, std::string description) {
  violations_.emplace_back(std::move(field), std::move(description));
}

absl::Status FieldViolations::ToStatus() const {
  if (violations_.empty()) return absl::OkStatus();
  google::rpc::BadRequest bad_request;
  std::string message = "invalid request: ";
  for (size_t i = 0; i < violations_.size(); ++i) {
    auto* v = bad_request.add_field_violations();
    v->set_field(violations_[i].first);
    v->set_description(violations_[i].second);
    if (i > 0) message += "; ";
    absl::StrAppend(&message, violations_[i].first, ": ", violations_[i].second);
  }
  absl::Status status(absl::StatusCode::kInvalidArgument, message);
  status.SetPayload(kBadRequestTypeUrl, absl::Cord(bad_request.SerializeAsString()));
  return status;
}

absl::Status InvalidField(std::string field, std::string description) {
  FieldViolations v;
  v.Add(std::move(field), std::move(description));
  return v.ToStatus();
}

std::vector<std::pair<std::string, std::string>> FieldViolationsOf(const absl::Status& status) {
  std::vector<std::pair<std::string, std::string>> out;
  auto payload = status.GetPayload(kBadRequestTypeUrl);
  if (!payload.has_value()) return out;
  google::rpc::BadRequest bad_request;
  if (!bad_request.ParseFromString(std::string(*payload))) return out;
  for (const auto& v : bad_request.field_violations()) out.emplace_back(v.field(), v.description());
  return out;
}

namespace {

google::protobuf::Duration ToProtoDuration(absl::Duration d) {
  d = std::max(d, absl::ZeroDuration());
  google::protobuf::Duration out;
  const int64_t seconds = absl::IDivDuration(d, absl::Seconds(1), &d);
  out.set_seconds(seconds);
  out.set_nanos(static_cast<int32_t>(absl::ToInt64Nanoseconds(d)));
  return out;
}

absl::Duration FromProtoDuration(const google::protobuf::Duration& d) {
  return absl::Seconds(d.seconds()) + absl::Nanoseconds(d.nanos());
}

bool Retryable(absl::StatusCode code) {
  return code == absl::StatusCode::kUnavailable || code == absl::StatusCode::kResourceExhausted;
}

}  // namespace

absl::Status WithReason(absl::Status status, absl::string_view reason,
                        std::vector<std::pair<std::string, std::string>> metadata,
                        absl::string_view domain) {
  if (status.ok()) return status;
  google::rpc::ErrorInfo info;
  info.set_reason(std::string(reason));
  info.set_domain(std::string(domain));
  for (auto& [key, value] : metadata) (*info.mutable_metadata())[key] = std::move(value);
  status.SetPayload(kErrorInfoTypeUrl, absl::Cord(info.SerializeAsString()));
  return status;
}

absl::Status WithReasonFor(absl::Status status, absl::StatusCode code, absl::string_view reason,
                           std::vector<std::pair<std::string, std::string>> metadata) {
  if (status.code() != code || status.GetPayload(kErrorInfoTypeUrl).has_value()) return status;
  return WithReason(std::move(status), reason, std::move(metadata));
}

absl::Status WithRetryDelay(absl::Status status, absl::Duration delay) {
  if (status.ok()) return status;
  google::rpc::RetryInfo info;
  *info.mutable_retry_delay() = ToProtoDuration(delay);
  status.SetPayload(kRetryInfoTypeUrl, absl::Cord(info.SerializeAsString()));
  return status;
}

std::optional<google::rpc::ErrorInfo> ErrorInfoOf(const absl::Status& status) {
  auto payload = status.GetPayload(kErrorInfoTypeUrl);
  google::rpc::ErrorInfo info;
  if (!payload.has_value() || !info.ParseFromString(std::string(*payload))) return std::nullopt;
  return info;
}

std::string ReasonOf(const absl::Status& status) {
  auto info = ErrorInfoOf(status);
  return info ? info->reason() : std::string();
}

std::optional<absl::Duration> RetryDelayOf(const absl::Status& status) {
  auto payload = status.GetPayload(kRetryInfoTypeUrl);
  google::rpc::RetryInfo info;
  if (!payload.has_value() || !info.ParseFromString(std::string(*payload))) return std::nullopt;
  return FromProtoDuration(info.retry_delay());
}

std::string DefaultReason(absl::StatusCode code) { return absl::StatusCodeToString(code); }

std::string ErrorDomainOf(absl::string_view service_full_name) {
  constexpr absl::string_view kPrefix = "genesis.";
  if (!absl::StartsWith(service_full_name, kPrefix)) return kDefaultErrorDomain;
  absl::string_view rest = service_full_name.substr(kPrefix.size());
  const size_t dot = rest.find('.');
  if (dot == 0 || dot == absl::string_view::npos) return kDefaultErrorDomain;
  return absl::StrCat(rest.substr(0, dot), ".", kDefaultErrorDomain);
}

grpc::Status ToGrpcStatus(const absl::Status& status, absl::string_view domain) {
  if (status.ok()) return grpc::Status::OK;
  google::rpc::Status rpc_status;
  rpc_status.set_code(static_cast<int>(status.code()));
  rpc_status.set_message(std::string(status.message()));
  // Details in a fixed order, whatever the payloads' (absl does not keep it):
  // the others (BadRequest) first, then ErrorInfo, then RetryInfo.
  std::optional<google::rpc::ErrorInfo> error_info;
  std::optional<std::string> retry_info;
  status.ForEachPayload([&](absl::string_view type_url, const absl::Cord& payload) {
    if (type_url == kErrorInfoTypeUrl) {
      google::rpc::ErrorInfo info;
      // An unreadable one is replaced by the default below.
      if (info.ParseFromString(std::string(payload)) && !info.reason().empty()) error_info = info;
      return;
    }
    if (type_url == kRetryInfoTypeUrl) {
      retry_info = std::string(payload);
      return;
    }
    google::protobuf::Any* any = rpc_status.add_details();
    any->set_type_url(std::string(type_url));
    any->set_value(std::string(payload));
  });
  if (!error_info) {
    error_info.emplace();
    error_info->set_reason(DefaultReason(status.code()));
  }
  if (error_info->domain().empty()) error_info->set_domain(std::string(domain));
  rpc_status.add_details()->PackFrom(*error_info);
  if (retry_info) {
    google::protobuf::Any* any = rpc_status.add_details();
    any->set_type_url(kRetryInfoTypeUrl);
    any->set_value(*retry_info);
  } else if (Retryable(status.code())) {
    google::rpc::RetryInfo info;
    *info.mutable_retry_delay() = ToProtoDuration(kDefaultRetryDelay);
    rpc_status.add_details()->PackFrom(info);
  }
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()),
                      rpc_status.SerializeAsString());
}

google::rpc::Status RpcStatusOf(const grpc::Status& status) {
  google::rpc::Status rpc_status;
  if (!status.error_details().empty()) rpc_status.ParseFromString(status.error_details());
  return rpc_status;
}

std::optional<google::rpc::ErrorInfo> ErrorInfoOf(const google::rpc::Status& status) {
  for (const auto& any : status.details()) {
    google::rpc::ErrorInfo info;
    if (any.Is<google::rpc::ErrorInfo>() && any.UnpackTo(&info)) return info;
  }
  return std::nullopt;
}

std::optional<absl::Duration> RetryDelayOf(const google::rpc::Status& status) {
  for (const auto& any : status.details()) {
    google::rpc::RetryInfo info;
    if (any.Is<google::rpc::RetryInfo>() && any.UnpackTo(&info)) {
      return FromProtoDuration(info.retry_delay());
    }
  }
  return std::nullopt;
}

namespace {

// `local` with the other service's ErrorInfo and RetryInfo (from `status`'s details).
absl::Status CarryDetails(absl::Status local, const grpc::Status& status, bool error_info) {
  google::rpc::Status details = RpcStatusOf(status);
  if (auto info = ErrorInfoOf(details); error_info && info && !info->reason().empty()) {
    local.SetPayload(kErrorInfoTypeUrl, absl::Cord(info->SerializeAsString()));
  }
  if (auto delay = RetryDelayOf(details)) local = WithRetryDelay(std::move(local), *delay);
  return local;
}

}  // namespace

absl::Status DownstreamStatus(const grpc::Status& status, absl::string_view service) {
  const std::string& msg = status.error_message();
  switch (status.error_code()) {
    case grpc::StatusCode::OK:
      return absl::OkStatus();
    case grpc::StatusCode::FAILED_PRECONDITION:
      return CarryDetails(absl::FailedPreconditionError(absl::StrCat(service, ": ", msg)), status,
                          /*error_info=*/true);
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return CarryDetails(absl::ResourceExhaustedError(absl::StrCat(service, ": ", msg)), status,
                          /*error_info=*/true);
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return absl::DeadlineExceededError(
          absl::StrCat("the ", service, " did not answer before the deadline: ", msg));
    case grpc::StatusCode::CANCELLED:
      return absl::CancelledError(
          absl::StrCat("the call to the ", service, " was cancelled: ", msg));
    case grpc::StatusCode::INVALID_ARGUMENT:
      return absl::InternalError(absl::StrCat("the ", service, " refused the request: ", msg));
    default:
      return CarryDetails(
          WithReason(absl::UnavailableError(absl::StrCat(service, " unavailable (gRPC code ",
                                                         static_cast<int>(status.error_code()),
                                                         "): ", msg)),
                     reasons::kDependencyUnavailable, {{"service", std::string(service)}}),
          status, /*error_info=*/false);
  }
}

}  // namespace genesis
