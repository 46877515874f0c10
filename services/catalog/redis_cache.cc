#include "services/catalog/redis_cache.h"

#include "common/logging.h"
#include "services/catalog/convert.h"

namespace genesis::catalog {

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
  if (!value->has_value()) return std::nullopt;
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
  if (auto st = redis_->Set(Key(item.id), bytes, ttl_, ctx.deadline); !st.ok()) Failed(st, "set");
}

void RedisItemCache::Invalidate(const std::string& id, const CallContext& ctx) {
  // Invalidation must not be skipped because the caller's deadline is short.
  const absl::Time deadline = std::max(ctx.deadline, absl::Now() + absl::Milliseconds(200));
  if (auto st = redis_->Del({Key(id)}, deadline); !st.ok()) Failed(st, "invalidate");
}

}  // namespace genesis::catalog
