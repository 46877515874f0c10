#include "gateway/mcp/sessions.h"

#include <openssl/rand.h>

#include <algorithm>
#include <cstdlib>
#include <iterator>

#include "absl/strings/escaping.h"

namespace genesis::gateway::mcp {

SessionTable::SessionTable(size_t max_sessions, absl::Duration idle_timeout,
                           std::function<absl::Time()> now)
    : max_sessions_(std::max<size_t>(max_sessions, 1)),
      idle_timeout_(idle_timeout),
      now_(std::move(now)) {}

void SessionTable::DropExpiredLocked(absl::Time now) {
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    it = now - it->second.last_used > idle_timeout_ ? sessions_.erase(it) : std::next(it);
  }
}

std::string SessionTable::Create(std::string credential, std::string protocol_version) {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) std::abort();  // no randomness: nothing is safe
  std::string id =
      absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(bytes), sizeof bytes));
  const absl::Time now = now_();
  std::lock_guard lock(mu_);
  if (sessions_.size() >= max_sessions_) DropExpiredLocked(now);
  while (sessions_.size() >= max_sessions_) {
    auto oldest = std::min_element(
        sessions_.begin(), sessions_.end(),
        [](const auto& a, const auto& b) { return a.second.last_used < b.second.last_used; });
    sessions_.erase(oldest);
  }
  sessions_[id] = Session{std::move(credential), std::move(protocol_version), now};
  return id;
}

std::optional<Session> SessionTable::Touch(const std::string& id, const std::string& credential) {
  const absl::Time now = now_();
  std::lock_guard lock(mu_);
  auto it = sessions_.find(id);
  if (it == sessions_.end() || it->second.credential != credential) return std::nullopt;
  if (now - it->second.last_used > idle_timeout_) {
    sessions_.erase(it);
    return std::nullopt;
  }
  it->second.last_used = now;
  return it->second;
}

bool SessionTable::Remove(const std::string& id, const std::string& credential) {
  if (!Touch(id, credential)) return false;
  std::lock_guard lock(mu_);
  return sessions_.erase(id) > 0;
}

size_t SessionTable::size() const {
  std::lock_guard lock(mu_);
  return sessions_.size();
}

}  // namespace genesis::gateway::mcp
