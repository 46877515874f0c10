// Input rules of the Reasoning service, as plain functions over domain types.
// Each adds field violations (proto field paths, e.g. "evidence.ratings[1].likelihood")
// to a FieldViolations; none touches storage.
#pragma once

#include <string>

#include "absl/strings/string_view.h"
#include "common/base/status.h"
#include "services/reasoning/model.h"

namespace genesis::reasoning {

// Required (or optional) text of at most `max` bytes without NUL.
void CheckText(absl::string_view field, const std::string& value, bool required, size_t max,
               FieldViolations* v);

// Question and owner required; context optional.
void ValidateCaseFields(const Case& c, absl::string_view prefix, size_t max_text,
                        FieldViolations* v);

// Statement required (unless none_of_these), prior >= 0 and finite.
void ValidateHypothesis(const Hypothesis& h, size_t max_text, FieldViolations* v);

// Description required, source a URI or "items/{id}", reliability in [0, 1],
// and every rating's hypothesis a distinct hypothesis of `c` (ids are
// resolved in place to bare ids), with a likelihood in [0, 1] or an ACH rating.
void ValidateEvidence(const Case& c, Evidence* e, size_t max_text, FieldViolations* v);

// A URI with a scheme ("https://...", "urn:...") or a catalog item name.
bool ValidSource(absl::string_view source);

}  // namespace genesis::reasoning
