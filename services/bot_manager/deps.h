// The outside dependencies of the bot manager, as small interfaces:
//   ReplyModel     answers a conversation (the LLM router, router_client.h);
//   ChannelSender  delivers a reply through a channel's HTTP API (channel_client.h);
//   ContextCache   short-term conversation context (Redis, context_cache.h);
//   Secrets        credentials by environment variable name.
// main.cc builds the real ones; tests use fakes. Implementations are thread-safe.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/cord.h"
#include "absl/time/time.h"
#include "common/rpc/call_context.h"
#include "services/bot_manager/model.h"

namespace genesis::bot {

struct ModelReply {
  std::string text;
  bool sandbox = false;  // the router ran in sandbox mode: record, never send
};

class ReplyModel {
 public:
  virtual ~ReplyModel() = default;
  // The answer to the last contact message of `context` (oldest first).
  // UNAVAILABLE / DEADLINE_EXCEEDED are worth retrying; other codes are not.
  virtual absl::StatusOr<ModelReply> Reply(const BotConfig& bot,
                                           const std::vector<Message>& context,
                                           const CallContext& ctx) = 0;
};

struct SendResult {
  std::string external_id;  // the channel's id of the sent message
};

// Marks a failed send whose request may have reached the channel (the
// connection broke after the request went out): see MayHaveReachedChannel.
inline constexpr char kMaybeDeliveredPayload[] = "genesis.bot/maybe-delivered";

// True when a failed send may still have been delivered: a timeout, or a
// transport error after the request was written (kMaybeDeliveredPayload).
// An HTTP error answer or a refused connection means it was not.
inline bool MayHaveReachedChannel(const absl::Status& st) {
  return st.code() == absl::StatusCode::kDeadlineExceeded ||
         st.GetPayload(kMaybeDeliveredPayload).has_value();
}

class ChannelSender {
 public:
  virtual ~ChannelSender() = default;
  // Sends `row.text` to `row.recipient`, passing `row.idempotency_key` where
  // the channel accepts one. UNAVAILABLE / DEADLINE_EXCEEDED / RESOURCE_EXHAUSTED
  // are retried; INVALID_ARGUMENT, PERMISSION_DENIED, UNAUTHENTICATED,
  // FAILED_PRECONDITION are final. A failure after the request went out is
  // DEADLINE_EXCEEDED or carries kMaybeDeliveredPayload.
  virtual absl::StatusOr<SendResult> Send(const BotConfig& bot, const OutboxRow& row,
                                          const CallContext& ctx) = 0;
  // Whether the channel drops a repeat of the same idempotency key sent
  // `since_first` after the first (Mattermost: its pending_post_id cache).
  virtual bool DeduplicatesResend(Channel channel, absl::Duration since_first) const {
    (void)channel;
    (void)since_first;
    return false;
  }
};

class ContextCache {
 public:
  virtual ~ContextCache() = default;
  // nullopt on a miss or when the cache is unreachable (never an error).
  virtual std::optional<std::vector<Message>> Get(int64_t conversation_id,
                                                  const CallContext& ctx) = 0;
  virtual void Put(int64_t conversation_id, const std::vector<Message>& messages,
                   const CallContext& ctx) = 0;
  // How many entries were removed.
  virtual int64_t Erase(const std::vector<int64_t>& conversation_ids, const CallContext& ctx) = 0;
};

class NoContextCache final : public ContextCache {
 public:
  std::optional<std::vector<Message>> Get(int64_t, const CallContext&) override {
    return std::nullopt;
  }
  void Put(int64_t, const std::vector<Message>&, const CallContext&) override {}
  int64_t Erase(const std::vector<int64_t>&, const CallContext&) override { return 0; }
};

// The value of an environment variable by name; nullopt when unset or empty.
using Secrets = std::function<std::optional<std::string>(const std::string& name)>;
Secrets EnvironmentSecrets();

}  // namespace genesis::bot
