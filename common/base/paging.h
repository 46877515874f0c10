// List paging shared by the services (AIP-158): page sizes and opaque page
// tokens. A token is base64url("<kind>|<scope>|<position>"): `kind` names the
// list, `scope` ties the token to the query that produced it (a parent, or a
// fingerprint of the filters), `position` is where the next page starts.
// Errors are INVALID_ARGUMENT with a field violation on `page_token` or the
// page size field, so callers see which field to fix.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace genesis {

// One page of a list: the values and the token of the next page (empty on the last).
template <typename T>
struct Page {
  std::vector<T> values;
  std::string next_page_token;  // empty on the last page
};

[[nodiscard]] std::string EncodePageToken(absl::string_view kind, absl::string_view scope,
                                          absl::string_view position);

// The position of a token EncodePageToken(kind, scope, …) made. A token of
// another list, or garbage: "is not a token this service issued". A token of
// the same list for another scope: `scope_mismatch` when given (e.g. "belongs
// to a different query; …"), else the same message as garbage.
[[nodiscard]] absl::StatusOr<std::string> DecodePageToken(absl::string_view token,
                                                          absl::string_view kind,
                                                          absl::string_view scope,
                                                          absl::string_view scope_mismatch = {});

// requested 0 -> `def`; above `max` -> `max`; negative -> INVALID_ARGUMENT on `field`.
[[nodiscard]] absl::StatusOr<int> PageSize(int requested, int def, int max,
                                           absl::string_view field = "page_size");

}  // namespace genesis
