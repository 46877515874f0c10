// google.api.http path templates (gateway/http_rules.h): the input is a
// template, a newline, and a request path. Invariants: a template that
// parses keeps its text; a match binds exactly the template's variables,
// each value valid for its kind (no '/' in a single-segment value unless
// percent-decoded from the path).
#include <cstdint>
#include <string>
#include <string_view>

#include "gateway/routing/http_rules.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const size_t nl = in.find('\n');
  const std::string_view text = in.substr(0, nl);
  const std::string_view path = nl == std::string_view::npos ? "" : in.substr(nl + 1);
  auto parsed = genesis::gateway::PathTemplate::Parse(text);
  if (!parsed.ok()) {
    FUZZ_CHECK(parsed.status().code() == absl::StatusCode::kInvalidArgument);
    return 0;
  }
  FUZZ_CHECK(parsed->text() == text);
  const auto fields = parsed->VariableFieldPaths();
  (void)parsed->Specificity();
  auto bindings = parsed->Match(path);
  if (bindings) {
    FUZZ_CHECK(bindings->size() == fields.size());
    for (size_t i = 0; i < fields.size(); ++i) {
      FUZZ_CHECK((*bindings)[i].field_path == fields[i]);
    }
  }
  // The template's own text, as a path, never crashes the matcher either.
  (void)parsed->Match(text);
  return 0;
}
