// A cache generation shared through Redis, so that a cache write or
// invalidation that could not be delivered never leaves an entry to be read
// stale once Redis is reachable again.
//
// Entries are keyed by the generation stored at key() (read in the same Lua
// script as the entry, so every replica sees a bump on its next lookup). When
// a write that should have replaced or removed an entry fails (Redis down,
// hung, the client's breaker open, or an unknown outcome), the cache calls
// WriteFailed(); from then on Usable() is false (the cache must not be read
// nor filled) until a bump of the generation (INCR) has succeeded, which
// orphans every older entry at once (they expire by their TTL). A new object
// starts with one bump pending, for a predecessor that died between its
// database commit and its invalidation.
//
// Behind Redis Sentinel a failover loses the writes the old master had
// acknowledged but not yet replicated (an invalidation among them), so a
// master the client had not bumped on is not trusted either: Usable() bumps
// again when the client's master_epoch() moved, and Read() refuses a reply
// that came from a master other than the one last bumped on. Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "common/storage/redis.h"

namespace genesis {

class RedisGeneration {
 public:
  // `redis` must outlive this object; `key` holds the generation number.
  // With a `bump_channel`, every bump also PUBLISHes `bump_message` there (in
  // the same script), for processes that hold entries in memory as well.
  RedisGeneration(RedisClient* redis, std::string key, std::string bump_channel = "",
                  std::string bump_message = "")
      : redis_(redis),
        key_(std::move(key)),
        bump_channel_(std::move(bump_channel)),
        bump_message_(std::move(bump_message)) {}

  // A Lua line that sets the local `g` to the generation; the script's
  // KEYS[1] must be key().
  static constexpr char kLuaGeneration[] = "local g = redis.call('GET', KEYS[1]) or '0'\n";

  [[nodiscard]] const std::string& key() const { return key_; }

  // True when the cache may be used; bumps first when a failed write is not
  // yet covered (false when that bump fails too).
  bool Usable(absl::Time deadline);
  // A write meant to replace or remove an entry was not (known to be) applied.
  void WriteFailed() { failed_.fetch_add(1); }
  // A cache read (a script that reads key()'s generation) after Usable():
  // the reply, or UNAVAILABLE when it came from a master the generation was
  // not bumped on (a failover happened in between; the next Usable() bumps).
  absl::StatusOr<RedisReply> Read(const std::vector<std::string>& argv, absl::Time deadline);

 private:
  RedisClient* redis_;
  const std::string key_;
  const std::string bump_channel_;
  const std::string bump_message_;
  std::atomic<uint64_t> failed_{1};  // the start-up bump
  std::atomic<uint64_t> covered_{0};
  // The master epoch (RedisClient::master_epoch) of the last bump.
  std::atomic<uint64_t> bumped_epoch_{0};
};

}  // namespace genesis
