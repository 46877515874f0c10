// Field checks for the Voice RPCs: every problem becomes a field violation,
// and all of them go back at once as INVALID_ARGUMENT with a
// google.rpc.BadRequest (common/base/status.h). Pure functions.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "common/base/status.h"
#include "services/voice/voice.h"

namespace genesis::voice {

// `language` is empty or a BCP-47-like tag (letters, digits, '-', '_'; up to 35).
void CheckLanguage(const std::string& field, const std::string& language, FieldViolations* v);
// Text to speak: 1 to max_chars characters (UTF-8 code points), valid UTF-8.
void CheckText(const std::string& field, const std::string& text, size_t max_chars,
               FieldViolations* v);
// Output rate: 0 or 8000-48000.
void CheckOutputFormat(const std::string& field, const OutputFormat& format, FieldViolations* v);
// At most one of phrases and grammar; phrases 1-200 characters, at most 500.
void CheckCommandMode(const std::vector<std::string>& phrases, const std::string& grammar,
                      FieldViolations* v);

[[nodiscard]] absl::Status ValidateSpeak(const SpeakParams& params, size_t max_chars);
[[nodiscard]] absl::Status ValidateListen(const ListenParams& params);

}  // namespace genesis::voice
