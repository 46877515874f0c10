// An in-memory BotStore for unit tests of the logic (vectors behind a mutex,
// the same states and status codes as PgBotStore, time from an injected
// clock; the completion rules are the logic's, completion_rules.h), and the
// fakes of the other dependencies (fake_deps.h). The SQL itself is tested on
// PostgreSQL in pg_store_test.cc.
#pragma once

#include <algorithm>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "common/base/clock.h"
#include "common/base/status.h"
#include "services/bot_manager/deps.h"
#include "services/bot_manager/pipeline/completion_rules.h"
#include "services/bot_manager/reasons.h"
#include "services/bot_manager/store.h"
#include "services/bot_manager/tests/fake_deps.h"

namespace genesis::bot::testing {

struct FakeInbox {
  InboxRow row;
  absl::Time lease_until = absl::InfinitePast();
};

struct FakeOutbox {
  OutboxRow row;
  std::string request_id;
  std::string proactive_id;
  absl::Time next_attempt = absl::InfinitePast();
  absl::Time lease_until = absl::InfinitePast();
};

struct FakeMessage {
  int64_t conversation_id = 0;
  Message message;
};

class FakeBotStore final : public BotStore {
 public:
  explicit FakeBotStore(Clock* clock) : clock_(clock) {}

  // --- what the tests inspect (take the lock through these)
  std::vector<FakeOutbox> Outbox() {
    std::lock_guard<std::mutex> l(mu_);
    return outbox_;
  }
  std::vector<FakeInbox> Inbox() {
    std::lock_guard<std::mutex> l(mu_);
    return inbox_;
  }
  std::vector<Conversation> Conversations() {
    std::lock_guard<std::mutex> l(mu_);
    return {convs_.begin(), convs_.end()};
  }
  std::vector<NewProactive> proactive_calls() {
    std::lock_guard<std::mutex> l(mu_);
    return proactive_calls_;
  }
  int recent_messages_calls() {
    std::lock_guard<std::mutex> l(mu_);
    return recent_calls_;
  }
  int open_conversation_calls() {
    std::lock_guard<std::mutex> l(mu_);
    return open_calls_;
  }
  int claim_inbox_calls() {
    std::lock_guard<std::mutex> l(mu_);
    return claim_inbox_calls_;
  }
  // The inbox row's lease, attempts and state (tests of the hand-off).
  std::tuple<absl::Time, int, std::string> inbox_lease(int64_t id) {
    std::lock_guard<std::mutex> l(mu_);
    FakeInbox* in = FindInbox(id);
    if (in == nullptr) return {absl::InfinitePast(), -1, ""};
    return {in->lease_until, in->row.attempts, in->row.state};
  }

  using BotRegistryStore::CreateBot;
  size_t BotCount() {
    std::lock_guard<std::mutex> l(mu_);
    return bots_.size();
  }
  absl::StatusOr<BotConfig> CreateBot(const BotConfig& bot, const std::optional<RequestKey>& key,
                                      const CallContext&) override {
    std::lock_guard<std::mutex> l(mu_);
    if (key) {
      for (const auto& [id, k] : bot_keys_) {
        if (k.request_id != key->request_id || !bots_.count(id)) continue;
        if (k.request_hash != key->request_hash) return RequestIdReused(key->request_id, "bot");
        return bots_.at(id);
      }
    }
    if (bots_.count(bot.id)) {
      return WithReason(absl::AlreadyExistsError("bot exists"), reasons::kBotAlreadyExists);
    }
    BotConfig b = bot;
    b.version = 1;
    b.create_time = b.update_time = clock_->Now();
    bots_[b.id] = b;
    if (key) bot_keys_[b.id] = *key;
    return b;
  }
  absl::StatusOr<BotConfig> GetBot(const std::string& id, const CallContext&) override {
    std::lock_guard<std::mutex> l(mu_);
    auto it = bots_.find(id);
    if (it == bots_.end()) return NotFoundBot(id);
    return it->second;
  }
  absl::StatusOr<std::vector<BotConfig>> ListBots(const std::string& after_id, int limit,
                                                  const CallContext&) override {
    std::lock_guard<std::mutex> l(mu_);
    std::vector<BotConfig> out;
    for (auto it = bots_.upper_bound(after_id); it != bots_.end() && limit-- > 0; ++it) {
      out.push_back(it->second);
    }
    return out;
  }
  absl::StatusOr<BotConfig> UpdateBot(const BotConfig& bot, int64_t expected_version,
                                      const CallContext&) override {
    std::lock_guard<std::mutex> l(mu_);
    auto it = bots_.find(bot.id);
    if (it == bots_.end()) return NotFoundBot(bot.id);
    if (it->second.version != expected_version) return absl::AbortedError("changed meanwhile");
    BotConfig b = bot;
    b.version = expected_version + 1;
    b.create_time = it->second.create_time;
    b.update_time = clock_->Now();
    it->second = b;
    return b;
  }
  absl::Status DeleteBot(const std::string& id, const CallContext&) override {
    std::lock_guard<std::mutex> l(mu_);
    if (bots_.erase(id) == 0) return NotFoundBot(id);
    return absl::OkStatus();
  }

