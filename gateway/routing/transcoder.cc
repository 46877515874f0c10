#include "gateway/routing/transcoder.h"

#include <fstream>
#include <set>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/type_resolver_util.h>
#include <google/protobuf/wire_format_lite.h>
#include <nlohmann/json.hpp>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/base/status.h"
#include "gateway/http/strict_json.h"
#include "gateway/http/url.h"
#include "google/rpc/error_details.pb.h"

namespace genesis::gateway {

namespace pb = google::protobuf;
using FD = pb::FieldDescriptor;

namespace {

constexpr std::string_view kTypeUrlPrefix = "type.googleapis.com";

std::string TypeUrl(const pb::Descriptor* type) {
  return absl::StrCat(Absl(kTypeUrlPrefix), "/", type->full_name());
}

// True when `in` (up to its limit) is well-formed wire data of `type`: every
// tag and length is sound, recursively into message fields. The check a
// parse into a message would make, without building one.
bool WellFormed(pb::io::CodedInputStream* in, const pb::Descriptor* type, int depth) {
  using WFL = pb::internal::WireFormatLite;
  if (depth > 100) return false;
  while (in->BytesUntilLimit() != 0) {
    const uint32_t tag = in->ReadTag();
    if (tag == 0) return false;
    const FD* f = type->FindFieldByNumber(static_cast<int>(WFL::GetTagFieldNumber(tag)));
    if (f != nullptr && f->type() == FD::TYPE_MESSAGE &&
        WFL::GetTagWireType(tag) == WFL::WIRETYPE_LENGTH_DELIMITED) {
      uint32_t length;
      if (!in->ReadVarint32(&length)) return false;
      if (in->BytesUntilLimit() >= 0 && static_cast<int64_t>(length) > in->BytesUntilLimit()) {
        return false;
      }
      auto limit = in->PushLimit(static_cast<int>(length));
      if (!WellFormed(in, f->message_type(), depth + 1)) return false;
      in->PopLimit(limit);
    } else if (!WFL::SkipField(in, tag)) {
      return false;
    }
  }
  return true;
}

bool WellFormed(std::string_view bytes, const pb::Descriptor* type) {
  pb::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(bytes.data()),
                              static_cast<int>(bytes.size()));
  in.PushLimit(static_cast<int>(bytes.size()));
  return WellFormed(&in, type, 0);
}

// Files added from the compiled-in pool so errors render with their details.
constexpr const char* kErrorModelFiles[] = {"google/rpc/status.proto",
                                            "google/rpc/error_details.proto"};

// Adds `file` and its dependencies (from the generated pool) unless present.
void AddGeneratedFile(const pb::FileDescriptor* file, std::set<std::string>* present,
                      pb::SimpleDescriptorDatabase* db) {
  if (!present->insert(file->name()).second) return;
  for (int i = 0; i < file->dependency_count(); ++i) {
    AddGeneratedFile(file->dependency(i), present, db);
  }
  pb::FileDescriptorProto proto;
  file->CopyTo(&proto);
  db->Add(proto);
}

// Well-known message types whose JSON form is a single scalar, so a path
// variable or query parameter can set them ("?update_mask=title").
bool IsScalarLikeMessage(const pb::Descriptor* type) {
  static const std::set<std::string> kTypes = {
      "google.protobuf.FieldMask",   "google.protobuf.Timestamp",   "google.protobuf.Duration",
      "google.protobuf.DoubleValue", "google.protobuf.FloatValue",  "google.protobuf.Int64Value",
      "google.protobuf.UInt64Value", "google.protobuf.Int32Value",  "google.protobuf.UInt32Value",
      "google.protobuf.BoolValue",   "google.protobuf.StringValue", "google.protobuf.BytesValue"};
  return kTypes.count(type->full_name()) > 0;
}

// The JSON literal of a query/path value for a scalar-like message.
std::string JsonLiteralFor(const pb::Descriptor* type, const std::string& value) {
  const std::string& n = type->full_name();
  bool quoted = n == "google.protobuf.FieldMask" || n == "google.protobuf.Timestamp" ||
                n == "google.protobuf.Duration" || n == "google.protobuf.StringValue" ||
                n == "google.protobuf.BytesValue";
  return quoted ? nlohmann::json(value).dump() : value;
}

// Turns JsonStringToMessage's "(item.title): invalid value 5 ..." or
// "(item) foo: Cannot find field." into a field path and a description.
std::pair<std::string, std::string> SplitJsonError(const std::string& message,
                                                   const std::string& prefix) {
  std::string rest = message.substr(0, message.find('\n'));
  std::string inner;
  if (!rest.empty() && rest[0] == '(' && rest.find(')') != std::string::npos) {
    inner = rest.substr(1, rest.find(')') - 1);
    rest = rest.substr(rest.find(')') + 1);
  }
  size_t start = rest.find_first_not_of(": ");
  rest = start == std::string::npos ? "" : rest.substr(start);
  auto join = [](const std::string& a, const std::string& b) {
    return a.empty() ? b : (b.empty() ? a : absl::StrCat(a, ".", b));
  };
  const std::string kUnknown = ": Cannot find field.";
  if (rest.size() > kUnknown.size() &&
      rest.compare(rest.size() - kUnknown.size(), kUnknown.size(), kUnknown) == 0) {
    return {join(prefix, join(inner, rest.substr(0, rest.size() - kUnknown.size()))),
            "unknown field"};
  }
  if (!inner.empty()) return {join(prefix, inner), rest};
  return {prefix, absl::StrCat("malformed JSON: ", rest)};
}

// Sets (or, for a repeated field, appends) a scalar or enum field from text.
absl::Status SetFromString(pb::Message* msg, const FD* f, const std::string& value) {
  const pb::Reflection* r = msg->GetReflection();
  bool rep = f->is_repeated();
  auto bad = [&](std::string_view what) {
    return absl::InvalidArgumentError(absl::StrCat("invalid ", Absl(what), " '", value, "'"));
  };
  switch (f->cpp_type()) {
    case FD::CPPTYPE_STRING: {
      std::string v = value;
      if (f->type() == FD::TYPE_BYTES) {
        if (!absl::WebSafeBase64Unescape(value, &v) && !absl::Base64Unescape(value, &v)) {
          return bad("base64");
        }
      }
      rep ? r->AddString(msg, f, v) : r->SetString(msg, f, v);
      return absl::OkStatus();
    }
    case FD::CPPTYPE_INT32: {
      int32_t v;
      if (!absl::SimpleAtoi(value, &v)) return bad("int32");
      rep ? r->AddInt32(msg, f, v) : r->SetInt32(msg, f, v);
      return absl::OkStatus();
    }
    case FD::CPPTYPE_INT64: {
      int64_t v;
      if (!absl::SimpleAtoi(value, &v)) return bad("int64");
      rep ? r->AddInt64(msg, f, v) : r->SetInt64(msg, f, v);
      return absl::OkStatus();
    }
    case FD::CPPTYPE_UINT32: {
      uint32_t v;
      if (!absl::SimpleAtoi(value, &v)) return bad("uint32");
      rep ? r->AddUInt32(msg, f, v) : r->SetUInt32(msg, f, v);
      return absl::OkStatus();
    }
    case FD::CPPTYPE_UINT64: {
      uint64_t v;
      if (!absl::SimpleAtoi(value, &v)) return bad("uint64");
      rep ? r->AddUInt64(msg, f, v) : r->SetUInt64(msg, f, v);
      return absl::OkStatus();
    }
    case FD::CPPTYPE_DOUBLE: {
      double v;
      if (!absl::SimpleAtod(value, &v)) return bad("number");
      rep ? r->AddDouble(msg, f, v) : r->SetDouble(msg, f, v);
      return absl::OkStatus();
    }
    case FD::CPPTYPE_FLOAT: {
      float v;
      if (!absl::SimpleAtof(value, &v)) return bad("number");
      rep ? r->AddFloat(msg, f, v) : r->SetFloat(msg, f, v);
      return absl::OkStatus();
    }
    case FD::CPPTYPE_BOOL: {
      bool v;
      if (value == "true" || value == "1") {
        v = true;
      } else if (value == "false" || value == "0") {
        v = false;
      } else {
        return bad("bool (true or false)");
      }
      rep ? r->AddBool(msg, f, v) : r->SetBool(msg, f, v);
      return absl::OkStatus();
    }
    case FD::CPPTYPE_ENUM: {
      const pb::EnumValueDescriptor* e = f->enum_type()->FindValueByName(value);
      int number;
      if (e == nullptr && absl::SimpleAtoi(value, &number)) {
        e = f->enum_type()->FindValueByNumber(number);
      }
      if (e == nullptr) return bad(absl::StrCat(f->enum_type()->name(), " value"));
      rep ? r->AddEnum(msg, f, e) : r->SetEnum(msg, f, e);
      return absl::OkStatus();
    }
    case FD::CPPTYPE_MESSAGE: {
      if (rep || !IsScalarLikeMessage(f->message_type())) {
        return absl::InvalidArgumentError("cannot be set from a path or query parameter");
      }
      pb::Message* sub = r->MutableMessage(msg, f);
      auto st = pb::util::JsonStringToMessage(JsonLiteralFor(f->message_type(), value), sub);
      if (!st.ok()) return bad(f->message_type()->name());
      return absl::OkStatus();
    }
  }
  return bad("value");
}

// Sets the field at `path` (resolved) of `root`, creating parent messages.
absl::Status SetPath(pb::Message* root, const std::vector<const FD*>& path,
                     const std::string& value) {
  pb::Message* msg = root;
  for (size_t i = 0; i + 1 < path.size(); ++i) {
    msg = msg->GetReflection()->MutableMessage(msg, path[i]);
  }
  return SetFromString(msg, path.back(), value);
}

std::string ProtoPath(const std::vector<const FD*>& path) {
  std::vector<std::string> names;
  for (const auto* f : path) names.push_back(f->name());
  return absl::StrJoin(names, ".");
}

}  // namespace

