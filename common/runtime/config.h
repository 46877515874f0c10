// Flag handling shared by every binary: gflags with environment overrides and
// fail-fast validation.
//
// Precedence: command line > environment (GENESIS_<FLAG_NAME_UPPER>) > default.
// A bad value stops start-up with a message naming the flag (and the variable
// it came from), never a silent fallback.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace genesis {

// Parses argv with gflags, then applies GENESIS_* environment overrides for
// flags not given on the command line. Exits with status 2 and a message on
// an unknown flag or an unparsable value. Every main() calls it first; it
// also turns absl::Mutex deadlock detection off (see config.cc).
void ParseFlagsWithEnv(int* argc, char*** argv, const char* usage);

// The environment variable that overrides `flag_name`, e.g. GENESIS_PG_DSN.
std::string EnvNameForFlag(const std::string& flag_name);

// Collects configuration errors, each naming the flag; Check() fails if any.
class ConfigErrors {
 public:
  void Add(const std::string& flag, const std::string& problem);
  // A failed status whose message reads "--<flag>: <problem>" (as LoadTlsConfig
  // and LoadCertAndKey report) is added under that flag, any other under `flag`.
  void AddStatus(const std::string& flag, const absl::Status& status);
  void RequirePort(const std::string& flag, int64_t value, bool allow_zero = true);
  void RequireNonEmpty(const std::string& flag, const std::string& value);
  void RequireRange(const std::string& flag, int64_t value, int64_t min, int64_t max);
  void RequireOneOf(const std::string& flag, const std::string& value,
                    const std::vector<std::string>& allowed);
  // FAILED_PRECONDITION listing every problem, or OK.
  [[nodiscard]] absl::Status ToStatus() const;
  // Prints every problem to stderr and exits with status 2 when there are any.
  void ExitIfAny() const;

 private:
  std::vector<std::string> problems_;
};

}  // namespace genesis
