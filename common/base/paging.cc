#include "common/base/paging.h"

#include <algorithm>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/base/status.h"

namespace genesis {

std::string EncodePageToken(absl::string_view kind, absl::string_view scope,
                            absl::string_view position) {
  return absl::WebSafeBase64Escape(absl::StrCat(kind, "|", scope, "|", position));
}

absl::StatusOr<std::string> DecodePageToken(absl::string_view token, absl::string_view kind,
                                            absl::string_view scope,
                                            absl::string_view scope_mismatch) {
  constexpr absl::string_view kForeign = "is not a token this service issued for this list";
  std::string raw;
  if (!absl::WebSafeBase64Unescape(token, &raw))
    return InvalidField("page_token", std::string(kForeign));
  std::vector<std::string> parts = absl::StrSplit(raw, absl::MaxSplits('|', 2));
  if (parts.size() != 3 || parts[0] != kind)
    return InvalidField("page_token", std::string(kForeign));
  if (parts[1] != scope) {
    return InvalidField("page_token",
                        std::string(scope_mismatch.empty() ? kForeign : scope_mismatch));
  }
  return parts[2];
}

absl::StatusOr<int> PageSize(int requested, int def, int max, absl::string_view field) {
  if (requested < 0) return InvalidField(std::string(field), "must not be negative");
  if (requested == 0) return def;
  return std::min(requested, max);
}

}  // namespace genesis
