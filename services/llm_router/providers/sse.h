// An incremental parser of Server-Sent Events (text/event-stream), as the
// three providers stream them: "event:" and "data:" lines, events separated
// by a blank line, LF or CRLF line ends, several data lines joined by "\n",
// comment lines (":") ignored. Bounded: an event over 8 MiB is an error.
// Not thread-safe (one per stream).
#pragma once

#include <functional>
#include <string>
#include <string_view>

namespace genesis::llmrouter {

class SseParser {
 public:
  // Called once per complete event; return false to stop parsing.
  using OnEvent = std::function<bool(std::string_view event, std::string_view data)>;
  explicit SseParser(OnEvent on_event) : on_event_(std::move(on_event)) {}

  // Feeds bytes as they arrive; false once the callback stopped or an
  // event grew past the bound.
  bool Feed(std::string_view bytes);
  // Dispatches an event left without its blank line at the end of the body.
  bool Finish();

 private:
  bool Line(std::string_view line);

  OnEvent on_event_;
  std::string pending_;  // an incomplete line
  std::string event_;
  std::string data_;
  bool has_data_ = false;
  bool stopped_ = false;
};

}  // namespace genesis::llmrouter
