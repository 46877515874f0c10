// Resource names of the bot manager's API ("bots/{bot}",
// "bots/{bot}/conversations/{id}", ...) and the ids in them, checked the same
// way by every component. Errors are INVALID_ARGUMENT with a field violation
// on the field that carried the name.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace genesis::bot {

// 1-63 lower-case letters, digits and '-', starting with a letter, not ending with '-'.
[[nodiscard]] bool ValidBotId(std::string_view id);

// Splits "bots/{bot}" (collection null) or "bots/{bot}/{collection}/{id}"
// into its parts ({"bots", bot} or {"bots", bot, collection, id}).
[[nodiscard]] absl::StatusOr<std::vector<std::string>> SplitName(const std::string& name,
                                                                 const char* field,
                                                                 const char* collection);

// A non-negative decimal integer.
[[nodiscard]] absl::StatusOr<int64_t> ParseNonNegative(const std::string& s, const char* field);

// The conversation id of "bots/{bot}/conversations/{id}" split by SplitName.
[[nodiscard]] absl::StatusOr<int64_t> ConversationIdOf(const std::vector<std::string>& parts,
                                                       const char* field);

}  // namespace genesis::bot
