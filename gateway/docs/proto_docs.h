// What the descriptors say about themselves, for the documents the gateway
// generates from them (/openapi.json, the MCP tools' JSON Schemas): the
// leading proto comments (the descriptor set must be built with
// --include_source_info, as the build's is) and google.api.field_behavior.
// Pure, thread-safe.
#pragma once

#include <string>

#include <google/protobuf/descriptor.h>
#include <nlohmann/json.hpp>

#include "google/api/field_behavior.pb.h"

namespace genesis::gateway {

// The leading comment of a message, field, enum, service or method, each
// line trimmed ("" without source info).
std::string ProtoComment(const google::protobuf::Descriptor* d);
std::string ProtoComment(const google::protobuf::FieldDescriptor* d);
std::string ProtoComment(const google::protobuf::EnumDescriptor* d);
std::string ProtoComment(const google::protobuf::ServiceDescriptor* d);
std::string ProtoComment(const google::protobuf::MethodDescriptor* d);

// True when the field is annotated with `behavior` (https://google.aip.dev/203).
bool HasFieldBehavior(const google::protobuf::FieldDescriptor* f,
                      google::api::FieldBehavior behavior);

// What a field's leading comment says, for a document: the description, and
// the example of its `Example: <JSON value>` line (e.g. `Example: "Lead"`,
// `Example: 20`), which is not part of the description. An example that is
// not JSON is taken as a string; a number for a 64-bit integer becomes a
// string (proto3 JSON). IMMUTABLE fields say so in their description.
struct FieldDoc {
  std::string description;
  nlohmann::json example;  // null when the comment gives none
};
FieldDoc DocOf(const google::protobuf::FieldDescriptor* f);

}  // namespace genesis::gateway