absl::StatusOr<pb::FileDescriptorSet> Transcoder::ReadDescriptorSet(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open descriptor set ", path));
  pb::FileDescriptorSet set;
  if (!set.ParseFromIstream(&in)) {
    return absl::InvalidArgumentError(absl::StrCat(path, " is not a FileDescriptorSet"));
  }
  return set;
}

absl::StatusOr<std::unique_ptr<Transcoder>> Transcoder::Create(const pb::FileDescriptorSet& set,
                                                               TranscoderOptions options) {
  std::unique_ptr<Transcoder> t(new Transcoder());
  t->options_ = options;
  t->database_ = std::make_unique<pb::SimpleDescriptorDatabase>();
  std::set<std::string> present;
  for (const auto& file : set.file()) {
    if (!present.insert(file.name()).second) continue;
    t->database_->Add(file);
    t->file_names_.push_back(file.name());
  }
  for (const char* name : kErrorModelFiles) {
    const pb::FileDescriptor* file = pb::DescriptorPool::generated_pool()->FindFileByName(name);
    if (file != nullptr) AddGeneratedFile(file, &present, t->database_.get());
  }
  t->pool_ = std::make_unique<pb::DescriptorPool>(t->database_.get());
  for (const auto& name : t->file_names_) {
    if (t->pool_->FindFileByName(name) == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("descriptor set: cannot build ", name, " (missing or bad dependency?)"));
    }
  }
  t->factory_ = std::make_unique<pb::DynamicMessageFactory>(t->pool_.get());
  t->resolver_ = std::make_unique<CachingTypeResolver>(t->pool_.get());
  return t;
}

