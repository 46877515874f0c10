// A read-through cache of items for GetItem. The cache never fails a call:
// implementations count and log their errors and behave as a miss.
//
// Invalidate() records the version the item reached, and Put() of an older
// version is ignored: a reader that loaded version N before a writer
// committed N+1 cannot put N back into the cache after the invalidation.
// RedisItemCache (redis_cache.h) is the shared tier; TieredItemCache
// (local_cache.h) puts an in-process tier in front of it. Thread-safe.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "common/rpc/call_context.h"
#include "services/catalog/model.h"

namespace genesis::catalog {

class ItemCache {
 public:
  virtual ~ItemCache() = default;
  virtual std::optional<Item> Get(const std::string& id, const CallContext& ctx) = 0;
  // The item when this process holds it in memory; never waits on I/O nor a
  // remote server, so a caller on a thread that must not block may use it.
  // Null when not held (a Get() may still find it).
  virtual std::shared_ptr<const Item> Peek(const std::string& /*id*/) { return nullptr; }
  virtual void Put(const Item& item, const CallContext& ctx) = 0;
  // `version`: the item's version after the write (or an upper bound of it).
  virtual void Invalidate(const std::string& id, int64_t version, const CallContext& ctx) = 0;
};

// For deployments without Redis: always a miss.
class NoItemCache final : public ItemCache {
 public:
  std::optional<Item> Get(const std::string&, const CallContext&) override { return std::nullopt; }
  void Put(const Item&, const CallContext&) override {}
  void Invalidate(const std::string&, int64_t, const CallContext&) override {}
};

}  // namespace genesis::catalog
