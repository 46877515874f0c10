// Input rules of the Catalog, as plain functions over domain types. Each adds
// field violations (proto field paths, e.g. "item.attributes.price") to a
// FieldViolations; none touches storage.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include "absl/strings/string_view.h"

#include "common/base/status.h"
#include "services/catalog/model.h"

namespace genesis::catalog {

inline constexpr absl::string_view kTypePrefix = "types/";
inline constexpr absl::string_view kItemPrefix = "items/";

// "types/lead" -> "lead" (also accepts bare "lead" when `allow_bare`).
std::optional<std::string> ParseTypeName(absl::string_view name, bool allow_bare);
// "items/abc" -> "abc".
std::optional<std::string> ParseItemName(absl::string_view name);

bool ValidTypeId(absl::string_view id);
bool ValidItemId(absl::string_view id);

// Checks id, display name and attribute definitions of a type.
void ValidateItemType(const std::string& id, const ItemType& type, absl::string_view prefix,
                      FieldViolations* violations);

// Checks what does not depend on the item's type: title, body, labels, and
// that attributes is an object (so a request with a missing or unknown type
// still hears about every other problem).
void ValidateItemFields(const Item& item, absl::string_view prefix, FieldViolations* violations);

// Drops null attributes; checks attributes against `type` (unknown, wrong
// kind, missing required).
void ValidateItemAttributes(Item* item, const ItemType& type, absl::string_view prefix,
                            FieldViolations* violations);

// ValidateItemFields and ValidateItemAttributes.
void ValidateItem(Item* item, const ItemType& type, absl::string_view prefix,
                  FieldViolations* violations);

// Bytes an item takes (title, body, attributes JSON, labels).
size_t ItemSize(const Item& item);

// True when items valid under `before` stay valid under `after`: existing
// definitions unchanged (descriptions aside) and additions optional.
bool CompatibleAttributeChange(const ItemType& before, const ItemType& after);

}  // namespace genesis::catalog
