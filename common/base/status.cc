#include "common/base/status.h"

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/any.pb.h"

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

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  google::rpc::Status rpc_status;
  rpc_status.set_code(static_cast<int>(status.code()));
  rpc_status.set_message(std::string(status.message()));
  status.ForEachPayload([&](absl::string_view type_url, const absl::Cord& payload) {
    google::protobuf::Any* any = rpc_status.add_details();
    any->set_type_url(std::string(type_url));
    any->set_value(std::string(payload));
  });
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()),
                      rpc_status.SerializeAsString());
}

google::rpc::Status RpcStatusOf(const grpc::Status& status) {
  google::rpc::Status rpc_status;
  if (!status.error_details().empty()) rpc_status.ParseFromString(status.error_details());
  return rpc_status;
}

absl::Status DownstreamStatus(const grpc::Status& status, absl::string_view service) {
  const std::string& msg = status.error_message();
  switch (status.error_code()) {
    case grpc::StatusCode::OK:
      return absl::OkStatus();
    case grpc::StatusCode::FAILED_PRECONDITION:
      return absl::FailedPreconditionError(absl::StrCat(service, ": ", msg));
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return absl::ResourceExhaustedError(absl::StrCat(service, ": ", msg));
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return absl::DeadlineExceededError(
          absl::StrCat("the ", service, " did not answer before the deadline: ", msg));
    case grpc::StatusCode::CANCELLED:
      return absl::CancelledError(
          absl::StrCat("the call to the ", service, " was cancelled: ", msg));
    case grpc::StatusCode::INVALID_ARGUMENT:
      return absl::InternalError(absl::StrCat("the ", service, " refused the request: ", msg));
    default:
      return absl::UnavailableError(absl::StrCat(
          service, " unavailable (gRPC code ", static_cast<int>(status.error_code()), "): ", msg));
  }
}

}  // namespace genesis
