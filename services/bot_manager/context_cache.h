// ContextCache on Redis: the conversation's recent messages as one JSON value
// per conversation under "<prefix>ctx:<generation>:<conversation id>", with a
// TTL (30 min by default). Failures are logged and treated as misses. A write
// or erase that could not be delivered (Redis down or hung) moves the
// generation on before the cache is used again (common/storage/redis_generation.h),
// so a conversation's older context is never read back. Thread-safe.
#pragma once

#include "common/storage/redis.h"
#include "common/storage/redis_generation.h"
#include "services/bot_manager/deps.h"

namespace genesis::bot {

class RedisContextCache final : public ContextCache {
 public:
  // `redis` must outlive the cache.
  RedisContextCache(RedisClient* redis, std::string prefix, absl::Duration ttl)
      : redis_(redis),
        prefix_(std::move(prefix)),
        ttl_(ttl),
        generation_(redis, prefix_ + "ctx:gen") {}

  std::optional<std::vector<Message>> Get(int64_t conversation_id, const CallContext& ctx) override;
  void Put(int64_t conversation_id, const std::vector<Message>& messages,
           const CallContext& ctx) override;
  int64_t Erase(const std::vector<int64_t>& conversation_ids, const CallContext& ctx) override;

  // The key of a conversation's entry in `generation` (the number at
  // "<prefix>ctx:gen").
  [[nodiscard]] std::string Key(int64_t generation, int64_t conversation_id) const;

 private:
  RedisClient* redis_;
  const std::string prefix_;
  const absl::Duration ttl_;
  RedisGeneration generation_;
};

}  // namespace genesis::bot
