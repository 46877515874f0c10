#include "services/catalog/redis_cache.h"

#include "common/logging.h"
#include "services/catalog/convert.h"

namespace genesis::catalog {
namespace {

constexpr char kTombstonePrefix[] = "T:";  // a serialized Item never starts with 'T'

// KEYS[1] = key, ARGV = value, version, ttl ms. Fills unless a tombstone of a
// newer version is there.
constexpr char kFillScript[] = R"lua(
local cur = redis.call('GET', KEYS[1])
if cur and string.sub(cur, 1, 2) == 'T:' and tonumber(string.sub(cur, 3)) > tonumber(ARGV[2]) then
  return 0
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
return 1
)lua";

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

std::optional<Item> RedisItemCache::Get(const std::string& id, const CallContext& ctx) {
  auto value = redis_->Get(Key(id), ctx.deadline);
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
  const std::string bytes = ToProto(item, absl::ZeroDuration()).SerializeAsString();
  auto reply =
      redis_->Command({"EVAL", kFillScript, "1", Key(item.id), bytes, std::to_string(item.version),
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
  if (auto st = redis_->Set(Key(id), kTombstonePrefix + std::to_string(version), ttl_, deadline);
      !st.ok()) {
    Failed(st, "invalidate");
  }
}

}  // namespace genesis::catalog
