// The router's Server-Sent Events parser (services/llm_router/providers/sse.h), as it
// reads providers' streaming responses. Invariant: the events do not depend
// on how the bytes were cut into reads — the stream fed whole and in chunks
// whose sizes come from the input's first byte give the same events. That
// byte picks the cut (1 is byte by byte, up to 64), so libFuzzer explores every
// cut of a stream while parsing it twice, not three times.
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "services/llm_router/providers/sse.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

using Events = std::vector<std::pair<std::string, std::string>>;

struct Result {
  Events events;
  bool fed = true;
  bool finished = true;
};

template <typename Cut>
Result Run(std::string_view stream, Cut cut) {
  Result r;
  genesis::llmrouter::SseParser parser([&](std::string_view event, std::string_view data) {
    r.events.emplace_back(std::string(event), std::string(data));
    return r.events.size() < 1000;  // a consumer that stops
  });
  size_t at = 0, i = 0;
  while (at < stream.size() && r.fed) {
    size_t n = std::min(cut(i++), stream.size() - at);
    r.fed = parser.Feed(stream.substr(at, n));
    at += n;
  }
  r.finished = r.fed && parser.Finish();
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t step = data[0] % 64 + 1;
  const std::string_view stream(reinterpret_cast<const char*>(data) + 1, size - 1);
  const Result whole = Run(stream, [&](size_t) { return stream.size() + 1; });
  const Result chunks = Run(stream, [&](size_t i) { return (i % 2 == 0) ? step : step / 2 + 1; });
  FUZZ_CHECK(whole.events == chunks.events);
  FUZZ_CHECK(whole.finished == chunks.finished);
  return 0;
}
