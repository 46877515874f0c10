// The audit log of administrative actions: one JSON object per line for
// every call of a method marked `(genesis.api.v1.administrative)` in the
// protos (proto/genesis/api/v1/access.proto), allowed or refused:
//
//   {"time":"2026-12-07T15:04:05.123456Z","service":"genesis.llmrouter.v1.LlmRouterService",
//    "method":"UpdateModel","request_id":"...","subject":"ana","roles":["admin"],
//    "peer":"gateway","code":"OK","fields":{"model.name":"models/x","update_mask":"enabled"}}
//
// `subject`/`roles` are the caller's identity (a token's, forwarded by the
// gateway, or an administrator certificate's), `peer` the mTLS certificate
// the call came over, `code` the outcome, `fields` the request fields the
// method's `audit_fields` name (never the whole request).
//
// Where it goes: --audit_log_file (appended, one write and fdatasync per
// record, so an acknowledged change is on disk before its answer leaves;
// created 0600), else the process log as logger "audit" at info level.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace spdlog {
class logger;
}

namespace genesis {

struct AuditRecord {
  absl::Time time;
  std::string service;
  std::string method;
  std::string request_id;
  std::string subject;
  std::vector<std::string> roles;
  std::string peer;
  std::string code;  // absl::StatusCodeToString of the outcome
  std::vector<std::pair<std::string, std::string>> fields;

  // The record as one line of JSON (no newline).
  [[nodiscard]] std::string ToJson() const;
};

class AuditLog {
 public:
  // Records go to the process log (logger "audit").
  AuditLog();
  ~AuditLog();
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  // Records are appended to `path` (created 0600 if missing).
  // FAILED_PRECONDITION naming the file when it cannot be opened.
  static absl::StatusOr<std::shared_ptr<AuditLog>> OpenFile(const std::string& path);

  // From --audit_log_file: the file, or the process log when it is empty.
  static absl::StatusOr<std::shared_ptr<AuditLog>> FromFlags();

  // Thread-safe. A record that cannot be written is reported on the process
  // log at error level (the call's outcome is not changed).
  void Write(const AuditRecord& record);

 private:
  int fd_ = -1;
  std::string path_;
  std::mutex mu_;
  std::shared_ptr<spdlog::logger> log_;
};

}  // namespace genesis
