#include "services/bot_manager/resource_names.h"

#include <charconv>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/base/status.h"
#include "common/base/text.h"

namespace genesis::bot {

bool ValidBotId(std::string_view id) {
  if (id.empty() || id.size() > 63) return false;
  if (!absl::ascii_islower(id[0])) return false;
  for (char c : id) {
    if (!absl::ascii_islower(c) && !absl::ascii_isdigit(c) && c != '-') return false;
  }
  return id.back() != '-';
}

absl::StatusOr<std::vector<std::string>> SplitName(const std::string& name, const char* field,
                                                   const char* collection) {
  std::vector<std::string> parts = absl::StrSplit(name, '/');
  const bool nested = collection != nullptr;
  const std::string pattern =
      nested ? absl::StrCat("bots/{bot}/", collection, "/{id}") : "bots/{bot}";
  if (name.empty()) return InvalidField(field, absl::StrCat("required (", pattern, ")"));
  if (std::string problem = StorableTextProblem(name); !problem.empty()) {
    return InvalidField(field, problem);
  }
  if (parts.size() != (nested ? 4u : 2u) || parts[0] != "bots" ||
      (nested && parts[2] != collection) || parts.back().empty()) {
    return InvalidField(field, absl::StrCat("'", name, "' is not of the form ", pattern));
  }
  if (!ValidBotId(parts[1])) {
    return InvalidField(field, absl::StrCat("'", parts[1], "' is not a valid bot id"));
  }
  return parts;
}

absl::StatusOr<int64_t> ParseNonNegative(const std::string& s, const char* field) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size() || v < 0) {
    return InvalidField(field, absl::StrCat("'", s, "' is not valid here"));
  }
  return v;
}

absl::StatusOr<int64_t> ConversationIdOf(const std::vector<std::string>& parts, const char* field) {
  auto id = ParseNonNegative(parts[3], field);
  if (!id.ok()) {
    return InvalidField(field, absl::StrCat("'", parts[3], "' is not a conversation id"));
  }
  return id;
}

}  // namespace genesis::bot
