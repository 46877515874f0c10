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

#include <map>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/descriptor_database.h>
#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/type.pb.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/type_resolver.h>

#include "absl/status/statusor.h"
#include "gateway/routing/http_rules.h"
#include "google/rpc/status.pb.h"

namespace genesis::gateway {

struct TranscoderOptions {
  // When false (the default), an unknown query parameter is INVALID_ARGUMENT.
  bool ignore_unknown_query_parameters = false;
  // The longest value of one path variable or query parameter (decoded);
  // longer is INVALID_ARGUMENT naming the field. Ids and filters fit; a
  // value this long would otherwise travel into backend errors and metadata.
  size_t max_parameter_bytes = 1024;
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
  // parameter at fault (see common/base/status.h).
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
  // JSON of the serialized message of `type` through the cached resolver
  // (what util::MessageToJsonString does, without a new resolver, a parse
  // and a re-serialization per call).
  [[nodiscard]] google::protobuf::util::Status BinaryToJson(
      const google::protobuf::Descriptor* type, std::string_view serialized,
      const google::protobuf::util::JsonPrintOptions& options, std::string* json) const;
  // util::JsonStringToMessage through the cached resolver.
  [[nodiscard]] google::protobuf::util::Status JsonToMessage(
      std::string_view json, google::protobuf::Message* message,
      const google::protobuf::util::JsonParseOptions& options) const;

  // Resolves type URLs from the pool once and keeps the google.protobuf.Type
  // results (the JSON converters ask for them on every call). Thread-safe.
  class CachingTypeResolver : public google::protobuf::util::TypeResolver {
   public:
    explicit CachingTypeResolver(const google::protobuf::DescriptorPool* pool);
    google::protobuf::util::Status ResolveMessageType(const std::string& type_url,
                                                      google::protobuf::Type* type) override;
    google::protobuf::util::Status ResolveEnumType(const std::string& type_url,
                                                   google::protobuf::Enum* enum_type) override;

   private:
    std::unique_ptr<google::protobuf::util::TypeResolver> inner_;
    std::shared_mutex mu_;
    std::map<std::string, google::protobuf::Type, std::less<>> types_;  // guarded by mu_
    std::map<std::string, google::protobuf::Enum, std::less<>> enums_;  // guarded by mu_
  };

  TranscoderOptions options_;
  std::vector<std::string> file_names_;
  std::unique_ptr<google::protobuf::SimpleDescriptorDatabase> database_;
  std::unique_ptr<google::protobuf::DescriptorPool> pool_;
  std::unique_ptr<google::protobuf::DynamicMessageFactory> factory_;
  std::unique_ptr<CachingTypeResolver> resolver_;
};

}  // namespace genesis::gateway
