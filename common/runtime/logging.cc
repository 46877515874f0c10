#include "common/runtime/logging.h"

#include <mutex>
#include <random>

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>

#include "absl/strings/str_format.h"

namespace genesis {
namespace {

thread_local std::string t_request_id;
std::mutex g_logger_mu;

class RequestIdFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg&, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    const std::string& id = t_request_id;
    if (id.empty()) {
      dest.push_back('-');
    } else {
      dest.append(id.data(), id.data() + id.size());
    }
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<RequestIdFlag>();
  }
};

void AppendJsonEscaped(std::string_view in, spdlog::memory_buf_t& dest) {
  for (char ch : in) {
    auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        dest.append(std::string_view("\\\""));
        break;
      case '\\':
        dest.append(std::string_view("\\\\"));
        break;
      case '\n':
        dest.append(std::string_view("\\n"));
        break;
      case '\r':
        dest.append(std::string_view("\\r"));
        break;
      case '\t':
        dest.append(std::string_view("\\t"));
        break;
      default:
        if (c < 0x20) {
          std::string esc = absl::StrFormat("\\u%04x", c);
          dest.append(esc.data(), esc.data() + esc.size());
        } else {
          dest.push_back(ch);
        }
    }
  }
}

// The message, escaped for a JSON string.
class JsonMessageFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    AppendJsonEscaped(std::string_view(msg.payload.data(), msg.payload.size()), dest);
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<JsonMessageFlag>();
  }
};

// The request id, escaped for a JSON string (ids come from callers).
class JsonRequestIdFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg&, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    AppendJsonEscaped(t_request_id, dest);
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<JsonRequestIdFlag>();
  }
};

}  // namespace

bool InitLogging(LogFormat format, const std::string& level) {
  auto lvl = spdlog::level::from_str(level);
  if (lvl == spdlog::level::off && level != "off") return false;
  auto formatter = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc);
  if (format == LogFormat::kJson) {
    formatter->add_flag<JsonMessageFlag>('*').add_flag<JsonRequestIdFlag>('Q').set_pattern(
        R"({"time":"%Y-%m-%dT%H:%M:%S.%fZ","level":"%l","logger":"%n","request_id":"%Q","msg":"%*"})");
  } else {
    formatter->add_flag<RequestIdFlag>('Q').set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %L %n [%Q] %v");
  }
  spdlog::set_formatter(std::move(formatter));
  spdlog::set_level(lvl);
  spdlog::flush_on(spdlog::level::warn);
  return true;
}

std::shared_ptr<spdlog::logger> Logger(const std::string& component) {
  std::lock_guard<std::mutex> lock(g_logger_mu);
  if (auto existing = spdlog::get(component)) return existing;
  return spdlog::stderr_logger_mt(component);
}

std::string_view CurrentRequestId() { return t_request_id; }

RequestIdScope::RequestIdScope(std::string request_id) : previous_(std::move(t_request_id)) {
  t_request_id = std::move(request_id);
}

RequestIdScope::~RequestIdScope() { t_request_id = std::move(previous_); }

std::string NewRequestId() {
  thread_local std::mt19937_64 rng(std::random_device{}());
  return absl::StrFormat("%016x", rng());
}

std::string MaskForLog(std::string_view value) {
  if (value.size() <= 4) return std::string(value.size(), '*');
  std::string out(value.substr(0, 3));
  out.append(value.size() - 5, '*');
  out.append(value.substr(value.size() - 2));
  return out;
}

}  // namespace genesis
