// ResponseCache in memory for unit tests (Redis down is tested with
// RedisResponseCache on a closed port).
#pragma once

#include <map>
#include <mutex>

#include "services/llm_router/execution/response_cache.h"

namespace genesis::llmrouter::testing {

class FakeResponseCache final : public ResponseCache {
 public:
  std::optional<CachedAnswer> Get(const std::string& key, const CallContext&) override {
    std::lock_guard<std::mutex> lock(mu_);
    ++gets_;
    auto it = entries_.find(key);
    if (it == entries_.end()) return std::nullopt;
    return it->second;
  }
  void Put(const std::string& key, const CachedAnswer& a, const CallContext&) override {
    std::lock_guard<std::mutex> lock(mu_);
    ++puts_;
    entries_[key] = a;
  }
  size_t size() {
    std::lock_guard<std::mutex> lock(mu_);
    return entries_.size();
  }
  int gets() {
    std::lock_guard<std::mutex> lock(mu_);
    return gets_;
  }

 private:
  std::mutex mu_;
  std::map<std::string, CachedAnswer> entries_;
  int gets_ = 0, puts_ = 0;
};

}  // namespace genesis::llmrouter::testing