Transcoder::CachingTypeResolver::CachingTypeResolver(const pb::DescriptorPool* pool)
    : inner_(pb::util::NewTypeResolverForDescriptorPool(std::string(kTypeUrlPrefix), pool)) {}

pb::util::Status Transcoder::CachingTypeResolver::ResolveMessageType(const std::string& type_url,
                                                                     pb::Type* type) {
  {
    std::shared_lock lock(mu_);
    if (auto it = types_.find(type_url); it != types_.end()) {
      *type = it->second;
      return pb::util::Status();
    }
  }
  pb::Type resolved;
  if (auto st = inner_->ResolveMessageType(type_url, &resolved); !st.ok()) return st;
  std::unique_lock lock(mu_);
  *type = types_.emplace(type_url, std::move(resolved)).first->second;
  return pb::util::Status();
}

pb::util::Status Transcoder::CachingTypeResolver::ResolveEnumType(const std::string& type_url,
                                                                  pb::Enum* enum_type) {
  {
    std::shared_lock lock(mu_);
    if (auto it = enums_.find(type_url); it != enums_.end()) {
      *enum_type = it->second;
      return pb::util::Status();
    }
  }
  pb::Enum resolved;
  if (auto st = inner_->ResolveEnumType(type_url, &resolved); !st.ok()) return st;
  std::unique_lock lock(mu_);
  *enum_type = enums_.emplace(type_url, std::move(resolved)).first->second;
  return pb::util::Status();
}

