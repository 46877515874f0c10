#include "genesis_calls.h"

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "google/rpc/status.pb.h"

namespace example {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::shared_ptr<grpc::Channel> Connect(const std::string& address, const Tls& tls) {
  if (tls.ca.empty()) return grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = tls.ca;
  options.pem_cert_chain = tls.cert;
  options.pem_private_key = tls.key;
  return grpc::CreateChannel(address, grpc::SslCredentials(options));
}

std::unique_ptr<grpc::ClientContext> NewContext(std::chrono::milliseconds timeout,
                                                const std::string& request_id) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + timeout);
  context->AddMetadata("x-request-id", request_id);
  return context;
}

ErrorDetails DecodeError(const grpc::Status& status) {
  ErrorDetails error;
  error.code = status.error_code();
  error.message = status.error_message();
  google::rpc::Status details;
  if (status.error_details().empty() || !details.ParseFromString(status.error_details())) {
    return error;
  }
  for (const auto& any : details.details()) {
    if (any.Is<google::rpc::BadRequest>()) {
      any.UnpackTo(&error.bad_request.emplace());
    } else if (any.Is<google::rpc::ErrorInfo>()) {
      any.UnpackTo(&error.error_info.emplace());
    } else if (any.Is<google::rpc::RetryInfo>()) {
      any.UnpackTo(&error.retry_info.emplace());
    }
  }
  return error;
}

namespace {

const char* CodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return "OK";
    case grpc::StatusCode::CANCELLED:
      return "CANCELLED";
    case grpc::StatusCode::INVALID_ARGUMENT:
      return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::NOT_FOUND:
      return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS:
      return "ALREADY_EXISTS";
    case grpc::StatusCode::PERMISSION_DENIED:
      return "PERMISSION_DENIED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::FAILED_PRECONDITION:
      return "FAILED_PRECONDITION";
    case grpc::StatusCode::UNAVAILABLE:
      return "UNAVAILABLE";
    case grpc::StatusCode::UNAUTHENTICATED:
      return "UNAUTHENTICATED";
    default:
      return "ERROR";
  }
}

}  // namespace

std::string Describe(const ErrorDetails& error) {
  std::string out = std::string(CodeName(error.code)) + ": " + error.message;
  if (error.bad_request) {
    for (const auto& v : error.bad_request->field_violations()) {
      out += "; " + v.field() + ": " + v.description();
    }
  }
  if (error.error_info) {
    out += "; reason " + error.error_info->reason() + " (" + error.error_info->domain() + ")";
  }
  return out;
}

std::string DescribeItem(genesis::catalog::v1::CatalogService::StubInterface& catalog,
                         const std::string& name) {
  genesis::catalog::v1::GetItemRequest request;
  request.set_name(name);
  genesis::catalog::v1::Item item;
  auto context = NewContext(std::chrono::seconds(5), "example-get-item");
  grpc::Status status = catalog.GetItem(context.get(), request, &item);
  if (!status.ok()) return Describe(DecodeError(status));
  return item.name() + " \"" + item.title() + "\" (" + item.type() + ")";
}

}  // namespace example
