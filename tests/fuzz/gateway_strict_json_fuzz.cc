// The gateway's strict JSON check of request bodies (gateway/strict_json.h).
// Invariants: a document it accepts is RFC 8259 JSON to an independent parser
// (nlohmann), and the re-serialised document (no duplicates by construction)
// is accepted again; a refusal is INVALID_ARGUMENT.
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "gateway/http/strict_json.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  std::string field;
  const absl::Status status = genesis::gateway::CheckStrictJson(in, &field);
  if (!status.ok()) {
    FUZZ_CHECK(status.code() == absl::StatusCode::kInvalidArgument);
    FUZZ_CHECK(!status.message().empty());
    return 0;
  }
  FUZZ_CHECK(field.empty());
  nlohmann::json doc = nlohmann::json::parse(in.begin(), in.end(), nullptr, false);
  FUZZ_CHECK(!doc.is_discarded());
  const std::string again = doc.dump();
  FUZZ_CHECK(genesis::gateway::CheckStrictJson(again).ok());
  return 0;
}
