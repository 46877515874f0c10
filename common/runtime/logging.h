// Logging: one named spdlog logger per component, text or JSON lines on
// stderr, and the current request id on every line.
//
// The request id lives in a thread-local set by RequestIdScope for the
// duration of a call's work (see rpc.h); log lines outside a call show "-".
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <spdlog/spdlog.h>

#include "absl/strings/string_view.h"

// Debian's abseil has its own string_view (not std's): let fmt print it.
template <>
struct fmt::formatter<absl::string_view> : fmt::formatter<std::string_view> {
  template <typename FormatContext>
  auto format(absl::string_view s, FormatContext& ctx) const {
    return fmt::formatter<std::string_view>::format(std::string_view(s.data(), s.size()), ctx);
  }
};

namespace genesis {

enum class LogFormat { kText, kJson };

// Configures the process-wide format and level ("trace".."off"). Call once
// from main() before creating loggers. Returns false on an unknown level.
bool InitLogging(LogFormat format, const std::string& level);

// The logger named `component`, created on first use (thread-safe).
std::shared_ptr<spdlog::logger> Logger(const std::string& component);

// The request id of the call this thread is working on, or "" outside a call.
std::string_view CurrentRequestId();

// Sets the current request id for this thread until destroyed (restoring the
// previous one). Not copyable.
class RequestIdScope {
 public:
  explicit RequestIdScope(std::string request_id);
  ~RequestIdScope();
  RequestIdScope(const RequestIdScope&) = delete;
  RequestIdScope& operator=(const RequestIdScope&) = delete;

 private:
  std::string previous_;
};

// A fresh random request id (16 hex digits).
std::string NewRequestId();

// Keeps the first and last characters of personal data (phone numbers,
// e-mail addresses, message text) for logs: "+55*******21".
std::string MaskForLog(std::string_view value);

}  // namespace genesis
