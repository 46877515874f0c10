#include "common/rpc/audit_log.h"

#include <fcntl.h>
#include <gflags/gflags.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <nlohmann/json.hpp>

#include "absl/time/clock.h"
#include "common/runtime/logging.h"

DEFINE_string(audit_log_file, "",
              "File the audit log of administrative calls is appended to (JSON lines, fsynced "
              "per record); empty: the process log, logger \"audit\".");

namespace genesis {

std::string AuditRecord::ToJson() const {
  nlohmann::json j;
  j["time"] = absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", time, absl::UTCTimeZone());
  j["service"] = service;
  j["method"] = method;
  j["request_id"] = request_id;
  j["subject"] = subject;
  j["roles"] = roles;
  j["peer"] = peer;
  j["code"] = code;
  nlohmann::json f = nlohmann::json::object();
  for (const auto& [name, value] : fields) f[name] = value;
  j["fields"] = std::move(f);
  // Values come from callers: invalid UTF-8 is replaced, never a throw.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

AuditLog::AuditLog() : log_(Logger("audit")) {}

AuditLog::~AuditLog() {
  if (fd_ >= 0) ::close(fd_);
}

absl::StatusOr<std::shared_ptr<AuditLog>> AuditLog::OpenFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    return absl::FailedPreconditionError(
        "--audit_log_file: '" + path + "' cannot be opened for appending: " + std::strerror(errno));
  }
  auto log = std::make_shared<AuditLog>();
  log->fd_ = fd;
  log->path_ = path;
  return log;
}

absl::StatusOr<std::shared_ptr<AuditLog>> AuditLog::FromFlags() {
  if (FLAGS_audit_log_file.empty()) return std::make_shared<AuditLog>();
  return OpenFile(FLAGS_audit_log_file);
}

void AuditLog::Write(const AuditRecord& record) {
  const std::string line = record.ToJson();
  if (fd_ < 0) {
    log_->info("{}", line);
    return;
  }
  const std::string out = line + "\n";
  std::lock_guard<std::mutex> lock(mu_);
  size_t done = 0;
  while (done < out.size()) {
    const ssize_t n = ::write(fd_, out.data() + done, out.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      log_->error("audit record not written to {}: {}; the record: {}", path_, std::strerror(errno),
                  line);
      return;
    }
    done += static_cast<size_t>(n);
  }
  if (::fdatasync(fd_) != 0) {
    log_->error("audit log {} not synced: {}", path_, std::strerror(errno));
  }
}

}  // namespace genesis
