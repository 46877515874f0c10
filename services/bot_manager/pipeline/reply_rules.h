// The rules a worker applies to a contact's message before and after the
// model answers: pure functions, tested without a store.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "services/bot_manager/model.h"

namespace genesis::bot {

// True for texts that ask for a person ("falar com um atendente", "human", ...).
bool IsHandoffRequest(std::string_view text);
// The model's answer asks for a human when it carries the marker [HANDOFF].
bool IsLowConfidence(std::string_view answer);
// The most recent messages that fit both limits, oldest first (the newest is always kept).
std::vector<Message> TrimContext(std::vector<Message> messages, int max_messages, size_t max_bytes);

}  // namespace genesis::bot
