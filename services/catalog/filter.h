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

#include <string_view>
#include <vector>
#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"
#include "services/catalog/model.h"

namespace genesis::catalog {

// INVALID_ARGUMENT naming `field_name` (e.g. "filter") and the position of the problem.
absl::StatusOr<std::vector<Condition>> ParseFilter(absl::string_view filter,
                                                   absl::string_view field_name = "filter");

}  // namespace genesis::catalog
