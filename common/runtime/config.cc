#include "common/runtime/config.h"

#include <cctype>
#include <cstdio>
#include <cstdlib>

#include <gflags/gflags.h>

#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"

namespace genesis {

std::string EnvNameForFlag(const std::string& flag_name) {
  std::string out = "GENESIS_";
  for (char c : flag_name) out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

void ParseFlagsWithEnv(int* argc, char*** argv, const char* usage) {
  // Debian's Abseil is built without NDEBUG, which leaves absl::Mutex's
  // deadlock detection on: a lock-graph update on every lock gRPC takes
  // (a few percent of a busy server's CPU in profiles). Off, as in release builds.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  gflags::SetUsageMessage(usage);
  gflags::ParseCommandLineFlags(argc, argv, true);
  std::vector<gflags::CommandLineFlagInfo> flags;
  gflags::GetAllFlags(&flags);
  std::vector<std::string> errors;
  for (const auto& flag : flags) {
    if (!flag.is_default) continue;  // the command line wins
    const std::string env = EnvNameForFlag(flag.name);
    const char* value = std::getenv(env.c_str());
    if (value == nullptr) continue;
    if (gflags::SetCommandLineOption(flag.name.c_str(), value).empty()) {
      errors.push_back("--" + flag.name + ": invalid value '" + value + "' from " + env +
                       " (expected " + flag.type + ")");
    }
  }
  if (!errors.empty()) {
    std::fprintf(stderr, "configuration error:\n  %s\n", absl::StrJoin(errors, "\n  ").c_str());
    std::exit(2);
  }
}

void ConfigErrors::Add(const std::string& flag, const std::string& problem) {
  problems_.push_back("--" + flag + " (or " + EnvNameForFlag(flag) + "): " + problem);
}

void ConfigErrors::AddStatus(const std::string& flag, const absl::Status& status) {
  const std::string message(status.message());
  const size_t colon = message.find(": ");
  if (message.substr(0, 2) == "--" && colon != std::string::npos) {
    Add(message.substr(2, colon - 2), message.substr(colon + 2));
  } else {
    Add(flag, message);
  }
}

void ConfigErrors::RequirePort(const std::string& flag, int64_t value, bool allow_zero) {
  if (value < (allow_zero ? 0 : 1) || value > 65535) {
    Add(flag, "must be a TCP port " + std::string(allow_zero ? "0" : "1") + "-65535, got " +
                  std::to_string(value));
  }
}

void ConfigErrors::RequireNonEmpty(const std::string& flag, const std::string& value) {
  if (value.empty()) Add(flag, "must not be empty");
}

void ConfigErrors::RequireRange(const std::string& flag, int64_t value, int64_t min, int64_t max) {
  if (value < min || value > max) {
    Add(flag, "must be between " + std::to_string(min) + " and " + std::to_string(max) + ", got " +
                  std::to_string(value));
  }
}

void ConfigErrors::RequireOneOf(const std::string& flag, const std::string& value,
                                const std::vector<std::string>& allowed) {
  for (const auto& a : allowed) {
    if (a == value) return;
  }
  Add(flag, "must be one of " + absl::StrJoin(allowed, ", ") + ", got '" + value + "'");
}

absl::Status ConfigErrors::ToStatus() const {
  if (problems_.empty()) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrJoin(problems_, "; "));
}

void ConfigErrors::ExitIfAny() const {
  if (problems_.empty()) return;
  std::fprintf(stderr, "configuration error:\n  %s\n", absl::StrJoin(problems_, "\n  ").c_str());
  std::exit(2);
}

}  // namespace genesis
