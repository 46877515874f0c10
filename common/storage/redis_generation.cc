#include "common/storage/redis_generation.h"

#include "common/runtime/logging.h"

namespace genesis {

bool RedisGeneration::Usable(absl::Time deadline) {
  const uint64_t failed = failed_.load();
  uint64_t covered = covered_.load();
  if (covered >= failed) return true;
  auto reply = redis_->Command({"INCR", key_}, deadline);
  if (!reply.ok() || reply->type != RedisReply::Type::kInteger) return false;
  while (covered < failed && !covered_.compare_exchange_weak(covered, failed)) {
  }
  Logger("redis")->info("cache generation {} is now {}: entries written before it are ignored",
                        key_, reply->integer);
  return true;
}

}  // namespace genesis
