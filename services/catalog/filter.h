// Parses list/search filters, a small subset of https://google.aip.dev/160:
//
//   filter     := condition { "AND" condition }
//   condition  := field op value | field ":" value | field ":" "*"
//   field      := ("attributes" | "labels") "." key
//   op         := "=" | "!=" | "<" | "<=" | ">" | ">="
//   value      := "quoted string" | number | true | false | bare_word
//
// `labels.stage:*` means the label is set; `attributes.tags:"vip"` means the
// string list contains "vip". Labels compare as strings only.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>
#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"
#include "services/catalog/model.h"

namespace genesis::catalog {

// INVALID_ARGUMENT naming `field_name` (e.g. "filter") and the position of the problem.
absl::StatusOr<std::vector<Condition>> ParseFilter(absl::string_view filter,
                                                   absl::string_view field_name = "filter");

// Whether an item's attributes and labels satisfy every condition, with the
// meaning PgCatalogStore gives them in SQL (jsonb containment for `=`, `!=`
// and `:`; `<`... compare numbers with numbers and strings with strings, and
// are false for a missing key or a value of another kind). Used where the
// filter is evaluated outside PostgreSQL (the search index).
[[nodiscard]] bool ItemMatchesFilter(const nlohmann::json& attributes,
                                     const std::map<std::string, std::string>& labels,
                                     const std::vector<Condition>& filter);

}  // namespace genesis::catalog
