// The Catalog's domain types: plain C++, no protobuf or gRPC.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/time/time.h"

namespace genesis::catalog {

enum class AttributeKind { kUnspecified, kString, kNumber, kBool, kStringList, kTimestamp };

struct AttributeDef {
  std::string name;
  AttributeKind kind = AttributeKind::kUnspecified;
  bool required = false;
  std::string description;
  bool operator==(const AttributeDef&) const = default;
};

struct ItemType {
  std::string id;  // "lead"; the resource name is "types/lead"
  std::string display_name;
  std::vector<AttributeDef> attributes;
  int64_t version = 0;  // bumps on every update; the etag
  absl::Time create_time;
  absl::Time update_time;
};

struct Item {
  std::string id;       // the resource name is "items/{id}"
  std::string type_id;  // "lead"
  std::string title;
  std::string body;
  nlohmann::json attributes = nlohmann::json::object();
  std::map<std::string, std::string> labels;
  int64_t version = 0;  // bumps on every update; the etag
  absl::Time create_time;
  absl::Time update_time;
  std::optional<absl::Time> delete_time;
  // Set by the writes that return an item (create, update, delete, undelete):
  // where the change stands in the search index's change log (the writing
  // transaction's id); the index holds the change once it has applied past it.
  // 0 otherwise. Never sent to clients.
  int64_t index_position = 0;
};

// One condition of a list/search filter (see filter.h).
struct Condition {
  enum class Target { kAttribute, kLabel };
  enum class Op { kEq, kNe, kLt, kLe, kGt, kGe, kHas };
  Target target = Target::kAttribute;
  std::string key;
  Op op = Op::kEq;
  // The value compared with; for kHas, std::monostate means "has the key" (`:*`).
  std::variant<std::monostate, std::string, double, bool> value;
};

}  // namespace genesis::catalog
