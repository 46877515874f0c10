// In-memory fakes of the bot manager's outside dependencies (deps.h) for unit
// tests: a scripted ReplyModel that records what it was asked, a
// ChannelSender that records sends, and a ContextCache on a map.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <vector>

#include "services/bot_manager/deps.h"

namespace genesis::bot::testing {

// Answers from a script (one result per call, the last one repeated) and
// records the context of every call.
class ScriptedModel final : public ReplyModel {
 public:
  struct Shared {
    std::mutex mu;
    std::vector<absl::StatusOr<ModelReply>> script;
    std::vector<std::vector<Message>> calls;
    // Called first by every call, without the lock (set before any call).
    std::function<void(const std::vector<Message>&)> on_call;
  };
  explicit ScriptedModel(Shared* shared) : shared_(shared) {}
  absl::StatusOr<ModelReply> Reply(const BotConfig&, const std::vector<Message>& context,
                                   const CallContext&) override {
    if (shared_->on_call) shared_->on_call(context);
    std::lock_guard<std::mutex> l(shared_->mu);
    const size_t n = shared_->calls.size();
    shared_->calls.push_back(context);
    if (shared_->script.empty()) return ModelReply{"echo: " + context.back().text, false};
    return shared_->script[std::min(n, shared_->script.size() - 1)];
  }

 private:
  Shared* shared_;
};

// Records sends; fails the next `fail_next` of them with `failure`.
class RecordingSender final : public ChannelSender {
 public:
  struct Shared {
    std::mutex mu;
    std::vector<OutboxRow> sent;
    int fail_next = 0;
    absl::Status failure = absl::UnavailableError("channel down");
  };
  explicit RecordingSender(Shared* shared) : shared_(shared) {}
  absl::StatusOr<SendResult> Send(const BotConfig&, const OutboxRow& row,
                                  const CallContext&) override {
    std::lock_guard<std::mutex> l(shared_->mu);
    if (shared_->fail_next > 0) {
      --shared_->fail_next;
      return shared_->failure;
    }
    shared_->sent.push_back(row);
    return SendResult{absl::StrCat("ext-", row.id)};
  }

 private:
  Shared* shared_;
};

class MapContextCache final : public ContextCache {
 public:
  struct Shared {
    std::mutex mu;
    std::map<int64_t, std::vector<Message>> entries;
  };
  explicit MapContextCache(Shared* shared) : shared_(shared) {}
  std::optional<std::vector<Message>> Get(int64_t id, const CallContext&) override {
    std::lock_guard<std::mutex> l(shared_->mu);
    auto it = shared_->entries.find(id);
    if (it == shared_->entries.end()) return std::nullopt;
    return it->second;
  }
  void Put(int64_t id, const std::vector<Message>& messages, const CallContext&) override {
    std::lock_guard<std::mutex> l(shared_->mu);
    shared_->entries[id] = messages;
  }
  int64_t Erase(const std::vector<int64_t>& ids, const CallContext&) override {
    std::lock_guard<std::mutex> l(shared_->mu);
    int64_t n = 0;
    for (int64_t id : ids) n += static_cast<int64_t>(shared_->entries.erase(id));
    return n;
  }

 private:
  Shared* shared_;
};

}  // namespace genesis::bot::testing
