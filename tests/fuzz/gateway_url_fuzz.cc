// The gateway's request-target handling (gateway/url.h): SplitTarget,
// TargetProblem, PercentDecode, ParseQuery and IsValidUtf8 on any bytes.
// Invariants: IsValidUtf8 agrees with an independent validator; a target
// without a problem has a path and query that decode to valid UTF-8; a
// decoded value re-encoded decodes to itself.
#include <cstdint>
#include <string>
#include <string_view>

#include "gateway/http/url.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

using namespace genesis::gateway;

std::string Encode(std::string_view raw) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : raw) {
    out += '%';
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  FUZZ_CHECK(IsValidUtf8(in) == genesis::fuzz::ReferenceUtf8(in));

  auto [path, query] = SplitTarget(in);
  FUZZ_CHECK(path.size() + query.size() <= in.size());
  FUZZ_CHECK(path.data() == in.data());
  const std::string problem = TargetProblem(in);
  if (problem.empty()) {
    auto decoded = PercentDecode(path, false, true);
    FUZZ_CHECK(decoded.has_value());
    FUZZ_CHECK(genesis::fuzz::ReferenceUtf8(*decoded));
    FUZZ_CHECK(decoded->find('\0') == std::string::npos);
    auto params = ParseQuery(query);
    FUZZ_CHECK(params.has_value());
    for (const auto& [key, value] : *params) {
      FUZZ_CHECK(genesis::fuzz::ReferenceUtf8(key) && genesis::fuzz::ReferenceUtf8(value));
    }
  }

  for (bool plus : {false, true}) {
    auto decoded = PercentDecode(in, plus);
    if (decoded) {
      FUZZ_CHECK(decoded->size() <= in.size());
      auto again = PercentDecode(Encode(*decoded), plus);
      FUZZ_CHECK(again.has_value() && *again == *decoded);
    }
  }
  if (auto kept = PercentDecode(in, false, true); kept) {
    FUZZ_CHECK(kept->size() <= in.size());
  }
  (void)ParseQuery(in);
  return 0;
}