pb::util::Status Transcoder::BinaryToJson(const pb::Descriptor* type, std::string_view serialized,
                                          const pb::util::JsonPrintOptions& options,
                                          std::string* json) const {
  pb::io::ArrayInputStream in(serialized.data(), static_cast<int>(serialized.size()));
  pb::io::StringOutputStream out(json);
  return pb::util::BinaryToJsonStream(resolver_.get(), TypeUrl(type), &in, &out, options);
}

pb::util::Status Transcoder::JsonToMessage(std::string_view json, pb::Message* message,
                                           const pb::util::JsonParseOptions& options) const {
  std::string binary;
  pb::util::Status st = pb::util::JsonToBinaryString(
      resolver_.get(), TypeUrl(message->GetDescriptor()), std::string(json), &binary, options);
  if (!st.ok()) return st;
  if (!message->ParseFromString(binary)) {
    return pb::util::InvalidArgumentError("JSON transcoder produced invalid protobuf output.");
  }
  return st;
}

std::vector<const pb::ServiceDescriptor*> Transcoder::Services() const {
  std::vector<const pb::ServiceDescriptor*> out;
  for (const auto& name : file_names_) {
    const pb::FileDescriptor* file = pool_->FindFileByName(name);
    for (int i = 0; file != nullptr && i < file->service_count(); ++i) {
      out.push_back(file->service(i));
    }
  }
  return out;
}

std::unique_ptr<pb::Message> Transcoder::New(const pb::Descriptor* type) const {
  return std::unique_ptr<pb::Message>(factory_->GetPrototype(type)->New());
}

