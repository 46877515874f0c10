// JSON <-> protobuf transcoding for the gateway, driven by descriptors only.
//
// The descriptor pool is built from the build's FileDescriptorSet (so a new
// service or RPC needs no gateway code change) plus google.rpc.Status and its
// standard error details taken from the compiled-in descriptors, so error
// details render as JSON ("@type": "type.googleapis.com/google.rpc.BadRequest").
//
// JSON follows the proto3 mapping: input accepts proto and lowerCamel names,
// output uses lowerCamel names and 64-bit integers as strings.
// Thread-safe after Create(): every method is const.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/descriptor_database.h>
#include <google/protobuf/dynamic_message.h>

#include "absl/status/statusor.h"
#include "gateway/http_rules.h"
#include "google/rpc/status.pb.h"

namespace genesis::gateway {

struct TranscoderOptions {
  // When false (the default), an unknown query parameter is INVALID_ARGUMENT.
  bool ignore_unknown_query_parameters = false;
};

class Transcoder {
 public:
  // INVALID_ARGUMENT when the set does not form a consistent pool.
  static absl::StatusOr<std::unique_ptr<Transcoder>> Create(
      const google::protobuf::FileDescriptorSet& set, TranscoderOptions options = {});
  // Reads a serialized FileDescriptorSet (protoc --include_imports) from `path`.
  static absl::StatusOr<google::protobuf::FileDescriptorSet> ReadDescriptorSet(
      const std::string& path);

  // Every service declared in the set, in file order.
  [[nodiscard]] std::vector<const google::protobuf::ServiceDescriptor*> Services() const;
  [[nodiscard]] const google::protobuf::DescriptorPool& pool() const { return *pool_; }

  // The serialized request message of `route`'s method from the path
  // bindings, the query string (without '?') and the JSON body.
  // When the request is google.api.HttpBody (body "*") or the rule's `body`
  // names a google.api.HttpBody field, that message gets the exact body bytes
  // in `data` and `content_type` (the request's Content-Type) instead of JSON.
  // INVALID_ARGUMENT with a google.rpc.BadRequest naming the field or query
  // parameter at fault (see common/status.h).
  [[nodiscard]] absl::StatusOr<std::string> BuildRequest(const Route& route,
                                                         const std::vector<PathBinding>& bindings,
                                                         std::string_view query,
                                                         std::string_view body,
                                                         std::string_view content_type = "") const;

  // An HTTP response body and its Content-Type.
  struct Rendered {
    std::string content_type;
    std::string body;
  };
  // The HTTP body of a serialized unary response: JSON (ResponseToJson), or,
  // when the response (or its response_body field) is google.api.HttpBody,
  // its raw `data` with its `content_type` (application/octet-stream when
  // empty). INTERNAL as ResponseToJson.
  [[nodiscard]] absl::StatusOr<Rendered> RenderResponse(const Route& route,
                                                        std::string_view serialized) const;

  // The JSON of a serialized response of `route`'s method (its
  // response_body field only, when the rule names one). INTERNAL when the
  // bytes do not parse or hold an Any of an unknown type.
  [[nodiscard]] absl::StatusOr<std::string> ResponseToJson(const Route& route,
                                                           std::string_view serialized) const;

  // google.rpc.Status as JSON: {"code": 3, "message": "...", "details": [{"@type": ...}]}.
  // Details of types the pool does not know are left out.
  [[nodiscard]] std::string StatusToJson(const google::rpc::Status& status) const;

 private:
  Transcoder() = default;
  [[nodiscard]] std::unique_ptr<google::protobuf::Message> New(
      const google::protobuf::Descriptor* type) const;

  TranscoderOptions options_;
  std::vector<std::string> file_names_;
  std::unique_ptr<google::protobuf::SimpleDescriptorDatabase> database_;
  std::unique_ptr<google::protobuf::DescriptorPool> pool_;
  std::unique_ptr<google::protobuf::DynamicMessageFactory> factory_;
};

}  // namespace genesis::gateway
