#include "services/catalog/validation.h"

#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "common/base/text.h"

namespace genesis::catalog {
namespace {

constexpr size_t kMaxTitleBytes = 2000;
constexpr size_t kMaxDisplayNameBytes = 200;
constexpr size_t kMaxDescriptionBytes = 2000;
constexpr size_t kMaxAttributeDefs = 100;
constexpr size_t kMaxLabels = 64;
constexpr size_t kMaxLabelValueBytes = 256;

bool Lower(char c) { return c >= 'a' && c <= 'z'; }
bool Digit(char c) { return c >= '0' && c <= '9'; }

bool ValidAttributeName(absl::string_view n) {
  if (n.empty() || n.size() > 63 || !Lower(n[0])) return false;
  for (char c : n) {
    if (!Lower(c) && !Digit(c) && c != '_') return false;
  }
  return true;
}

bool ValidLabelKey(absl::string_view k) {
  if (k.empty() || k.size() > 63 || !(Lower(k[0]) || Digit(k[0]))) return false;
  for (char c : k) {
    if (!Lower(c) && !Digit(c) && c != '_' && c != '-' && c != '.') return false;
  }
  return true;
}

const char* KindName(AttributeKind k) {
  switch (k) {
    case AttributeKind::kString:
      return "a string";
    case AttributeKind::kNumber:
      return "a number";
    case AttributeKind::kBool:
      return "a boolean";
    case AttributeKind::kStringList:
      return "a list of strings";
    case AttributeKind::kTimestamp:
      return "an RFC 3339 timestamp string";
    default:
      return "unspecified";
  }
}

bool JsonHasNul(const nlohmann::json& v) {
  if (v.is_string()) return !IsStorableText(v.get_ref<const std::string&>());
  if (v.is_array()) {
    for (const auto& e : v) {
      if (JsonHasNul(e)) return true;
    }
  }
  if (v.is_object()) {
    for (const auto& [k, e] : v.items()) {
      if (!IsStorableText(k) || JsonHasNul(e)) return true;
    }
  }
  return false;
}

std::string CheckKind(const nlohmann::json& v, AttributeKind kind) {
  bool ok = false;
  switch (kind) {
    case AttributeKind::kString:
      ok = v.is_string();
      break;
    case AttributeKind::kNumber:
      ok = v.is_number();
      break;
    case AttributeKind::kBool:
      ok = v.is_boolean();
      break;
    case AttributeKind::kStringList:
      ok = v.is_array();
      for (const auto& e : v) ok = ok && e.is_string();
      break;
    case AttributeKind::kTimestamp: {
      if (!v.is_string()) break;
      absl::Time t;
      std::string err;
      if (absl::ParseTime(absl::RFC3339_full, v.get<std::string>(), &t, &err)) return "";
      return "must be an RFC 3339 timestamp such as \"2026-01-31T12:00:00Z\"";
    }
    default:
      break;
  }
  return ok ? "" : absl::StrCat("must be ", KindName(kind));
}

}  // namespace

std::optional<std::string> ParseTypeName(absl::string_view name, bool allow_bare) {
  if (absl::StartsWith(name, kTypePrefix))
    name.remove_prefix(kTypePrefix.size());
  else if (!allow_bare)
    return std::nullopt;
  if (!ValidTypeId(name)) return std::nullopt;
  return std::string(name);
}

std::optional<std::string> ParseItemName(absl::string_view name) {
  if (!absl::StartsWith(name, kItemPrefix)) return std::nullopt;
  name.remove_prefix(kItemPrefix.size());
  if (!ValidItemId(name)) return std::nullopt;
  return std::string(name);
}

bool ValidTypeId(absl::string_view id) {
  if (id.empty() || id.size() > 63 || !Lower(id[0])) return false;
  for (char c : id) {
    if (!Lower(c) && !Digit(c) && c != '_' && c != '-') return false;
  }
  return true;
}

bool ValidItemId(absl::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    if (!Lower(c) && !Digit(c) && c != '-') return false;
  }
  return true;
}

void ValidateItemType(const std::string& id, const ItemType& type, absl::string_view prefix,
                      FieldViolations* v) {
  if (!ValidTypeId(id)) {
    v->Add("item_type_id",
           "must be 1-63 lower case letters, digits, '_' or '-', starting with a letter (e.g. "
           "\"lead\")");
  }
  const std::string p(prefix);
  if (type.display_name.size() > kMaxDisplayNameBytes) {
    v->Add(p + ".display_name", absl::StrCat("longer than ", kMaxDisplayNameBytes, " bytes"));
  } else if (!IsStorableText(type.display_name)) {
    v->Add(p + ".display_name", "must be valid UTF-8 without NUL characters");
  }
  if (type.attributes.size() > kMaxAttributeDefs) {
    v->Add(p + ".attributes", absl::StrCat("more than ", kMaxAttributeDefs, " attributes"));
  }
  std::set<std::string> seen;
  for (size_t i = 0; i < type.attributes.size(); ++i) {
    const auto& a = type.attributes[i];
    const std::string f = absl::StrCat(p, ".attributes[", i, "]");
    if (!ValidAttributeName(a.name)) {
      v->Add(f + ".name", "must be 1-63 lower case letters, digits or '_', starting with a letter");
    } else if (!seen.insert(a.name).second) {
      v->Add(f + ".name", "duplicate attribute name '" + a.name + "'");
    }
    if (a.kind == AttributeKind::kUnspecified) {
      v->Add(f + ".kind", "must be set (STRING, NUMBER, BOOL, STRING_LIST or TIMESTAMP)");
    }
    if (a.description.size() > kMaxDescriptionBytes || !IsStorableText(a.description)) {
      v->Add(f + ".description", absl::StrCat("must be at most ", kMaxDescriptionBytes,
                                              " bytes of valid UTF-8 without NUL characters"));
    }
  }
}