absl::StatusOr<std::string> Transcoder::BuildRequest(const Route& route,
                                                     const std::vector<PathBinding>& bindings,
                                                     std::string_view query, std::string_view body,
                                                     std::string_view content_type) const {
  const pb::Descriptor* input = route.method->input_type();
  std::unique_ptr<pb::Message> request = New(input);
  pb::util::JsonParseOptions json;
  json.ignore_unknown_fields = false;

  // 1. The body: the whole request or one field, raw for google.api.HttpBody.
  const FD* body_field =
      route.body.empty() || route.body == "*" ? nullptr : input->FindFieldByName(route.body);
  pb::Message* raw_target = nullptr;
  if (route.body == "*" && IsHttpBody(input)) {
    raw_target = request.get();
  } else if (body_field != nullptr && !body_field->is_repeated() &&
             body_field->type() == FD::TYPE_MESSAGE && IsHttpBody(body_field->message_type())) {
    raw_target = request->GetReflection()->MutableMessage(request.get(), body_field);
  }
  if (raw_target != nullptr) {
    const pb::Descriptor* type = raw_target->GetDescriptor();
    const pb::Reflection* r = raw_target->GetReflection();
    if (const FD* f = type->FindFieldByName("content_type"); f != nullptr) {
      r->SetString(raw_target, f, std::string(content_type));
    }
    if (const FD* f = type->FindFieldByName("data"); f != nullptr) {
      r->SetString(raw_target, f, std::string(body));
    }
  } else if (!route.body.empty()) {
    std::string text = body.empty() ? std::string("{}") : std::string(body);
    if (route.body == "*") {
      if (auto st = JsonToMessage(text, request.get(), json); !st.ok()) {
        auto [field, why] = SplitJsonError(std::string(st.message()), "");
        return field.empty() ? absl::InvalidArgumentError(absl::StrCat("request body: ", why))
                             : InvalidField(field, why);
      }
    } else {
      const FD* f = input->FindFieldByName(route.body);
      pb::util::Status st;
      if (f->type() == FD::TYPE_MESSAGE && !f->is_repeated()) {
        st = JsonToMessage(text, request->GetReflection()->MutableMessage(request.get(), f), json);
      } else if (!nlohmann::json::accept(text)) {
        return InvalidField(f->name(), "malformed JSON");
      } else {
        st = JsonToMessage(absl::StrCat("{\"", f->name(), "\":", text, "}"), request.get(), json);
      }
      if (!st.ok()) {
        auto [field, why] =
            SplitJsonError(std::string(st.message()), f->is_repeated() ? "" : f->name());
        return InvalidField(field.empty() ? f->name() : field, why);
      }
    }
    // What protobuf's parser let through but others read differently (a
    // duplicate key: first or last wins; a trailing comma) is refused too.
    std::string strict_field;
    if (auto st = CheckStrictJson(text, &strict_field); !st.ok()) {
      std::string why = absl::StrCat("malformed JSON: ", st.message());
      if (route.body == "*") {
        return strict_field.empty()
                   ? absl::InvalidArgumentError(absl::StrCat("request body: ", why))
                   : InvalidField(strict_field, why);
      }
      return InvalidField(
          strict_field.empty() ? route.body : absl::StrCat(route.body, ".", strict_field), why);
    }
  }

  // 2. Path variables override the body.
  std::set<std::string> bound;  // proto paths set by the path or the body
  for (const auto& b : bindings) {
    auto path = ResolveFieldPath(input, b.field_path);
    if (!path.ok()) return absl::InternalError(std::string(path.status().message()));
    if (b.value.size() > options_.max_parameter_bytes) {
      return InvalidField(ProtoPath(*path),
                          absl::StrCat("longer than ", options_.max_parameter_bytes, " bytes"));
    }
    if (auto st = SetPath(request.get(), *path, b.value); !st.ok()) {
      return InvalidField(ProtoPath(*path), std::string(st.message()));
    }
    bound.insert(ProtoPath(*path));
  }

  // 3. Query parameters fill the remaining fields.
  auto params = ParseQuery(query);
  if (!params) return absl::InvalidArgumentError("malformed percent-encoding in the query string");
  FieldViolations violations;
  std::set<std::string> seen_singular;
  for (const auto& [key, value] : *params) {
    if (value.size() > options_.max_parameter_bytes || key.size() > options_.max_parameter_bytes) {
      violations.Add(key.substr(0, 128),
                     absl::StrCat("longer than ", options_.max_parameter_bytes, " bytes"));
      continue;
    }
    auto path = ResolveFieldPath(input, key);
    if (!path.ok() || route.body == "*") {
      if (!options_.ignore_unknown_query_parameters) {
        violations.Add(key, route.body == "*" ? "unknown query parameter (the body holds the "
                                                "whole request)"
                                              : "unknown query parameter");
      }
      continue;
    }
    std::string proto_path = ProtoPath(*path);
    if ((*path)[0]->name() == route.body) {
      violations.Add(key, "set by the request body, not a query parameter");
      continue;
    }
    bool clashes = false;
    for (const auto& b : bound) {
      if (b == proto_path || b.rfind(proto_path + ".", 0) == 0 ||
          proto_path.rfind(b + ".", 0) == 0) {
        clashes = true;
      }
    }
    if (clashes) {
      violations.Add(key, "set by the URL path, not a query parameter");
      continue;
    }
    if (!path->back()->is_repeated() && !seen_singular.insert(proto_path).second) {
      violations.Add(key, "given more than once for a non-repeated field");
      continue;
    }
    if (auto st = SetPath(request.get(), *path, value); !st.ok()) {
      violations.Add(key, std::string(st.message()));
    }
  }
  if (!violations.empty()) return violations.ToStatus();

  std::string out;
  if (!request->SerializeToString(&out)) return absl::InternalError("cannot serialize request");
  return out;
}

