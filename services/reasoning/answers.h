// Parsing of a model's answer to the LLM assist prompts (router_suggestions.h):
// the JSON a model was asked for, found in untrusted text (alone, inside ```
// fences, or among prose) and filtered into suggestions. Pure functions,
// thread-safe; they need neither the network nor storage.
#pragma once

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/reasoning/suggestions.h"

namespace genesis::reasoning {

// The parsed answers. `text` is the model's whole answer: a JSON object
// (alone, inside ``` fences, or among prose) of the form
//   {"hypotheses": [{"statement": "...", "prior": 1.0, "explanation": "..."}]}
//   {"ratings": [{"hypothesis": "h1", "likelihood": 0.7, "explanation": "..."},
//                {"hypothesis": "h2", "rating": "INCONSISTENT_WEAK"}]}
// Entries that are not valid (no statement, one CreateHypothesis would refuse
// (over 16 KiB, NUL), a prior < 0, a statement the case already has or
// repeated; a hypothesis the case does not have or rated twice,
// a likelihood outside [0, 1], an unknown rating, both or neither of
// likelihood and rating) are left out and counted in `dropped`. At most `max`
// hypotheses are returned (the surplus is not counted). Explanations are
// storable text (NUL replaced by U+FFFD) of at most 4 KiB, plus "…" when cut.
// UNAVAILABLE, with a message that does not quote the text, when the text
// holds no such JSON object.
[[nodiscard]] absl::StatusOr<HypothesisSuggestions> ParseHypothesisAnswer(absl::string_view text,
                                                                          const Case& c, int max);
[[nodiscard]] absl::StatusOr<RatingSuggestions> ParseRatingAnswer(absl::string_view text,
                                                                  const Case& c);

}  // namespace genesis::reasoning
