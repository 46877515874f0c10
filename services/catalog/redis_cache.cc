#include "services/catalog/redis_cache.h"

#include "common/runtime/logging.h"
#include "services/catalog/convert.h"

namespace genesis::catalog {
namespace {

constexpr char kTombstonePrefix[] = "T:";  // a serialized Item never starts with 'T'

// Every script: KEYS[1] = the generation key, ARGV[1] = the item id; the
// entry's key is built from the generation read in the same script, so a bump
// by any replica takes effect for the next lookup everywhere.
#define GENESIS_ENTRY_KEY \
  "local k = 'catalog:item:' .. (redis.call('GET', KEYS[1]) or '0') .. ':' .. ARGV[1]\n"

constexpr char kGetScript[] = GENESIS_ENTRY_KEY "return redis.call('GET', k)\n";

// ARGV = id, value, version, ttl ms. Fills unless a tombstone of a newer
// version is there.
constexpr char kFillScript[] = GENESIS_ENTRY_KEY R"lua(
local cur = redis.call('GET', k)
if cur and string.sub(cur, 1, 2) == 'T:' and tonumber(string.sub(cur, 3)) > tonumber(ARGV[3]) then
  return 0
end
redis.call('SET', k, ARGV[2], 'PX', ARGV[4])
return 1
)lua";

// ARGV = id, tombstone, ttl ms, channel (empty: none). The publish follows
// the write in the same script: a process that drops its copy on the message
// and reads Redis again finds the tombstone.
constexpr char kTombstoneScript[] = GENESIS_ENTRY_KEY R"lua(
redis.call('SET', k, ARGV[2], 'PX', ARGV[3])
if ARGV[4] ~= '' then redis.call('PUBLISH', ARGV[4], ARGV[1]) end
return 1
)lua";

#undef GENESIS_ENTRY_KEY

}  // namespace
void RedisItemCache::Failed(const absl::Status& status, const char* op) {
  if (metrics_.cache_errors) metrics_.cache_errors->Inc();
  const int64_t now_ms = absl::ToUnixMillis(absl::Now());
  int64_t last = last_log_ms_.load();
  if (now_ms - last >= 1000 && last_log_ms_.compare_exchange_strong(last, now_ms)) {
    Logger("catalog")->warn("item cache {} failed, serving from PostgreSQL: {}", op,
                            status.message());
  }
}

bool RedisItemCache::Usable(absl::Time deadline) {
  if (generation_.Usable(deadline)) return true;
  Failed(absl::UnavailableError("the cache generation could not be bumped"), "generation bump");
  return false;
}

std::optional<Item> RedisItemCache::Get(const std::string& id, const CallContext& ctx) {
  if (!Usable(ctx.deadline)) return std::nullopt;
  auto reply = generation_.Read({"EVAL", kGetScript, "1", kGenerationKey, id}, ctx.deadline);
  absl::StatusOr<std::optional<std::string>> value;
  if (!reply.ok()) {
    value = reply.status();
  } else if (reply->type == RedisReply::Type::kNil) {
    value = std::optional<std::string>();
  } else if (reply->type == RedisReply::Type::kString) {
    value = std::optional<std::string>(std::move(reply->str));
  } else {
    value = absl::InternalError("unexpected reply " + reply->str);
  }
  if (!value.ok()) {
    Failed(value.status(), "get");
    return std::nullopt;
  }
  if (!value->has_value() || (*value)->rfind(kTombstonePrefix, 0) == 0) return std::nullopt;
  v1::Item proto;
  if (!proto.ParseFromString(**value)) {
    Failed(absl::DataLossError("unparsable cache entry"), "get");
    return std::nullopt;
  }
  auto item = ItemFromProtoOutput(proto);
  if (!item.ok()) {
    Failed(item.status(), "get");
    return std::nullopt;
  }
  return *std::move(item);
}

void RedisItemCache::Put(const Item& item, const CallContext& ctx) {
  if (!Usable(ctx.deadline)) return;
  const std::string bytes = ToProto(item, absl::ZeroDuration()).SerializeAsString();
  auto reply = redis_->Command(
      {"EVAL", kFillScript, "1", kGenerationKey, item.id, bytes, std::to_string(item.version),
       std::to_string(absl::ToInt64Milliseconds(ttl_))},
      ctx.deadline);
  if (!reply.ok()) {
    Failed(reply.status(), "set");
  } else if (reply->type == RedisReply::Type::kError) {
    Failed(absl::InternalError(reply->str), "set");
  }
}

void RedisItemCache::Invalidate(const std::string& id, int64_t version, const CallContext& ctx) {
  // Invalidation must not be skipped because the caller's deadline is short.
  const absl::Time deadline = std::max(ctx.deadline, absl::Now() + absl::Milliseconds(200));
  // A pending bump goes first: a tombstone written into a generation about to
  // be orphaned would not stop an older fill in the new one.
  if (!Usable(deadline)) {
    generation_.WriteFailed();
    return;
  }
  auto reply = redis_->Command({"EVAL", kTombstoneScript, "1", kGenerationKey, id,
                                kTombstonePrefix + std::to_string(version),
                                std::to_string(absl::ToInt64Milliseconds(ttl_)), channel_},
                               deadline);
  if (!reply.ok() || reply->type == RedisReply::Type::kError) {
    // Not delivered (or not known to be): the entry may still hold the old
    // item, so nothing is read from the cache until the generation moves on.
    generation_.WriteFailed();
    Failed(reply.ok() ? absl::InternalError(reply->str) : reply.status(), "invalidate");
  }
}

}  // namespace genesis::catalog
