#include "services/llm_router/providers/sse.h"

namespace genesis::llmrouter {
namespace {
constexpr size_t kMaxEventBytes = 8u << 20;
}

bool SseParser::Line(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.empty()) {
    if (has_data_ && !on_event_(event_, data_)) stopped_ = true;
    event_.clear();
    data_.clear();
    has_data_ = false;
    return !stopped_;
  }
  if (line.front() == ':') return true;
  std::string_view field = line, value;
  if (size_t colon = line.find(':'); colon != std::string_view::npos) {
    field = line.substr(0, colon);
    value = line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  }
  if (field == "event") {
    event_.assign(value);
  } else if (field == "data") {
    if (has_data_) data_.push_back('\n');
    data_.append(value);
    has_data_ = true;
  }
  return data_.size() <= kMaxEventBytes;
}

bool SseParser::Feed(std::string_view bytes) {
  if (stopped_) return false;
  size_t start = 0;
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (bytes[i] != '\n') continue;
    bool ok;
    if (pending_.empty()) {
      ok = Line(bytes.substr(start, i - start));
    } else {
      pending_.append(bytes.substr(start, i - start));
      ok = Line(pending_);
      pending_.clear();
    }
    start = i + 1;
    if (!ok) {
      stopped_ = true;
      return false;
    }
  }
  pending_.append(bytes.substr(start));
  if (pending_.size() > kMaxEventBytes) stopped_ = true;
  return !stopped_;
}

bool SseParser::Finish() {
  if (stopped_) return false;
  if (!pending_.empty()) {
    std::string last = std::move(pending_);
    pending_.clear();
    if (!Line(last)) return false;
  }
  return Line("");
}

}  // namespace genesis::llmrouter
