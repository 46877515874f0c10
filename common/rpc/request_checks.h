// Checks every request gets at the edge, whatever its method, before any
// work (RpcDispatcher, ServerStreamDispatcher, and each message of a
// BidiCall): today, that every enum field holds a value its enum declares.
// Proto3 enums are open: a client may send 99 for `channel`, and the field
// keeps 99, which code reading it would take for some default. Each such
// field is a violation naming its path ("bot.channel",
// "messages[1].role"), all of them in one INVALID_ARGUMENT with a
// google.rpc.BadRequest.
#pragma once

#include <google/protobuf/message.h>

#include "absl/status/status.h"
#include "common/base/status.h"

namespace genesis {

// Adds a violation for every set enum field of `message` (nested messages,
// repeated fields and map values included) whose value its enum does not
// declare; `prefix` is prepended to the paths ("" at the top).
void CheckEnumValues(const google::protobuf::Message& message, const std::string& prefix,
                     FieldViolations* violations);

// INVALID_ARGUMENT listing every violation of CheckEnumValues, or OK.
absl::Status CheckRequest(const google::protobuf::Message& request);

}  // namespace genesis
