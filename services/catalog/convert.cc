#include "services/catalog/convert.h"

#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace genesis::catalog {
namespace {

using google::protobuf::Struct;
using google::protobuf::Value;

void SetTime(absl::Time t, google::protobuf::Timestamp* out) {
  const int64_t micros = absl::ToUnixMicros(t);
  out->set_seconds(micros / 1000000 - (micros % 1000000 < 0 ? 1 : 0));
  int64_t rem = micros % 1000000;
  if (rem < 0) rem += 1000000;
  out->set_nanos(static_cast<int32_t>(rem * 1000));
}

absl::Time GetTime(const google::protobuf::Timestamp& t) {
  return absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
}

void JsonToValue(const nlohmann::json& j, Value* out) {
  switch (j.type()) {
    case nlohmann::json::value_t::null:
      out->set_null_value(google::protobuf::NULL_VALUE);
      break;
    case nlohmann::json::value_t::boolean:
      out->set_bool_value(j.get<bool>());
      break;
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned:
    case nlohmann::json::value_t::number_float:
      out->set_number_value(j.get<double>());
      break;
    case nlohmann::json::value_t::string:
      out->set_string_value(j.get<std::string>());
      break;
    case nlohmann::json::value_t::array:
      for (const auto& e : j) JsonToValue(e, out->mutable_list_value()->add_values());
      break;
    case nlohmann::json::value_t::object:
      for (const auto& [k, v] : j.items()) {
        JsonToValue(v, &(*out->mutable_struct_value()->mutable_fields())[k]);
      }
      break;
    default:
      out->set_null_value(google::protobuf::NULL_VALUE);
      break;
  }
}

nlohmann::json ValueToJson(const Value& v) {
  switch (v.kind_case()) {
    case Value::kBoolValue:
      return v.bool_value();
    case Value::kNumberValue:
      return v.number_value();
    case Value::kStringValue:
      return v.string_value();
    case Value::kListValue: {
      nlohmann::json arr = nlohmann::json::array();
      for (const auto& e : v.list_value().values()) arr.push_back(ValueToJson(e));
      return arr;
    }
    case Value::kStructValue: {
      nlohmann::json obj = nlohmann::json::object();
      for (const auto& [k, e] : v.struct_value().fields()) obj[k] = ValueToJson(e);
      return obj;
    }
    default:
      return nullptr;
  }
}

AttributeKind KindFromProto(v1::AttributeKind k) {
  switch (k) {
    case v1::ATTRIBUTE_KIND_STRING:
      return AttributeKind::kString;
    case v1::ATTRIBUTE_KIND_NUMBER:
      return AttributeKind::kNumber;
    case v1::ATTRIBUTE_KIND_BOOL:
      return AttributeKind::kBool;
    case v1::ATTRIBUTE_KIND_STRING_LIST:
      return AttributeKind::kStringList;
    case v1::ATTRIBUTE_KIND_TIMESTAMP:
      return AttributeKind::kTimestamp;
    default:
      return AttributeKind::kUnspecified;
  }
}

v1::AttributeKind KindToProto(AttributeKind k) {
  switch (k) {
    case AttributeKind::kString:
      return v1::ATTRIBUTE_KIND_STRING;
    case AttributeKind::kNumber:
      return v1::ATTRIBUTE_KIND_NUMBER;
    case AttributeKind::kBool:
      return v1::ATTRIBUTE_KIND_BOOL;
    case AttributeKind::kStringList:
      return v1::ATTRIBUTE_KIND_STRING_LIST;
    case AttributeKind::kTimestamp:
      return v1::ATTRIBUTE_KIND_TIMESTAMP;
    default:
      return v1::ATTRIBUTE_KIND_UNSPECIFIED;
  }
}

}  // namespace

v1::ItemType ToProto(const ItemType& type) {
  v1::ItemType out;
  out.set_name(absl::StrCat("types/", type.id));
  out.set_display_name(type.display_name);
  for (const auto& a : type.attributes) {
    auto* d = out.add_attributes();
    d->set_name(a.name);
    d->set_kind(KindToProto(a.kind));
    d->set_required(a.required);
    d->set_description(a.description);
  }
  SetTime(type.create_time, out.mutable_create_time());
  SetTime(type.update_time, out.mutable_update_time());
  out.set_etag(absl::StrCat(type.version));
  return out;
}

v1::Item ToProto(const Item& item, absl::Duration purge_window) {
  v1::Item out;
  out.set_name(absl::StrCat("items/", item.id));
  out.set_type(absl::StrCat("types/", item.type_id));
  out.set_title(item.title);
  out.set_body(item.body);
  auto* fields = out.mutable_attributes()->mutable_fields();
  for (const auto& [k, v] : item.attributes.items()) JsonToValue(v, &(*fields)[k]);
  for (const auto& [k, v] : item.labels) (*out.mutable_labels())[k] = v;
  SetTime(item.create_time, out.mutable_create_time());
  SetTime(item.update_time, out.mutable_update_time());
  if (item.delete_time) {
    SetTime(*item.delete_time, out.mutable_delete_time());
    SetTime(*item.delete_time + purge_window, out.mutable_purge_time());
  }
  out.set_etag(absl::StrCat(item.version));
  return out;
}

ItemType FromProto(const v1::ItemType& type) {
  ItemType out;
  out.display_name = type.display_name();
  for (const auto& d : type.attributes()) {
    out.attributes.push_back({d.name(), KindFromProto(d.kind()), d.required(), d.description()});
  }
  return out;
}

Item FromProto(const v1::Item& item) {
  Item out;
  out.type_id = item.type();
  out.title = item.title();
  out.body = item.body();
  for (const auto& [k, v] : item.attributes().fields()) out.attributes[k] = ValueToJson(v);
  for (const auto& [k, v] : item.labels()) out.labels[k] = v;
  return out;
}

absl::StatusOr<Item> ItemFromProtoOutput(const v1::Item& item) {
  Item out = FromProto(item);
  if (!absl::StartsWith(item.name(), "items/") || !absl::StartsWith(item.type(), "types/")) {
    return absl::DataLossError("cached item has malformed names");
  }
  out.id = item.name().substr(6);
  out.type_id = item.type().substr(6);
  out.create_time = GetTime(item.create_time());
  out.update_time = GetTime(item.update_time());
  if (item.has_delete_time()) out.delete_time = GetTime(item.delete_time());
  if (!absl::SimpleAtoi(item.etag(), &out.version)) {
    return absl::DataLossError("cached item has a malformed etag");
  }
  return out;
}

}  // namespace genesis::catalog
