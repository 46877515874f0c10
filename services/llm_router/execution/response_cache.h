// Exact-match response cache: an answer is reused only for a request that is
// the same after normalisation (ResponseCacheKey). The router never consults
// it for sensitive requests (P0: the caller's flag or personal data found) nor
// for requests with `no_cache`. A cache is an optimisation: implementations
// never fail a call; their errors are misses, counted and logged by them.
// RedisResponseCache (redis_response_cache.h) is the real one; tests use
// FakeResponseCache (tests/fake_cache.h). Thread-safe.
#pragma once

#include <optional>
#include <string>

#include "common/rpc/call_context.h"
#include "services/llm_router/model.h"

namespace genesis::llmrouter {

// What is kept of an answer.
struct CachedAnswer {
  std::string text;
  std::string model_id;
  std::string provider;
  std::string finish_reason;
  bool simulated = false;
};

class ResponseCache {
 public:
  virtual ~ResponseCache() = default;
  // nullopt on a miss and on any error.
  virtual std::optional<CachedAnswer> Get(const std::string& key, const CallContext& ctx) = 0;
  // Best effort; errors are only counted.
  virtual void Put(const std::string& key, const CachedAnswer& answer, const CallContext& ctx) = 0;
};

// Hex SHA-256 of the normalised request. What is normalised:
//  - messages: role and content with leading/trailing whitespace trimmed
//    (inner whitespace and case are kept: they can change the answer);
//  - `model` when the caller named one; otherwise the selection inputs: the
//    resolved task (`task` = the caller's or the classified one), strategy,
//    max cost and required capabilities;
//  - max_tokens as resolved (`max_tokens`: 0 means the server default);
//  - temperature rounded to 3 decimals; unset is distinct from 0.
// Subject and agent are not part of it: an answer depends only on the request.
std::string ResponseCacheKey(const CompletionRequest& request, Task task, int max_tokens);

}  // namespace genesis::llmrouter