  absl::StatusOr<std::vector<IngestOutcome>> IngestBatch(const std::vector<IngestItem>& items,
                                                         absl::Duration lease,
                                                         const CallContext&) override {
    std::lock_guard<std::mutex> l(mu_);
    ++ingest_batches_;
    std::vector<IngestOutcome> out;
    for (const auto& item : items) {
      IngestOutcome o;
      auto r = IngestOne(item.bot_id, item.channel, item.events, lease, &o.leased);
      if (r.ok()) {
        o.result = *r;
      } else {
        o.status = r.status();
      }
      out.push_back(std::move(o));
    }
    return out;
  }
  absl::StatusOr<std::vector<InboxRow>> ClaimInbox(int limit, absl::Duration lease,
                                                   const CallContext&) override {
    std::lock_guard<std::mutex> l(mu_);
    ++claim_inbox_calls_;
    std::vector<InboxRow> out;
    for (auto& i : inbox_) {
      if (static_cast<int>(out.size()) >= limit) break;
      if (i.row.state != "pending" || i.lease_until >= clock_->Now()) continue;
      // Only the oldest pending row of a conversation (Alexa rows apart).
      auto earlier = [&](const FakeInbox& e) {
        return e.row.state == "pending" && e.row.bot_id == i.row.bot_id &&
               e.row.contact == i.row.contact && e.row.id < i.row.id && e.row.channel != "alexa";
      };
      if (i.row.channel != "alexa" && std::any_of(inbox_.begin(), inbox_.end(), earlier)) continue;
      i.lease_until = clock_->Now() + lease;
      ++i.row.attempts;
      out.push_back(i.row);
    }
    return out;
  }
  absl::StatusOr<Conversation> OpenConversation(const std::string& bot_id,
                                                const std::string& contact,
                                                const CallContext&) override {
    std::lock_guard<std::mutex> l(mu_);
    ++open_calls_;
    return *Conv(bot_id, contact);
  }
  absl::StatusOr<std::vector<Message>> RecentMessages(int64_t conversation_id, int limit,
                                                      const CallContext&) override {
    std::lock_guard<std::mutex> l(mu_);
    ++recent_calls_;
    return Recent(conversation_id, limit);
  }
  absl::StatusOr<std::vector<CompletionResult>> CompleteInboxBatch(
      const std::vector<InboxOutcome>& outcomes, absl::Duration outbox_lease,
      const CallContext&) override {
    std::lock_guard<std::mutex> l(mu_);
    ++complete_batches_;
    std::vector<CompletionResult> out;
    for (const auto& o : outcomes) {
      CompletionResult r;
      r.status = CompleteOne(o, outbox_lease, &r);
      out.push_back(std::move(r));
    }
    return out;
  }
  absl::Status RetryInbox(int64_t inbox_id, absl::Time retry_time, const std::string& error,
                          const CallContext&) override {
    std::lock_guard<std::mutex> l(mu_);
    FakeInbox* in = FindInbox(inbox_id);
    if (in != nullptr && in->row.state == "pending") {
      in->lease_until = retry_time;
      in->row.error = error;
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::vector<OutboxRow>> ClaimOutbox(int limit, absl::Duration lease,
                                                     const CallContext&) override {
    std::lock_guard<std::mutex> l(mu_);
    std::vector<OutboxRow> out;
    for (auto& o : outbox_) {
      if (static_cast<int>(out.size()) >= limit) break;
      if (o.row.state != "pending" || o.next_attempt > clock_->Now() ||
          o.lease_until >= clock_->Now())
        continue;
      o.lease_until = clock_->Now() + lease;
      ++o.row.attempts;
      out.push_back(o.row);
    }
    return out;
  }
  absl::Status MarkSentBatch(const std::vector<SentMark>& marks, const CallContext&) override {
    std::lock_guard<std::mutex> l(mu_);
    for (const auto& m : marks) {
      FakeOutbox* o = FindOutbox(m.outbox_id);
      if (o != nullptr && o->row.state == "pending") {
        o->row.state = "sent";
        o->row.external_id = m.external_id;
        o->row.send_time = clock_->Now();
        o->lease_until = absl::InfinitePast();
      }
    }
    return absl::OkStatus();
  }
  absl::Status MarkSendStartedBatch(const std::vector<int64_t>& outbox_ids,
                                    const CallContext&) override {
    std::lock_guard<std::mutex> l(mu_);
    for (int64_t id : outbox_ids) {
      FakeOutbox* o = FindOutbox(id);
      if (o != nullptr && o->row.state == "pending") o->row.send_started = clock_->Now();
    }
    return absl::OkStatus();
  }
  absl::Status ReleaseLeases(const std::vector<int64_t>& inbox_ids,
                             const std::vector<int64_t>& outbox_ids, const CallContext&) override {
    std::lock_guard<std::mutex> l(mu_);
    for (int64_t id : inbox_ids) {
      FakeInbox* in = FindInbox(id);
      if (in != nullptr && in->row.state == "pending" && in->lease_until > clock_->Now()) {
        in->lease_until = absl::InfinitePast();
        in->row.attempts = std::max(0, in->row.attempts - 1);
      }
    }
    for (int64_t id : outbox_ids) {
      FakeOutbox* o = FindOutbox(id);
      if (o != nullptr && o->row.state == "pending" && o->lease_until > clock_->Now()) {
        o->lease_until = absl::InfinitePast();
        o->row.attempts = std::max(0, o->row.attempts - 1);
      }
    }
    return absl::OkStatus();
  }
  absl::Status DeferOutbox(int64_t outbox_id, absl::Time until, const CallContext&) override {
    std::lock_guard<std::mutex> l(mu_);
    FakeOutbox* o = FindOutbox(outbox_id);
    if (o != nullptr && o->row.state == "pending") {
      o->next_attempt = until;
      o->lease_until = absl::InfinitePast();
      o->row.attempts = std::max(0, o->row.attempts - 1);
    }
    return absl::OkStatus();
  }
  absl::Status MarkSendFailed(int64_t outbox_id, std::optional<absl::Time> retry_time,
                              const std::string& error, bool maybe_delivered,
                              const CallContext&) override {
    std::lock_guard<std::mutex> l(mu_);
    FakeOutbox* o = FindOutbox(outbox_id);
    if (o == nullptr || o->row.state != "pending") return absl::OkStatus();
    o->row.error = error;
    o->lease_until = absl::InfinitePast();
    if (retry_time) {
      o->next_attempt = *retry_time;
      if (!maybe_delivered) o->row.send_started.reset();
    } else {
      o->row.state = "failed";
    }
    return absl::OkStatus();
  }

  absl::StatusOr<Conversation> GetConversation(const std::string& bot_id, int64_t id,
                                               int message_limit, const CallContext&) override {
    std::lock_guard<std::mutex> l(mu_);
    Conversation* c = ConvById(bot_id, id);
    if (c == nullptr)
      return WithReason(absl::NotFoundError("conversation does not exist"),
                        reasons::kConversationNotFound);
    Conversation out = *c;
    out.messages = Recent(id, message_limit);
    return out;
  }
  absl::StatusOr<std::vector<Conversation>> ListConversations(const std::string& bot_id,
                                                              const std::string& state, int offset,
                                                              int limit,
                                                              const CallContext&) override {
    std::lock_guard<std::mutex> l(mu_);
    std::vector<Conversation> all;
    for (const auto& c : convs_) {
      if (c.bot_id == bot_id && (state.empty() || c.state == state)) all.push_back(c);
    }
    return Slice(all, offset, limit);
  }
  absl::StatusOr<std::vector<Conversation>> ListHandoffQueue(int offset, int limit,
                                                             const CallContext&) override {
    std::lock_guard<std::mutex> l(mu_);
    std::vector<Conversation> all;
    for (const auto& c : convs_) {
      if (c.state == kStateHandoffWaiting) all.push_back(c);
    }
    return Slice(all, offset, limit);
  }
  absl::StatusOr<Conversation> Claim(const std::string& bot_id, int64_t id,
                                     const std::string& agent, const CallContext&) override {
    std::lock_guard<std::mutex> l(mu_);
    Conversation* c = ConvById(bot_id, id);
    if (c == nullptr)
      return WithReason(absl::NotFoundError("conversation does not exist"),
                        reasons::kConversationNotFound);
    if (c->state == kStateHandoffActive && c->agent != agent) {
      return absl::FailedPreconditionError("held by someone else");
    }
    c->state = kStateHandoffActive;
    c->agent = agent;
    return *c;
  }
  absl::StatusOr<Conversation> Release(const std::string& bot_id, int64_t id,
                                       const std::string& agent, const CallContext&) override {
    std::lock_guard<std::mutex> l(mu_);
    Conversation* c = ConvById(bot_id, id);
    if (c == nullptr)
      return WithReason(absl::NotFoundError("conversation does not exist"),
                        reasons::kConversationNotFound);
    if (c->state == kStateHandoffActive && c->agent != agent) {
      return absl::FailedPreconditionError("held by someone else");
    }
    if (c->state == kStateBot) return absl::FailedPreconditionError("already with the bot");
    c->state = kStateBot;
    c->agent.clear();
    c->handoff_reason.clear();
    c->handoff_time.reset();
    return *c;
  }
  absl::StatusOr<Message> HumanReply(const std::string& bot_id, int64_t id,
                                     const std::string& agent, const std::string& text,
                                     const std::string& request_id, bool sandboxed,
                                     const CallContext&) override {
    std::lock_guard<std::mutex> l(mu_);
    Conversation* c = ConvById(bot_id, id);
    if (c == nullptr)
      return WithReason(absl::NotFoundError("conversation does not exist"),
                        reasons::kConversationNotFound);
    if (!request_id.empty()) {
      for (const auto& o : outbox_) {
        if (o.row.bot_id == bot_id && o.request_id == request_id) {
          return Message{"human", agent, o.row.text, o.row.create_time};
        }
      }
    }
    if (c->state != kStateHandoffActive || c->agent != agent) {
      return absl::FailedPreconditionError("does not hold the conversation");
    }
    Message m{"human", agent, text, clock_->Now()};
    messages_.push_back({id, m});
    FakeOutbox o;
    o.row = {++next_id_,
             bot_id,
             ChannelName(bots_[bot_id].channel),
             c->contact,
             c->contact,
             text,
             absl::StrCat(bot_id, "-hu-", next_id_),
             sandboxed ? "sandboxed" : "pending",
             0,
             "",
             "",
             clock_->Now(),
             std::nullopt,
             std::nullopt};
    o.request_id = request_id;
    outbox_.push_back(o);
    return m;
  }

  absl::StatusOr<ProactiveMessage> CreateProactive(const NewProactive& p,
                                                   const CallContext&) override {
    std::lock_guard<std::mutex> l(mu_);
    proactive_calls_.push_back(p);
    return absl::UnimplementedError("proactive rules are tested on PostgreSQL");
  }
  absl::StatusOr<ProactiveMessage> GetProactive(const std::string&, const std::string&,
                                                const CallContext&) override {
    return absl::NotFoundError("proactive message does not exist");
  }
  absl::StatusOr<ProactiveMessage> ApproveProactive(const std::string&, const std::string&,
                                                    absl::Time, bool, const CallContext&) override {
    return absl::NotFoundError("proactive message does not exist");
  }

  absl::StatusOr<std::pair<EraseCounts, std::vector<int64_t>>> EraseContact(
      const std::string& bot_id, const std::string& contact, const CallContext&) override {
    std::lock_guard<std::mutex> l(mu_);
    if (!bots_.count(bot_id)) return NotFoundBot(bot_id);
    std::pair<EraseCounts, std::vector<int64_t>> out;
    for (const auto& c : convs_) {
      if (c.bot_id == bot_id && c.contact == contact) out.second.push_back(c.id);
    }
    auto in_convs = [&](int64_t id) {
      return std::find(out.second.begin(), out.second.end(), id) != out.second.end();
    };
    out.first.messages =
        std::erase_if(messages_, [&](const FakeMessage& m) { return in_convs(m.conversation_id); });
    out.first.outbox = std::erase_if(outbox_, [&](const FakeOutbox& o) {
      return o.row.bot_id == bot_id && (o.row.contact == contact || o.row.recipient == contact);
    });
    out.first.inbox = std::erase_if(inbox_, [&](const FakeInbox& i) {
      return i.row.bot_id == bot_id && i.row.contact == contact;
    });
    out.first.conversations = std::erase_if(
        convs_, [&](const Conversation& c) { return c.bot_id == bot_id && c.contact == contact; });
    return out;
  }
  absl::StatusOr<std::vector<InboxRow>> ListInbox(const std::string& bot_id, int64_t before_id,
                                                  int limit, const CallContext&) override {
    std::lock_guard<std::mutex> l(mu_);
    std::vector<InboxRow> out;
    for (auto it = inbox_.rbegin(); it != inbox_.rend() && limit > 0; ++it) {
      if (it->row.bot_id == bot_id && it->row.id < before_id) {
        out.push_back(it->row);
        --limit;
      }
    }
    return out;
  }
  absl::StatusOr<std::vector<OutboxRow>> ListOutbox(const std::string& bot_id, int64_t before_id,
                                                    int limit, const CallContext&) override {
    std::lock_guard<std::mutex> l(mu_);
    std::vector<OutboxRow> out;
    for (auto it = outbox_.rbegin(); it != outbox_.rend() && limit > 0; ++it) {
      if (it->row.bot_id == bot_id && it->row.id < before_id) {
        out.push_back(it->row);
        --limit;
      }
    }
    return out;
  }
  absl::StatusOr<int64_t> PurgeBefore(absl::Time, int, const CallContext&) override {
    return 0;  // retention is tested on PostgreSQL
  }
  absl::Status Ping(const CallContext&) override { return absl::OkStatus(); }

 private:
  // One webhook / one completion, with mu_ held (IngestBatch, CompleteInboxBatch).
  absl::StatusOr<WebhookResult> IngestOne(const std::string& bot_id, const std::string& channel,
                                          const WebhookEvents& events, absl::Duration lease,
                                          std::vector<InboxRow>* leased) {
    if (!bots_.count(bot_id)) return NotFoundBot(bot_id);
    WebhookResult result;
    for (const auto& m : events.messages) {
      bool dup = std::any_of(inbox_.begin(), inbox_.end(), [&](const FakeInbox& i) {
        return i.row.bot_id == bot_id && i.row.channel == channel &&
               i.row.external_id == m.external_id;
      });
      if (dup) {
        ++result.duplicates;
        continue;
      }
      FakeInbox in;
      in.row.id = ++next_id_;
      in.row.bot_id = bot_id;
      in.row.channel = channel;
      in.row.external_id = m.external_id;
      in.row.contact = m.contact;
      in.row.reply_to = m.reply_to;
      in.row.text = m.text;
      in.row.state = "pending";
      in.row.create_time = clock_->Now();
      if (lease > absl::ZeroDuration()) {
        in.lease_until = clock_->Now() + lease;
        in.row.attempts = 1;
        const size_t known = convs_.size();
        Conversation* c = Conv(bot_id, m.contact);
        in.row.conversation_id = c->id;
        in.row.conversation_state = c->state;
        in.row.new_conversation = convs_.size() > known;
        leased->push_back(in.row);
      }
      inbox_.push_back(in);
      ++result.accepted;
    }
    for (const auto& s : events.statuses) {
      for (auto& o : outbox_) {
        if (o.row.bot_id != bot_id || o.row.external_id != s.external_id) continue;
        const std::string& st = o.row.state;
        bool forward = (s.status == "failed" && (st == "sent" || st == "delivered")) ||
                       (s.status == "delivered" && st == "sent") ||
                       (s.status == "read" && (st == "sent" || st == "delivered"));
        if (!forward) continue;
        o.row.state = s.status;
        if (s.status == "failed") o.row.error = s.error;
        ++result.statuses;
      }
    }
    return result;
  }

  absl::Status CompleteOne(const InboxOutcome& outcome, absl::Duration outbox_lease,
                           CompletionResult* result) {
    FakeInbox* in = FindInbox(outcome.inbox_id);
    if (in == nullptr || in->row.state != "pending") {
      return absl::AbortedError("no longer pending");
    }
    Conversation* c = Conv(in->row.bot_id, in->row.contact);
    // The rules are the logic's (completion_rules.h); the fake applies the writes.
    CompletionPlan plan = PlanCompletion(*c, in->row, outcome);
    for (const auto& m : plan.messages)
      messages_.push_back({c->id, {m.author, "", m.text, clock_->Now()}});
    if (plan.outbox) {
      FakeOutbox o;
      o.row = {++next_id_,
               in->row.bot_id,
               in->row.channel,
               in->row.contact,
               in->row.reply_to,
               plan.outbox->text,
               plan.outbox->idempotency_key,
               plan.outbox->state,
               0,
               "",
               "",
               clock_->Now(),
               std::nullopt,
               std::nullopt};
      if (outbox_lease > absl::ZeroDuration() && o.row.state == "pending") {
        o.lease_until = clock_->Now() + outbox_lease;
        o.row.attempts = 1;
        result->leased = o.row;
      }
      outbox_.push_back(o);
    }
    *c = std::move(plan.conversation);
    if (plan.handed_off) c->handoff_time = clock_->Now();
    c->update_time = clock_->Now();
    in->row.state = "done";
    in->lease_until = absl::InfinitePast();
    result->conversation = *c;
    return absl::OkStatus();
  }
  static absl::Status NotFoundBot(const std::string& id) {
    return WithReason(absl::NotFoundError(absl::StrCat("bot 'bots/", id, "' does not exist")),
                      reasons::kBotNotFound, {{"bot", absl::StrCat("bots/", id)}});
  }
  FakeInbox* FindInbox(int64_t id) {
    for (auto& i : inbox_) {
      if (i.row.id == id) return &i;
    }
    return nullptr;
  }
  FakeOutbox* FindOutbox(int64_t id) {
    for (auto& o : outbox_) {
      if (o.row.id == id) return &o;
    }
    return nullptr;
  }
  Conversation* Conv(const std::string& bot_id, const std::string& contact) {
    for (auto& c : convs_) {
      if (c.bot_id == bot_id && c.contact == contact) return &c;
    }
    Conversation c;
    c.id = ++next_id_;
    c.bot_id = bot_id;
    c.contact = contact;
    c.create_time = c.update_time = clock_->Now();
    convs_.push_back(c);
    return &convs_.back();
  }
  Conversation* ConvById(const std::string& bot_id, int64_t id) {
    for (auto& c : convs_) {
      if (c.bot_id == bot_id && c.id == id) return &c;
    }
    return nullptr;
  }
  std::vector<Message> Recent(int64_t conversation_id, int limit) {
    std::vector<Message> out;
    for (auto it = messages_.rbegin(); it != messages_.rend() && limit > 0; ++it) {
      if (it->conversation_id == conversation_id) {
        out.insert(out.begin(), it->message);
        --limit;
      }
    }
    return out;
  }
  template <typename T>
  static std::vector<T> Slice(const std::vector<T>& all, int offset, int limit) {
    std::vector<T> out;
    for (int i = offset; i < static_cast<int>(all.size()) && limit-- > 0; ++i) {
      out.push_back(all[i]);
    }
    return out;
  }

  Clock* const clock_;
  std::mutex mu_;
  int64_t next_id_ = 0;
  int recent_calls_ = 0;
  int open_calls_ = 0;
  int claim_inbox_calls_ = 0;
  int ingest_batches_ = 0;
  int complete_batches_ = 0;
  std::map<std::string, BotConfig> bots_;
  std::map<std::string, RequestKey> bot_keys_;  // bot id -> its create key
  std::vector<FakeInbox> inbox_;
  std::vector<FakeOutbox> outbox_;
  std::deque<Conversation> convs_;
  std::vector<FakeMessage> messages_;
  std::vector<NewProactive> proactive_calls_;
};

}  // namespace genesis::bot::testing
