// MCP sessions of the Streamable HTTP transport (Mcp-Session-Id): created by
// `initialize`, bound to the credential that created them (a session id
// presented with another credential is unknown: no hijacking with a leaked
// id), ended by DELETE or after an idle timeout, at most `max_sessions` at
// once (the least recently used goes first). In this process's memory: behind
// several gateway replicas a client must reach the replica that made its
// session (route on the Mcp-Session-Id header), or it gets 404 and
// initializes again, as the specification has clients do. Thread-safe.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace genesis::gateway::mcp {

struct Session {
  std::string credential;        // "jwt:<sub>", "key:<id>", "anonymous"
  std::string protocol_version;  // negotiated at initialize
  absl::Time last_used;
};

class SessionTable {
 public:
  SessionTable(size_t max_sessions, absl::Duration idle_timeout,
               std::function<absl::Time()> now = absl::Now);

  // A new session: 32 hex digits from the OS's random source.
  std::string Create(std::string credential, std::string protocol_version);
  // The session `id` of `credential`, marked used; nullopt when it does not
  // exist, has expired or belongs to another credential.
  std::optional<Session> Touch(const std::string& id, const std::string& credential);
  // Ends the session; false as Touch would be nullopt.
  bool Remove(const std::string& id, const std::string& credential);
  [[nodiscard]] size_t size() const;

 private:
  void DropExpiredLocked(absl::Time now);

  const size_t max_sessions_;
  const absl::Duration idle_timeout_;
  const std::function<absl::Time()> now_;
  mutable std::mutex mu_;
  std::map<std::string, Session> sessions_;  // guarded by mu_
};

}  // namespace genesis::gateway::mcp