absl::StatusOr<std::string> Transcoder::ResponseToJson(const Route& route,
                                                       std::string_view serialized) const {
  const pb::Descriptor* output = route.method->output_type();
  pb::util::JsonPrintOptions print;
  print.preserve_proto_field_names = false;
  const FD* f =
      route.response_body.empty() ? nullptr : output->FindFieldByName(route.response_body);
  std::string json;
  if (f == nullptr) {
    // The common case: straight from the bytes, no message in between.
    if (WellFormed(serialized, output) && BinaryToJson(output, serialized, print, &json).ok()) {
      return json;
    }
    json.clear();
  }
  std::unique_ptr<pb::Message> response = New(output);
  if (!response->ParseFromArray(serialized.data(), static_cast<int>(serialized.size()))) {
    return absl::InternalError(
        absl::StrCat("backend returned bytes that are not a ", output->full_name()));
  }
  const pb::Message* what = response.get();
  if (f != nullptr && f->type() == FD::TYPE_MESSAGE && !f->is_repeated()) {
    what = &response->GetReflection()->GetMessage(*response, f);
  }
  if (auto st = BinaryToJson(what->GetDescriptor(), what->SerializeAsString(), print, &json);
      !st.ok()) {
    return absl::InternalError(
        absl::StrCat("cannot render response as JSON: ", std::string(st.message())));
  }
  if (f != nullptr && what == response.get()) {  // a repeated or scalar response_body
    auto parsed = nlohmann::json::parse(json, nullptr, false);
    auto it = parsed.find(f->json_name());
    json = it == parsed.end() ? (f->is_repeated() ? "[]" : "null") : it->dump();
  }
  return json;
}

absl::StatusOr<Transcoder::Rendered> Transcoder::RenderResponse(const Route& route,
                                                                std::string_view serialized) const {
  const pb::Descriptor* output = route.method->output_type();
  const FD* f =
      route.response_body.empty() ? nullptr : output->FindFieldByName(route.response_body);
  const bool whole = f == nullptr && IsHttpBody(output);
  const bool field = f != nullptr && !f->is_repeated() && f->type() == FD::TYPE_MESSAGE &&
                     IsHttpBody(f->message_type());
  if (!whole && !field) {
    auto json = ResponseToJson(route, serialized);
    if (!json.ok()) return json.status();
    return Rendered{"application/json", std::move(*json)};
  }
  std::unique_ptr<pb::Message> response = New(output);
  if (!response->ParseFromArray(serialized.data(), static_cast<int>(serialized.size()))) {
    return absl::InternalError(
        absl::StrCat("backend returned bytes that are not a ", output->full_name()));
  }
  const pb::Message& body = whole ? *response : response->GetReflection()->GetMessage(*response, f);
  const pb::Reflection* r = body.GetReflection();
  Rendered out;
  if (const FD* ct = body.GetDescriptor()->FindFieldByName("content_type"); ct != nullptr) {
    out.content_type = r->GetString(body, ct);
  }
  if (out.content_type.empty()) out.content_type = "application/octet-stream";
  if (const FD* data = body.GetDescriptor()->FindFieldByName("data"); data != nullptr) {
    out.body = r->GetString(body, data);
  }
  return out;
}

std::string Transcoder::StatusToJson(const google::rpc::Status& status) const {
  const pb::Descriptor* type = pool_->FindMessageTypeByName("google.rpc.Status");
  pb::util::JsonPrintOptions print;
  std::string json;
  if (type != nullptr) {
    google::rpc::Status known = status;
    known.clear_details();
    for (const auto& d : status.details()) {
      std::string_view url = d.type_url();
      std::string_view name = url.substr(url.rfind('/') + 1);
      if (pool_->FindMessageTypeByName(std::string(name)) != nullptr) *known.add_details() = d;
    }
    if (BinaryToJson(type, known.SerializeAsString(), print, &json).ok()) return json;
  }
  google::rpc::Status bare = status;
  bare.clear_details();
  json.clear();
  (void)pb::util::MessageToJsonString(bare, &json, print);
  return json;
}

}  // namespace genesis::gateway
