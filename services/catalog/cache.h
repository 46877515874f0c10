// A read-through cache of items for GetItem. The cache never fails a call:
// implementations count and log their errors and behave as a miss.
// RedisItemCache (redis_cache.h) is the real one. Thread-safe.
#pragma once

#include <optional>
#include <string>

#include "common/call_context.h"
#include "services/catalog/model.h"

namespace genesis::catalog {

class ItemCache {
 public:
  virtual ~ItemCache() = default;
  virtual std::optional<Item> Get(const std::string& id, const CallContext& ctx) = 0;
  virtual void Put(const Item& item, const CallContext& ctx) = 0;
  virtual void Invalidate(const std::string& id, const CallContext& ctx) = 0;
};

// For deployments without Redis: always a miss.
class NoItemCache final : public ItemCache {
 public:
  std::optional<Item> Get(const std::string&, const CallContext&) override { return std::nullopt; }
  void Put(const Item&, const CallContext&) override {}
  void Invalidate(const std::string&, const CallContext&) override {}
};

}  // namespace genesis::catalog