void ValidateItemFields(const Item& item_in, absl::string_view prefix, FieldViolations* v) {
  const Item* item = &item_in;
  const std::string p(prefix);
  if (item->title.empty()) {
    v->Add(p + ".title", "is required");
  } else if (item->title.size() > kMaxTitleBytes) {
    v->Add(p + ".title", absl::StrCat("longer than ", kMaxTitleBytes, " bytes"));
  } else if (!IsStorableText(item->title)) {
    v->Add(p + ".title", "must be valid UTF-8 without NUL characters");
  }
  if (!IsStorableText(item->body))
    v->Add(p + ".body", "must be valid UTF-8 without NUL characters");
  if (item->labels.size() > kMaxLabels) {
    v->Add(p + ".labels", absl::StrCat("more than ", kMaxLabels, " labels"));
  }
  for (const auto& [key, value] : item->labels) {
    if (!ValidLabelKey(key)) {
      v->Add(p + ".labels",
             "key '" + key + "' must be 1-63 lower case letters, digits, '_', '-' or '.'");
    } else if (value.size() > kMaxLabelValueBytes || !IsStorableText(value)) {
      v->Add(absl::StrCat(p, ".labels.", key),
             absl::StrCat("must be at most ", kMaxLabelValueBytes,
                          " bytes of valid UTF-8 without NUL characters"));
    }
  }
  if (!item->attributes.is_object()) v->Add(p + ".attributes", "must be an object");
}

void ValidateItemAttributes(Item* item, const ItemType& type, absl::string_view prefix,
                            FieldViolations* v) {
  const std::string p(prefix);
  if (!item->attributes.is_object()) return;  // ValidateItemFields says so
  // A null value means "not set".
  for (auto it = item->attributes.begin(); it != item->attributes.end();) {
    if (it->is_null())
      it = item->attributes.erase(it);
    else
      ++it;
  }
  std::vector<std::string> known;
  for (const auto& def : type.attributes) known.push_back(def.name);
  for (const auto& [key, value] : item->attributes.items()) {
    const std::string f = absl::StrCat(p, ".attributes.", key);
    const AttributeDef* def = nullptr;
    for (const auto& d : type.attributes) {
      if (d.name == key) def = &d;
    }
    if (def == nullptr) {
      v->Add(f, absl::StrCat("is not an attribute of type '", type.id, "' (its attributes: ",
                             known.empty() ? "none" : absl::StrJoin(known, ", "), ")"));
      continue;
    }
    if (std::string problem = CheckKind(value, def->kind); !problem.empty()) {
      v->Add(f, problem);
    } else if (JsonHasNul(value)) {
      v->Add(f, "must be valid UTF-8 without NUL characters");
    }
  }
  for (const auto& def : type.attributes) {
    if (def.required && !item->attributes.contains(def.name)) {
      v->Add(absl::StrCat(p, ".attributes.", def.name),
             absl::StrCat("is required by type '", type.id, "' (", KindName(def.kind), ")"));
    }
  }
}

void ValidateItem(Item* item, const ItemType& type, absl::string_view prefix, FieldViolations* v) {
  ValidateItemFields(*item, prefix, v);
  ValidateItemAttributes(item, type, prefix, v);
}

size_t ItemSize(const Item& item) {
  size_t n = item.title.size() + item.body.size() + item.attributes.dump().size();
  for (const auto& [k, v] : item.labels) n += k.size() + v.size();
  return n;
}

bool CompatibleAttributeChange(const ItemType& before, const ItemType& after) {
  for (const auto& old_def : before.attributes) {
    bool kept = false;
    for (const auto& new_def : after.attributes) {
      if (new_def.name == old_def.name) {
        // Relaxing required -> optional is fine; the reverse is not.
        kept = new_def.kind == old_def.kind && (old_def.required || !new_def.required);
      }
    }
    if (!kept) return false;
  }
  for (const auto& new_def : after.attributes) {
    bool existed = false;
    for (const auto& old_def : before.attributes) existed = existed || old_def.name == new_def.name;
    if (!existed && new_def.required) return false;
  }
  return true;
}

}  // namespace genesis::catalog
