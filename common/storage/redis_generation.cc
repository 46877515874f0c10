#include "common/storage/redis_generation.h"

#include "common/runtime/logging.h"

namespace genesis {

bool RedisGeneration::Usable(absl::Time deadline) {
  const uint64_t failed = failed_.load();
  uint64_t covered = covered_.load();
  if (covered >= failed && redis_->master_epoch() == bumped_epoch_.load()) return true;
  uint64_t epoch = 0;
  auto reply = bump_channel_.empty()
                   ? redis_->Command({"INCR", key_}, deadline, &epoch)
                   : redis_->Command({"EVAL",
                                      "local g = redis.call('INCR', KEYS[1])\n"
                                      "redis.call('PUBLISH', ARGV[1], ARGV[2])\nreturn g\n",
                                      "1", key_, bump_channel_, bump_message_},
                                     deadline, &epoch);
  if (!reply.ok() || reply->type != RedisReply::Type::kInteger) return false;
  bumped_epoch_.store(epoch);
  while (covered < failed && !covered_.compare_exchange_weak(covered, failed)) {
  }
  Logger("redis")->info("cache generation {} is now {}: entries written before it are ignored",
                        key_, reply->integer);
  return true;
}

absl::StatusOr<RedisReply> RedisGeneration::Read(const std::vector<std::string>& argv,
                                                 absl::Time deadline) {
  uint64_t epoch = 0;
  auto reply = redis_->Command(argv, deadline, &epoch);
  if (reply.ok() && epoch != bumped_epoch_.load()) {
    return absl::UnavailableError(
        "the redis master changed since the cache generation was bumped; bumping first");
  }
  return reply;
}

}  // namespace genesis
