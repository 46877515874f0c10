#include "services/bot_manager/bot_manager.h"

#include <algorithm>
#include <charconv>
#include <initializer_list>
#include <random>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/civil_time.h"
#include "common/logging.h"
#include "common/status.h"
#include "common/text.h"
#include "services/bot_manager/channels/webhook_util.h"
#include "services/bot_manager/router_client.h"

namespace genesis::bot {
namespace {

constexpr size_t kMaxTextBytes = 4096;
constexpr size_t kMaxPromptBytes = 16 * 1024;

bool ValidId(std::string_view id) {
  if (id.empty() || id.size() > 63) return false;
  if (!absl::ascii_islower(id[0])) return false;
  for (char c : id) {
    if (!absl::ascii_islower(c) && !absl::ascii_isdigit(c) && c != '-') return false;
  }
  return id.back() != '-';
}

bool ValidEnvName(const std::string& name) {
  if (name.empty() || absl::ascii_isdigit(name[0])) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return absl::ascii_isupper(c) || absl::ascii_isdigit(c) || c == '_';
  });
}

// Splits "bots/{bot}[/{collection}/{id}]" into its parts.
absl::StatusOr<std::vector<std::string>> SplitName(const std::string& name, const char* field,
                                                   const char* collection) {
  std::vector<std::string> parts = absl::StrSplit(name, '/');
  const bool nested = collection != nullptr;
  const std::string pattern =
      nested ? absl::StrCat("bots/{bot}/", collection, "/{id}") : "bots/{bot}";
  if (name.empty()) return InvalidField(field, absl::StrCat("required (", pattern, ")"));
  if (std::string problem = StorableTextProblem(name); !problem.empty()) {
    return InvalidField(field, problem);
  }
  if (parts.size() != (nested ? 4u : 2u) || parts[0] != "bots" ||
      (nested && parts[2] != collection) || parts.back().empty()) {
    return InvalidField(field, absl::StrCat("'", name, "' is not of the form ", pattern));
  }
  if (!ValidId(parts[1])) {
    return InvalidField(field, absl::StrCat("'", parts[1], "' is not a valid bot id"));
  }
  return parts;
}

absl::StatusOr<int64_t> ParseInt(const std::string& s, const char* field) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size() || v < 0) {
    return InvalidField(field, absl::StrCat("'", s, "' is not valid here"));
  }
  return v;
}

absl::StatusOr<int64_t> ConversationIdOf(const std::vector<std::string>& parts, const char* field) {
  auto id = ParseInt(parts[3], field);
  if (!id.ok()) {
    return InvalidField(field, absl::StrCat("'", parts[3], "' is not a conversation id"));
  }
  return id;
}

// The router could not answer for reasons of its own (down, hung, out of
// budget or capacity): worth retrying later, not a reason to hand off.
bool RouterUnavailable(const absl::Status& st) {
  return st.code() == absl::StatusCode::kUnavailable ||
         st.code() == absl::StatusCode::kDeadlineExceeded ||
         st.code() == absl::StatusCode::kResourceExhausted;
}

bool Retryable(const absl::Status& st) {
  return st.code() == absl::StatusCode::kUnavailable ||
         st.code() == absl::StatusCode::kDeadlineExceeded ||
         st.code() == absl::StatusCode::kResourceExhausted ||
         st.code() == absl::StatusCode::kAborted;
}

std::string RandomId() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string out(16, 'a');
  for (char& c : out) c = kAlphabet[rng() % 36];
  return out;
}

}  // namespace

// --- pure helpers

absl::Status ValidateBot(const BotConfig& bot, const std::string& prefix) {
  FieldViolations v;
  auto f = [&](const char* name) { return absl::StrCat(prefix, name); };
  // Every text that is stored: PostgreSQL holds neither NUL nor invalid UTF-8
  // (the other rules below would echo such a value back).
  bool storable = true;
  for (const auto& [name, value] :
       std::initializer_list<std::pair<const char*, const std::string*>>{
           {"display_name", &bot.display_name},
           {"system_prompt", &bot.system_prompt},
           {"task_type", &bot.task_type},
           {"webhook_secret_env", &bot.webhook_secret_env},
           {"access_token_env", &bot.access_token_env},
           {"verify_token_env", &bot.verify_token_env},
           {"phone_number_id", &bot.phone_number_id},
           {"alexa_skill_id", &bot.alexa_skill_id},
           {"quiet_hours.time_zone", &bot.quiet_hours.time_zone}}) {
    storable = CheckStorableText(f(name), *value, &v) && storable;
  }
  if (!storable) return v.ToStatus();
  if (bot.display_name.size() > 200) v.Add(f("display_name"), "at most 200 bytes");
  if (bot.system_prompt.size() > kMaxPromptBytes) {
    v.Add(f("system_prompt"), absl::StrCat("at most ", kMaxPromptBytes, " bytes"));
  }
  if (!TaskOf(bot.task_type)) {
    v.Add(f("task_type"), absl::StrCat("unknown task '", bot.task_type,
                                       "' (chat, reasoning, classification, extraction, "
                                       "long_context, summarization, or empty)"));
  }
  // Alexa requests are signed by Amazon's certificate and answered in the
  // response: an Alexa bot needs its skill id, no secret nor sending token.
  const bool alexa = bot.channel == Channel::kAlexa;
  if (alexa) {
    if (bot.alexa_skill_id.empty() || bot.alexa_skill_id.size() > 200 ||
        !std::all_of(bot.alexa_skill_id.begin(), bot.alexa_skill_id.end(),
                     [](char c) { return absl::ascii_isgraph(c); })) {
      v.Add(f("alexa_skill_id"),
            "required for Alexa: the skill's application id (amzn1.ask.skill...), at most 200 "
            "bytes, no spaces");
    }
  } else if (!bot.alexa_skill_id.empty()) {
    v.Add(f("alexa_skill_id"), "only Alexa bots have a skill id");
  }
  if (!alexa && !ValidEnvName(bot.webhook_secret_env)) {
    v.Add(f("webhook_secret_env"),
          "required: the name of the environment variable holding the webhook secret "
          "(A-Z, 0-9, _)");
  }
  if (!alexa && !ValidEnvName(bot.access_token_env)) {
    v.Add(f("access_token_env"),
          "required: the name of the environment variable holding the sending token (A-Z, 0-9, "
          "_)");
  }
  if (bot.channel == Channel::kWhatsApp) {
    if (!ValidEnvName(bot.verify_token_env)) {
      v.Add(f("verify_token_env"),
            "required for WhatsApp: the environment variable holding the verification token");
    }
    if (bot.phone_number_id.empty() ||
        !std::all_of(bot.phone_number_id.begin(), bot.phone_number_id.end(),
                     [](char c) { return absl::ascii_isdigit(c); })) {
      v.Add(f("phone_number_id"), "required for WhatsApp: the digits of the sending number's id");
    }
  }
  if (bot.max_context_messages < 1 || bot.max_context_messages > 100) {
    v.Add(f("max_context_messages"), "must be 1-100");
  }
  if (bot.max_reply_tokens < 16 || bot.max_reply_tokens > 8192) {
    v.Add(f("max_reply_tokens"), "must be 16-8192");
  }
  if (bot.proactive_daily_limit < 0 || bot.proactive_daily_limit > 100) {
    v.Add(f("proactive_daily_limit"), "must be 0-100");
  }
  const QuietHours& q = bot.quiet_hours;
  if (q.start_hour < 0 || q.start_hour > 23) v.Add(f("quiet_hours.start_hour"), "must be 0-23");
  if (q.end_hour < 0 || q.end_hour > 23) v.Add(f("quiet_hours.end_hour"), "must be 0-23");
  absl::TimeZone tz;
  if (!q.time_zone.empty() && !absl::LoadTimeZone(q.time_zone, &tz)) {
    v.Add(f("quiet_hours.time_zone"),
          absl::StrCat("unknown time zone '", q.time_zone, "' (IANA, e.g. America/Sao_Paulo)"));
  }
  return v.ToStatus();
}

bool IsHandoffRequest(std::string_view text) {
  // Whole words only ("humanidade" is not a request for a human). Bytes of
  // UTF-8 sequences count as letters, so "alguém" stays one word.
  std::vector<std::string> words;
  std::string word;
  for (char c : text) {
    if (absl::ascii_isalnum(c) || static_cast<unsigned char>(c) >= 0x80) {
      word.push_back(absl::ascii_tolower(c));
    } else if (!word.empty()) {
      words.push_back(std::move(word));
      word.clear();
    }
  }
  if (!word.empty()) words.push_back(std::move(word));
  static const std::vector<std::vector<std::string>> kPhrases = {{"atendente"},
                                                                 {"atendentes"},
                                                                 {"humano"},
                                                                 {"humana"},
                                                                 {"human"},
                                                                 {"operador"},
                                                                 {"operator"},
                                                                 {"representative"},
                                                                 {"falar", "com", "uma", "pessoa"},
                                                                 {"falar", "com", "alguém"},
                                                                 {"falar", "com", "alguem"},
                                                                 {"real", "person"},
                                                                 {"talk", "to", "a", "person"},
                                                                 {"speak", "to", "a", "person"}};
  for (size_t i = 0; i < words.size(); ++i) {
    for (const auto& phrase : kPhrases) {
      if (i + phrase.size() <= words.size() &&
          std::equal(phrase.begin(), phrase.end(), words.begin() + static_cast<long>(i))) {
        return true;
      }
    }
  }
  return false;
}

bool IsLowConfidence(std::string_view answer) {
  return absl::StrContains(absl::string_view(answer.data(), answer.size()), "[HANDOFF]");
}

std::vector<Message> TrimContext(std::vector<Message> messages, int max_messages,
                                 size_t max_bytes) {
  size_t keep = 0;
  size_t bytes = 0;
  for (size_t i = messages.size(); i > 0; --i) {
    const size_t b = messages[i - 1].text.size();
    if (keep > 0 && (static_cast<int>(keep) >= max_messages || bytes + b > max_bytes)) break;
    bytes += b;
    ++keep;
  }
  messages.erase(messages.begin(), messages.end() - static_cast<long>(keep));
  return messages;
}

absl::StatusOr<absl::Time> EarliestSend(absl::Time now, const QuietHours& quiet) {
  if (quiet.start_hour == quiet.end_hour) return now;
  absl::TimeZone tz = absl::UTCTimeZone();
  if (!quiet.time_zone.empty() && !absl::LoadTimeZone(quiet.time_zone, &tz)) {
    return absl::InvalidArgumentError(absl::StrCat("unknown time zone '", quiet.time_zone, "'"));
  }
  const absl::CivilSecond local = absl::ToCivilSecond(now, tz);
  const int h = local.hour();
  const bool wraps = quiet.start_hour > quiet.end_hour;
  const bool quiet_now = wraps ? (h >= quiet.start_hour || h < quiet.end_hour)
                               : (h >= quiet.start_hour && h < quiet.end_hour);
  if (!quiet_now) return now;
  absl::CivilDay day = absl::CivilDay(local);
  if (wraps && h >= quiet.start_hour) day += 1;
  return absl::FromCivil(absl::CivilHour(day.year(), day.month(), day.day(), quiet.end_hour), tz);
}

std::string LocalDay(absl::Time t, const QuietHours& quiet) {
  absl::TimeZone tz = absl::UTCTimeZone();
  if (!quiet.time_zone.empty()) absl::LoadTimeZone(quiet.time_zone, &tz);
  return absl::FormatCivilTime(absl::ToCivilDay(t, tz));
}

// --- BotManager

BotManager::BotManager(std::unique_ptr<BotStore> store, std::unique_ptr<ContextCache> cache,
                       std::unique_ptr<ReplyModel> model, std::unique_ptr<ChannelSender> sender,
                       Secrets secrets, BotManagerOptions options, BotMetrics metrics)
    : store_(std::move(store)),
      cache_(cache ? std::move(cache) : std::make_unique<NoContextCache>()),
      model_(std::move(model)),
      sender_(std::move(sender)),
      secrets_(std::move(secrets)),
      adapters_(MakeChannelAdapters()),
      options_(std::move(options)),
      metrics_(metrics) {
  // Flush time and size per writer (genesis_bot_commit_seconds / _items).
  auto observe = [this](const std::string& writer) -> std::function<void(size_t, absl::Duration)> {
    if (metrics_.commit_seconds == nullptr || metrics_.commit_items == nullptr) return nullptr;
    Histogram* seconds = &metrics_.commit_seconds->WithLabels({writer});
    Histogram* items = &metrics_.commit_items->WithLabels({writer});
    return [seconds, items](size_t n, absl::Duration took) {
      seconds->Observe(absl::ToDoubleSeconds(took));
      items->Observe(static_cast<double>(n));
    };
  };
  ingest_ = std::make_unique<GroupCommitter<IngestItem, IngestOutcome>>(
      "inbox writer", options_.commit_batch,
      [this](const std::vector<IngestItem>& items, absl::Time deadline) {
        return FlushIngest(items, deadline);
      },
      absl::ZeroDuration(), observe("inbox"));
  completions_ = std::make_unique<GroupCommitter<InboxOutcome, CompletionResult>>(
      "completion writer", options_.commit_batch,
      [this](const std::vector<InboxOutcome>& outcomes, absl::Time deadline) {
        return FlushCompletions(outcomes, deadline);
      },
      absl::ZeroDuration(), observe("completions"));
  marks_ = std::make_unique<GroupCommitter<SentMark, bool>>(
      "sent-mark writer", options_.commit_batch,
      [this](const std::vector<SentMark>& marks, absl::Time deadline) {
        return FlushMarks(marks, deadline);
      },
      options_.wait_for_sent_marks ? absl::ZeroDuration() : options_.sent_mark_linger,
      observe("sent_marks"));
  starts_ = std::make_unique<GroupCommitter<int64_t, bool>>(
      "send-start writer", options_.commit_batch,
      [this](const std::vector<int64_t>& ids, absl::Time deadline) {
        return FlushStarts(ids, deadline);
      },
      absl::ZeroDuration(), observe("send_starts"));
}

namespace {

CallContext WithDeadline(absl::Time deadline) {
  CallContext ctx = CallContext::Background();
  ctx.deadline = deadline;
  return ctx;
}

// One wake-up per row handed over (each wakes one idle thread), at least one, at most 64.
void Wake(const std::function<void()>& wake, size_t rows) {
  if (!wake) return;
  for (size_t i = 0; i < std::max<size_t>(1, std::min<size_t>(rows, 64)); ++i) wake();
}

// A store's per-item outcomes (each with its `status`) as the group committer's results.
template <typename T>
std::vector<absl::StatusOr<T>> PerItem(std::vector<T> outcomes) {
  std::vector<absl::StatusOr<T>> out;
  out.reserve(outcomes.size());
  for (auto& o : outcomes) {
    if (o.status.ok()) {
      out.push_back(std::move(o));
    } else {
      out.push_back(o.status);
    }
  }
  return out;
}

}  // namespace

absl::StatusOr<std::vector<absl::StatusOr<IngestOutcome>>> BotManager::FlushIngest(
    const std::vector<IngestItem>& items, absl::Time deadline) {
  size_t rows = 0;
  for (const auto& item : items) rows += item.events.messages.size();
  const absl::Duration lease = handed_inbox_.LeaseFor(rows, options_.inbox_lease);
  const absl::Time written = absl::Now();
  GENESIS_ASSIGN_OR_RETURN(auto outcomes,
                           store_->IngestBatch(items, lease, WithDeadline(deadline)));
  std::vector<InboxRow> handed;
  bool accepted = false;
  for (auto& o : outcomes) {
    accepted = accepted || o.result.accepted > 0;
    for (auto& row : o.leased) handed.push_back(std::move(row));
    o.leased.clear();
  }
  if (accepted) {
    // Rows written without a lease wait for a claim: make the next one happen now.
    if (lease == absl::ZeroDuration()) handed_inbox_.ClaimNow();
    const size_t n = handed.size();
    handed_inbox_.Push(std::move(handed), written, lease);
    Wake(options_.on_inbox, n);
  }
  return PerItem(std::move(outcomes));
}

absl::StatusOr<std::vector<absl::StatusOr<CompletionResult>>> BotManager::FlushCompletions(
    const std::vector<InboxOutcome>& outcomes, absl::Time deadline) {
  const absl::Duration lease = handed_outbox_.LeaseFor(outcomes.size(), options_.outbox_lease);
  const absl::Time written = absl::Now();
  GENESIS_ASSIGN_OR_RETURN(auto results,
                           store_->CompleteInboxBatch(outcomes, lease, WithDeadline(deadline)));
  std::vector<OutboxRow> handed;
  bool replies = false;
  for (size_t i = 0; i < results.size(); ++i) {
    replies = replies || (results[i].status.ok() && outcomes[i].reply.has_value());
    if (results[i].leased) handed.push_back(std::move(*results[i].leased));
    results[i].leased.reset();
  }
  if (replies) {
    if (lease == absl::ZeroDuration()) handed_outbox_.ClaimNow();
    const size_t n = handed.size();
    handed_outbox_.Push(std::move(handed), written, lease);
    Wake(options_.on_outbox, n);
  }
  return PerItem(std::move(results));
}

absl::StatusOr<std::vector<absl::StatusOr<bool>>> BotManager::FlushMarks(
    const std::vector<SentMark>& marks, absl::Time deadline) {
  GENESIS_RETURN_IF_ERROR(store_->MarkSentBatch(marks, WithDeadline(deadline)));
  return std::vector<absl::StatusOr<bool>>(marks.size(), true);
}

size_t BotManager::webhooks_waiting() const { return ingest_->queued(); }

absl::StatusOr<std::vector<absl::StatusOr<bool>>> BotManager::FlushStarts(
    const std::vector<int64_t>& ids, absl::Time deadline) {
  GENESIS_RETURN_IF_ERROR(store_->MarkSendStartedBatch(ids, WithDeadline(deadline)));
  return std::vector<absl::StatusOr<bool>>(ids.size(), true);
}

std::pair<size_t, size_t> BotManager::handed_waiting() const {
  return {handed_inbox_.size(), handed_outbox_.size()};
}

absl::Status BotManager::Drain(const CallContext& ctx) {
  std::vector<int64_t> inbox = handed_inbox_.DrainIds();
  {
    std::lock_guard<std::mutex> lock(gates_mu_);
    for (auto& [key, gate] : gates_) {
      for (const auto& [row, until] : gate.waiting) inbox.push_back(row.id);
      gate.waiting.clear();
    }
  }
  std::vector<int64_t> outbox = handed_outbox_.DrainIds();
  {
    std::lock_guard<std::mutex> lock(send_gates_mu_);
    for (auto& [key, gate] : send_gates_) {
      for (const auto& [row, until] : gate.waiting) outbox.push_back(row.id);
      gate.waiting.clear();
    }
  }
  return store_->ReleaseLeases(inbox, outbox, ctx);
}

absl::StatusOr<Conversation> BotManager::CachedConversation(const std::string& bot_id,
                                                            const std::string& contact,
                                                            const CallContext& ctx) {
  const absl::Time now = absl::Now();
  {
    std::lock_guard<std::mutex> lock(convs_mu_);
    auto it = convs_.find({bot_id, contact});
    if (it != convs_.end() && it->second.second > now) return it->second.first;
  }
  GENESIS_ASSIGN_OR_RETURN(Conversation c, store_->OpenConversation(bot_id, contact, ctx));
  RememberConversation(c);
  return c;
}

void BotManager::RememberConversation(const Conversation& c) {
  std::lock_guard<std::mutex> lock(convs_mu_);
  if (convs_.size() > 100000) convs_.clear();
  convs_[{c.bot_id, c.contact}] = {c, absl::Now() + options_.conversation_cache_ttl};
}

void BotManager::ForgetConversation(const std::string& bot_id, const std::string& contact) {
  std::lock_guard<std::mutex> lock(convs_mu_);
  convs_.erase({bot_id, contact});
}

absl::StatusOr<int> BotManager::PageSize(int requested, const char* field) const {
  if (requested < 0) return InvalidField(field, "must not be negative");
  if (requested == 0) return options_.default_page_size;
  return std::min(requested, options_.max_page_size);
}

absl::Duration BotManager::Backoff(int attempts) const {
  absl::Duration d = options_.retry_backoff;
  for (int i = 1; i < attempts && d < options_.max_retry_backoff; ++i) d *= 2;
  return std::min(d, options_.max_retry_backoff);
}

absl::Duration BotManager::SendDelay(const OutboxRow& row, absl::Duration reserve) {
  const absl::Time now = options_.now();
  std::lock_guard<std::mutex> lock(rate_mu_);
  if (buckets_.size() > 100000) buckets_.clear();
  // Both buckets must have a token; only then are both taken.
  struct Want {
    Bucket* bucket;
    double rate;
  };
  std::vector<Want> wants;
  if (options_.send_rate_per_bot > 0) {
    wants.push_back({&buckets_[row.bot_id], options_.send_rate_per_bot});
  }
  if (options_.send_rate_per_recipient > 0) {
    wants.push_back({&buckets_[absl::StrCat(row.bot_id, "/", row.recipient)],
                     options_.send_rate_per_recipient});
  }
  absl::Duration wait = absl::ZeroDuration();
  for (auto& w : wants) {
    // Burst: one second's worth, at least one send.
    const double burst = std::max(1.0, w.rate);
    if (w.bucket->refill == absl::Time()) {
      w.bucket->tokens = burst;
    } else {
      w.bucket->tokens = std::min(
          burst, w.bucket->tokens + absl::ToDoubleSeconds(now - w.bucket->refill) * w.rate);
    }
    w.bucket->refill = now;
    if (w.bucket->tokens < 1) {
      wait = std::max(wait, absl::Seconds((1 - w.bucket->tokens) / w.rate));
    }
  }
  if (wait > reserve) return wait;
  // Sent now, or after `wait` with its tokens taken ahead (the balance goes negative).
  for (auto& w : wants) w.bucket->tokens -= 1;
  return wait;
}

absl::StatusOr<BotConfig> BotManager::CachedBot(const std::string& id, const CallContext& ctx) {
  const absl::Time now = absl::Now();
  {
    std::lock_guard<std::mutex> lock(bots_mu_);
    auto it = bots_.find(id);
    if (it != bots_.end() && it->second.second > now) return it->second.first;
  }
  GENESIS_ASSIGN_OR_RETURN(BotConfig bot, store_->GetBot(id, ctx));
  std::lock_guard<std::mutex> lock(bots_mu_);
  if (bots_.size() > 10000) bots_.clear();
  bots_[id] = {bot, now + options_.bot_cache_ttl};
  return bot;
}

void BotManager::ForgetBot(const std::string& id) {
  std::lock_guard<std::mutex> lock(bots_mu_);
  bots_.erase(id);
}

absl::StatusOr<BotConfig> BotManager::CreateBot(const std::string& bot_id, BotConfig bot,
                                                const CallContext& ctx) {
  FieldViolations v;
  if (!ValidId(bot_id)) {
    v.Add("bot_id", "required: 1-63 lower-case letters, digits and '-', starting with a letter");
  }
  if (auto st = ValidateBot(bot, "bot."); !st.ok()) {
    for (auto& [field, desc] : FieldViolationsOf(st)) v.Add(field, desc);
  }
  GENESIS_RETURN_IF_ERROR(v.ToStatus());
  bot.id = bot_id;
  return store_->CreateBot(bot, ctx);
}

absl::StatusOr<BotConfig> BotManager::GetBot(const std::string& name, const CallContext& ctx) {
  GENESIS_ASSIGN_OR_RETURN(auto parts, SplitName(name, "name", nullptr));
  return store_->GetBot(parts[1], ctx);
}

absl::StatusOr<Page<BotConfig>> BotManager::ListBots(int page_size, const std::string& page_token,
                                                     const CallContext& ctx) {
  GENESIS_ASSIGN_OR_RETURN(int limit, PageSize(page_size, "page_size"));
  if (!page_token.empty() && !ValidId(page_token)) {
    return InvalidField("page_token", "not a token this service returned");
  }
  GENESIS_ASSIGN_OR_RETURN(auto bots, store_->ListBots(page_token, limit + 1, ctx));
  Page<BotConfig> page;
  if (static_cast<int>(bots.size()) > limit) {
    bots.resize(limit);
    page.next_page_token = bots.back().id;
  }
  page.values = std::move(bots);
  return page;
}

absl::StatusOr<BotConfig> BotManager::UpdateBot(const std::string& name, const BotConfig& bot,
                                                const std::vector<std::string>& mask,
                                                const std::string& etag, const CallContext& ctx) {
  GENESIS_ASSIGN_OR_RETURN(auto parts, SplitName(name, "bot.name", nullptr));
  GENESIS_ASSIGN_OR_RETURN(BotConfig current, store_->GetBot(parts[1], ctx));
  if (!etag.empty() && etag != absl::StrCat("\"", current.version, "\"")) {
    return absl::AbortedError("the bot changed since it was read (stale etag); get it again");
  }
  BotConfig next = current;
  FieldViolations v;
  for (const auto& path : mask) {
    if (path == "display_name")
      next.display_name = bot.display_name;
    else if (path == "system_prompt")
      next.system_prompt = bot.system_prompt;
    else if (path == "task_type")
      next.task_type = bot.task_type;
    else if (path == "webhook_secret_env")
      next.webhook_secret_env = bot.webhook_secret_env;
    else if (path == "access_token_env")
      next.access_token_env = bot.access_token_env;
    else if (path == "verify_token_env")
      next.verify_token_env = bot.verify_token_env;
    else if (path == "phone_number_id")
      next.phone_number_id = bot.phone_number_id;
    else if (path == "alexa_skill_id")
      next.alexa_skill_id = bot.alexa_skill_id;
    else if (path == "max_context_messages")
      next.max_context_messages = bot.max_context_messages;
    else if (path == "max_reply_tokens")
      next.max_reply_tokens = bot.max_reply_tokens;
    else if (path == "proactive_daily_limit")
      next.proactive_daily_limit = bot.proactive_daily_limit;
    else if (path == "quiet_hours")
      next.quiet_hours = bot.quiet_hours;
    else if (path == "quiet_hours.start_hour")
      next.quiet_hours.start_hour = bot.quiet_hours.start_hour;
    else if (path == "quiet_hours.end_hour")
      next.quiet_hours.end_hour = bot.quiet_hours.end_hour;
    else if (path == "quiet_hours.time_zone")
      next.quiet_hours.time_zone = bot.quiet_hours.time_zone;
    else if (path == "sandbox")
      next.sandbox = bot.sandbox;
    else if (path == "channel")
      v.Add("update_mask", "the channel of a bot cannot change");
    else
      v.Add("update_mask", absl::StrCat("unknown or read-only field '", path, "'"));
  }
  GENESIS_RETURN_IF_ERROR(v.ToStatus());
  GENESIS_RETURN_IF_ERROR(ValidateBot(next, "bot."));
  auto updated = store_->UpdateBot(next, current.version, ctx);
  ForgetBot(parts[1]);
  return updated;
}

absl::Status BotManager::DeleteBot(const std::string& name, const CallContext& ctx) {
  GENESIS_ASSIGN_OR_RETURN(auto parts, SplitName(name, "name", nullptr));
  auto st = store_->DeleteBot(parts[1], ctx);
  ForgetBot(parts[1]);
  return st;
}

absl::StatusOr<std::string> BotManager::VerifyWhatsApp(const std::string& bot_id,
                                                       const std::string& mode,
                                                       const std::string& verify_token,
                                                       const std::string& challenge,
                                                       const CallContext& ctx) {
  if (!ValidId(bot_id)) return InvalidField("bot", absl::StrCat("'", bot_id, "' is not a bot id"));
  GENESIS_ASSIGN_OR_RETURN(BotConfig bot, CachedBot(bot_id, ctx));
  if (bot.channel != Channel::kWhatsApp) {
    return absl::FailedPreconditionError(absl::StrCat("bot '", bot_id, "' is not a WhatsApp bot"));
  }
  auto secret = secrets_(bot.verify_token_env);
  if (!secret) {
    return absl::FailedPreconditionError(absl::StrCat("the verification token variable of bot '",
                                                      bot_id, "' is not set on the service"));
  }
  if (mode != "subscribe") {
    return InvalidField("hub.mode", absl::StrCat("must be 'subscribe', got '", mode, "'"));
  }
  GENESIS_RETURN_IF_ERROR(VerifyToken(*secret, verify_token, "hub.verify_token"));
  if (challenge.empty()) return InvalidField("hub.challenge", "required");
  return challenge;
}

std::vector<std::string> BotManager::WebhookHeaders(Channel channel) const {
  if (channel == Channel::kAlexa) return {"signature-256", "signature", "signaturecertchainurl"};
  auto adapter = adapters_.find(channel);
  return adapter == adapters_.end() ? std::vector<std::string>{} : adapter->second->header_names();
}

absl::StatusOr<WebhookResult> BotManager::ReceiveWebhook(Channel channel, const WebhookRequest& req,
                                                         const CallContext& ctx) {
  const std::string cname = ChannelName(channel);
  auto count = [&](const char* result, int n) {
    if (metrics_.webhooks != nullptr && n > 0)
      metrics_.webhooks->WithLabels({cname, result}).Inc(n);
  };
  if (!ValidId(req.bot)) {
    count("rejected", 1);
    return InvalidField("bot", absl::StrCat("'", req.bot, "' is not a bot id"));
  }
  auto bot = CachedBot(req.bot, ctx);
  if (!bot.ok()) {
    count("rejected", 1);
    return bot.status();
  }
  if (bot->channel != channel) {
    count("rejected", 1);
    return absl::FailedPreconditionError(absl::StrCat(
        "bot '", req.bot, "' is a ", ChannelName(bot->channel),
        " bot; its webhooks go to /v1/webhooks/", ChannelName(bot->channel), "/", req.bot));
  }
  auto secret = secrets_(bot->webhook_secret_env);
  if (!secret) {
    count("rejected", 1);
    return absl::FailedPreconditionError(absl::StrCat("the webhook secret variable of bot '",
                                                      req.bot, "' is not set on the service"));
  }
  auto adapter = adapters_.find(channel);
  if (adapter == adapters_.end()) {
    count("rejected", 1);
    return absl::FailedPreconditionError("Alexa requests go to /v1/webhooks/alexa/{bot}");
  }
  if (auto st = adapter->second->Verify(*secret, req); !st.ok()) {
    count("rejected", 1);
    return st;
  }
  absl::StatusOr<WebhookEvents> events = adapter->second->Parse(req);
  if (!events.ok()) {
    count("rejected", 1);
    return InvalidField("body", std::string(events.status().message()));
  }
  // Committed together with the webhooks that arrive meanwhile (group commit).
  GENESIS_ASSIGN_OR_RETURN(IngestOutcome stored,
                           ingest_->Submit({req.bot, cname, *std::move(events)}, ctx.deadline));
  count("accepted", stored.result.accepted);
  count("duplicate", stored.result.duplicates);
  return stored.result;
}

absl::StatusOr<int> BotManager::ProcessInbox(const CallContext& ctx) {
  // One row at a time from memory, so that every worker gets a share; it
  // enters its conversation's gate as it leaves the queue, so that two
  // workers taking two messages of one conversation answer them in order.
  std::optional<InboxRow> run;
  int64_t behind = 0;
  auto admit = [&](InboxRow row) {
    switch (AdmitToGate(&row)) {
      case Admission::kRun:
        run = std::move(row);
        break;
      case Admission::kBehind:
        behind = row.id;
        break;
      case Admission::kQueued:
        break;
    }
  };
  bool took = handed_inbox_.TakeAnd(admit);
  if (!took && handed_inbox_.ClaimDue()) {
    const absl::Time claimed_at = absl::Now();
    GENESIS_ASSIGN_OR_RETURN(std::vector<InboxRow> rows,
                             store_->ClaimInbox(options_.inbox_batch, options_.inbox_lease, ctx));
    if (rows.empty()) return 0;
    for (auto& r : rows) r.claimed = true;
    // A claim takes one message per conversation (its oldest waiting one): while
    // claims find rows (a backlog after an outage), claim again at once. This
    // worker answers the first; the others go to the other workers.
    handed_inbox_.ClaimNow();
    InboxRow first = std::move(rows.front());
    rows.erase(rows.begin());
    const size_t n = rows.size();
    if (n > 0) {
      handed_inbox_.PushFront(std::move(rows), claimed_at, options_.inbox_lease);
      Wake(options_.on_inbox, n);
    }
    admit(std::move(first));
    took = true;
  }
  if (behind != 0) GiveBackInbox({behind}, ctx);
  if (run) AnswerInOrder(*std::move(run), ctx);
  return took ? 1 : 0;
}

BotManager::Admission BotManager::AdmitToGate(InboxRow* row) {
  std::lock_guard<std::mutex> lock(gates_mu_);
  if (gates_.size() > 100000) {
    for (auto it = gates_.begin(); it != gates_.end();) {
      it = it->second.busy ? std::next(it) : gates_.erase(it);
    }
  }
  Gate& gate = gates_[{row->bot_id, row->contact}];
  if (gate.backlog_to != 0 && gate.backlog_expiry <= options_.now()) gate.backlog_to = 0;
  // A claim hands over the oldest waiting message of a conversation; one from
  // memory is newer than any the conversation has waiting in PostgreSQL.
  if (!row->claimed && gate.backlog_to != 0) {
    gate.backlog_to = std::max(gate.backlog_to, row->id);
    return Admission::kBehind;
  }
  if (gate.busy) {
    // Another worker is answering this conversation: it answers this one next, in id order.
    auto at = std::find_if(gate.waiting.begin(), gate.waiting.end(),
                           [&](const auto& w) { return w.first.id > row->id; });
    gate.waiting.insert(at, {std::move(*row), absl::Now() + options_.inbox_lease / 2});
    return Admission::kQueued;
  }
  gate.busy = true;
  return Admission::kRun;
}

void BotManager::GiveBackInbox(const std::vector<int64_t>& ids, const CallContext& ctx) {
  if (ids.empty()) return;
  if (auto st = store_->ReleaseLeases(ids, {}, ctx); !st.ok()) {
    Logger("bot.worker")
        ->warn(
            "could not give back {} inbox row(s) waiting behind an earlier message (taken "
            "again when their leases run out): {}",
            ids.size(), st.message());
  }
}

void BotManager::AnswerInOrder(InboxRow row, const CallContext& ctx) {
  const std::pair<std::string, std::string> key{row.bot_id, row.contact};
  auto log = Logger("bot.worker");
  while (true) {
    auto done = ProcessOne(row, ctx);
    if (!done.ok()) {
      log->warn("inbox row {} (bot {}, contact {}): {}", row.id, row.bot_id,
                MaskForLog(row.contact), done.status().message());
    }
    // ABORTED: another worker finished the row; nothing waits on it.
    const bool waits =
        done.ok() ? done->has_value() : done.status().code() != absl::StatusCode::kAborted;
    std::vector<int64_t> later;
    std::optional<InboxRow> next;
    bool claim_next = false;
    {
      std::lock_guard<std::mutex> lock(gates_mu_);
      Gate& gate = gates_[key];
      if (waits) {
        // Retried later (or taken again after its lease): the later messages wait
        // behind it in PostgreSQL, and so do those that arrive meanwhile.
        gate.backlog_to = std::max(gate.backlog_to, row.id);
        gate.backlog_expiry = (done.ok() ? **done : options_.now()) + options_.inbox_lease;
        for (const auto& [w, until] : gate.waiting) {
          later.push_back(w.id);
          gate.backlog_to = std::max(gate.backlog_to, w.id);
        }
        gate.waiting.clear();
      } else if (gate.backlog_to != 0) {
        // Answered one of the backlog: the next is claimed at once; the last ends it.
        claim_next = true;
        if (row.id >= gate.backlog_to) {
          gate.backlog_to = 0;
        } else {
          gate.backlog_expiry = options_.now() + options_.inbox_lease;
        }
      }
      if (!gate.waiting.empty()) {
        if (gate.waiting.front().second > absl::Now()) {
          next = std::move(gate.waiting.front().first);
          gate.waiting.pop_front();
        } else {
          // Their leases are running out: back to PostgreSQL, claimed in order.
          for (const auto& [w, until] : gate.waiting) {
            later.push_back(w.id);
            gate.backlog_to = std::max(gate.backlog_to, w.id);
          }
          gate.backlog_expiry = options_.now() + options_.inbox_lease;
          gate.waiting.clear();
        }
      }
      if (!next) {
        gate.busy = false;
        if (gate.backlog_to == 0) gates_.erase(key);
      }
    }
    GiveBackInbox(later, ctx);
    if (claim_next || !later.empty()) {
      handed_inbox_.ClaimNow();
      if (options_.on_inbox) options_.on_inbox();
    }
    if (!next) return;
    row = std::move(*next);
  }
}

absl::StatusOr<std::optional<absl::Time>> BotManager::ProcessOne(const InboxRow& row,
                                                                 const CallContext& ctx) {
  auto outcome_metric = [&](const char* outcome) { Inc(metrics_.inbox_outcomes, {outcome}); };
  if (row.channel == ChannelName(Channel::kAlexa)) {
    // Answered by the request that brought it (ReceiveAlexa); a row that
    // request left behind is recorded without an answer once it is late.
    if (options_.now() - row.create_time < options_.alexa_answer_grace) {
      GENESIS_RETURN_IF_ERROR(store_->RetryInbox(row.id,
                                                 row.create_time + options_.alexa_answer_grace,
                                                 "being answered in its Alexa request", ctx));
      return std::nullopt;  // nothing waits on it: later requests answer themselves
    }
    InboxOutcome late;
    late.inbox_id = row.id;
    GENESIS_RETURN_IF_ERROR(store_->CompleteInbox(late, ctx));
    outcome_metric("unanswered");
    return std::nullopt;
  }
  GENESIS_ASSIGN_OR_RETURN(BotConfig bot, CachedBot(row.bot_id, ctx));
  // The conversation: opened at ingestion for rows handed over, else from the cache or the store.
  Conversation conv;
  if (row.conversation_id != 0) {
    conv.id = row.conversation_id;
    conv.bot_id = bot.id;
    conv.contact = row.contact;
    conv.state = row.conversation_state;
  } else {
    GENESIS_ASSIGN_OR_RETURN(conv, CachedConversation(bot.id, row.contact, ctx));
  }
  InboxOutcome outcome;
  outcome.inbox_id = row.id;
  // Written together with other workers' completions (group commit).
  auto complete = [&]() -> absl::Status {
    GENESIS_ASSIGN_OR_RETURN(CompletionResult done, completions_->Submit(outcome, ctx.deadline));
    if (done.conversation) RememberConversation(*done.conversation);
    return absl::OkStatus();
  };
  if (conv.state == kStateHandoffWaiting || conv.state == kStateHandoffActive) {
    // A human holds it: record the message, stay silent.
    GENESIS_RETURN_IF_ERROR(complete());
    Inc(metrics_.inbox_processed);
    outcome_metric("held");
    return std::nullopt;
  }
  std::vector<Message> context;
  if (auto cached = cache_->Get(conv.id, ctx)) {
    context = std::move(*cached);
  } else if (!row.new_conversation) {
    GENESIS_ASSIGN_OR_RETURN(context,
                             store_->RecentMessages(conv.id, bot.max_context_messages, ctx));
  }
  context.push_back({"contact", "", row.text, options_.now()});
  if (IsHandoffRequest(row.text)) {
    outcome.reply = options_.handoff_reply;
    outcome.handoff_reason = "the contact asked for a person";
  } else {
    auto reply = model_->Reply(
        bot, TrimContext(context, bot.max_context_messages, options_.max_context_bytes), ctx);
    if (!reply.ok()) {
      const absl::Status& st = reply.status();
      const std::string why = absl::StrCat(absl::StatusCodeToString(st.code()), ": ", st.message());
      const absl::Time now = options_.now();
      if (RouterUnavailable(st)) {
        // Infrastructure, not the conversation: retried with backoff within the window.
        const absl::Time retry_at = now + Backoff(row.attempts);
        if (retry_at <= row.create_time + options_.reply_retry_window) {
          Inc(metrics_.inbox_retried);
          GENESIS_RETURN_IF_ERROR(store_->RetryInbox(row.id, retry_at, why, ctx));
          return retry_at;
        }
        outcome.handoff_reason =
            absl::StrCat("assistant unavailable: no answer in ",
                         absl::FormatDuration(absl::Trunc(now - row.create_time, absl::Seconds(1))),
                         " (", row.attempts, " attempt(s); last: ", why, ")");
      } else {
        outcome.handoff_reason = absl::StrCat("the assistant refused the message (", why, ")");
      }
      outcome.reply = options_.handoff_reply;
      outcome.reset_failures = false;
    } else if (IsLowConfidence(reply->text)) {
      outcome.reply = options_.handoff_reply;
      outcome.handoff_reason = "the assistant was not confident of its answer";
    } else {
      outcome.reply = reply->text;
      outcome.sandboxed = reply->sandbox;
      if (reply->sandbox && !bot.sandbox) {
        Logger("bot.worker")
            ->warn(
                "the router answered inbox row {} of bot {} in sandbox mode: the reply is "
                "recorded (outbox state sandboxed), not sent",
                row.id, bot.id);
      }
    }
  }
  outcome.sandboxed = outcome.sandboxed || bot.sandbox;
  if (outcome.handoff_reason) {
    Inc(metrics_.handoffs);
    Logger("bot.worker")
        ->info("conversation {} of bot {} handed to a person: {}", conv.id, bot.id,
               *outcome.handoff_reason);
  }
  GENESIS_RETURN_IF_ERROR(complete());
  Inc(metrics_.inbox_processed);
  outcome_metric(outcome.handoff_reason ? "handoff" : outcome.sandboxed ? "sandboxed" : "replied");
  if (outcome.reply) context.push_back({"bot", "", *outcome.reply, options_.now()});
  cache_->Put(conv.id, TrimContext(context, bot.max_context_messages, options_.max_context_bytes),
              ctx);
  return std::nullopt;
}

absl::StatusOr<int> BotManager::SendOutbox(const CallContext& ctx) {
  // A row from memory enters its recipient's gate as it leaves the queue, so
  // that two senders taking two replies to one chat send them in order.
  std::optional<OutboxRow> handed;
  if (handed_outbox_.TakeAnd([&](OutboxRow row) {
        if (AdmitToSendGate(&row)) handed = std::move(row);
      })) {
    if (handed) SendInOrder(*std::move(handed), ctx);
    return 1;
  }
  if (!handed_outbox_.ClaimDue()) return 0;
  GENESIS_ASSIGN_OR_RETURN(std::vector<OutboxRow> rows,
                           store_->ClaimOutbox(options_.outbox_batch, options_.outbox_lease, ctx));
  if (static_cast<int>(rows.size()) == options_.outbox_batch) handed_outbox_.ClaimNow();
  for (auto& row : rows) {
    if (AdmitToSendGate(&row)) SendInOrder(std::move(row), ctx);
  }
  return static_cast<int>(rows.size());
}

bool BotManager::AdmitToSendGate(OutboxRow* row) {
  std::lock_guard<std::mutex> lock(send_gates_mu_);
  SendGate& gate = send_gates_[{row->bot_id, row->recipient}];
  if (gate.busy) {
    // Another sender is sending to this recipient: it sends this one next, in id order.
    auto at = std::find_if(gate.waiting.begin(), gate.waiting.end(),
                           [&](const auto& w) { return w.first.id > row->id; });
    gate.waiting.insert(at, {std::move(*row), absl::Now() + options_.outbox_lease / 2});
    return false;
  }
  gate.busy = true;
  return true;
}

void BotManager::SendInOrder(OutboxRow row, const CallContext& ctx) {
  const std::pair<std::string, std::string> key{row.bot_id, row.recipient};
  while (true) {
    if (auto st = SendOne(row, ctx); !st.ok()) {
      Logger("bot.sender")
          ->warn("outbox row {} (bot {}, to {}): {}", row.id, row.bot_id, MaskForLog(row.recipient),
                 st.message());
    }
    std::optional<OutboxRow> next;
    std::vector<int64_t> stale;
    {
      std::lock_guard<std::mutex> lock(send_gates_mu_);
      SendGate& gate = send_gates_[key];
      while (!gate.waiting.empty() && !next) {
        auto [w, until] = std::move(gate.waiting.front());
        gate.waiting.pop_front();
        if (until > absl::Now()) {
          next = std::move(w);
        } else {
          stale.push_back(w.id);  // its lease is running out: back for a claim
        }
      }
      if (!next) send_gates_.erase(key);
    }
    if (!stale.empty()) {
      if (auto st = store_->ReleaseLeases({}, stale, ctx); !st.ok()) {
        Logger("bot.sender")
            ->warn(
                "could not give back {} outbox row(s) (taken again when their leases run "
                "out): {}",
                stale.size(), st.message());
      }
      handed_outbox_.ClaimNow();
    }
    if (!next) return;
    row = std::move(*next);
  }
}

absl::Status BotManager::SendOne(const OutboxRow& row, const CallContext& ctx) {
  auto bot = CachedBot(row.bot_id, ctx);
  if (!bot.ok()) {
    if (bot.status().code() != absl::StatusCode::kNotFound) return bot.status();
    return store_->MarkSendFailed(row.id, std::nullopt, "the bot was deleted", false, ctx);
  }
  // An Alexa answer was spoken in the response to its request: record it as sent.
  if (bot->channel == Channel::kAlexa) return marks_->Submit({row.id, ""}, ctx.deadline).status();
  absl::Duration wait = SendDelay(row, options_.max_send_pacing);
  if (wait > absl::ZeroDuration() && wait <= options_.max_send_pacing) {
    // A short wait (its tokens taken ahead) is spent here: the chat's next
    // replies stay behind this one.
    absl::SleepFor(wait);
    wait = absl::ZeroDuration();
  }
  if (wait > absl::ZeroDuration()) {
    Inc(metrics_.outbox_rate_limited);
    return store_->DeferOutbox(row.id, options_.now() + wait, ctx);
  }
  if (row.send_started) {
    // An earlier send started and was never marked sent (a crash or a timeout):
    // it may have reached the channel. Neither the Graph API nor the Bot API can
    // say whether a message with our key was delivered, so it is sent again and
    // counted; Mattermost drops the repeat by its pending_post_id.
    const bool dedup =
        sender_->DeduplicatesResend(bot->channel, options_.now() - *row.send_started);
    Inc(metrics_.outbox_resends, {row.channel, dedup ? "yes" : "no"});
    Logger("bot.sender")
        ->warn(
            "outbox row {} (bot {}, to {}): an earlier send may have reached {}; sending "
            "again with the same key ({})",
            row.id, row.bot_id, MaskForLog(row.recipient), row.channel,
            dedup ? "the channel drops the repeat" : "the contact may get it twice");
  } else {
    // Recorded before the channel is called: a row found pending after a crash
    // without this mark was never sent, and is sent again without doubt.
    GENESIS_RETURN_IF_ERROR(starts_->Submit(row.id, ctx.deadline).status());
  }
  auto sent = sender_->Send(*bot, row, ctx);
  if (sent.ok()) {
    // Marked together with other senders' sends (group commit).
    if (options_.wait_for_sent_marks) {
      GENESIS_RETURN_IF_ERROR(marks_->Submit({row.id, sent->external_id}, ctx.deadline).status());
    } else {
      marks_->Add({row.id, sent->external_id}, ctx.deadline,
                  [id = row.id](absl::StatusOr<bool> marked) {
                    if (!marked.ok()) {
                      Logger("bot.sender")
                          ->warn(
                              "outbox row {} was sent but could not be marked (sent again "
                              "when its lease runs out): {}",
                              id, marked.status().message());
                    }
                  });
    }
    Inc(metrics_.outbox_sent);
    if (metrics_.reply_seconds != nullptr) {
      metrics_.reply_seconds->Observe(absl::ToDoubleSeconds(absl::Now() - row.create_time));
    }
    return absl::OkStatus();
  }
  const std::string error(sent.status().message());
  const bool maybe_delivered = MayHaveReachedChannel(sent.status());
  if (Retryable(sent.status()) && row.attempts < options_.max_send_attempts) {
    Inc(metrics_.outbox_retried);
    GENESIS_RETURN_IF_ERROR(store_->MarkSendFailed(row.id, options_.now() + Backoff(row.attempts),
                                                   error, maybe_delivered, ctx));
    return sent.status();
  }
  Inc(metrics_.outbox_failed);
  GENESIS_RETURN_IF_ERROR(
      store_->MarkSendFailed(row.id, std::nullopt, error, maybe_delivered, ctx));
  return sent.status();
}

absl::StatusOr<Page<Conversation>> BotManager::ListConversations(const std::string& parent,
                                                                 const std::string& state,
                                                                 int page_size,
                                                                 const std::string& page_token,
                                                                 const CallContext& ctx) {
  GENESIS_ASSIGN_OR_RETURN(auto parts, SplitName(parent, "parent", nullptr));
  GENESIS_ASSIGN_OR_RETURN(int limit, PageSize(page_size, "page_size"));
  if (std::string problem = StorableTextProblem(state); !problem.empty()) {
    return InvalidField("state", problem);
  }
  int64_t offset = 0;
  if (!page_token.empty()) {
    GENESIS_ASSIGN_OR_RETURN(offset, ParseInt(page_token, "page_token"));
  }
  GENESIS_RETURN_IF_ERROR(store_->GetBot(parts[1], ctx).status());
  GENESIS_ASSIGN_OR_RETURN(
      auto convs,
      store_->ListConversations(parts[1], state, static_cast<int>(offset), limit + 1, ctx));
  Page<Conversation> page;
  if (static_cast<int>(convs.size()) > limit) {
    convs.resize(limit);
    page.next_page_token = std::to_string(offset + limit);
  }
  page.values = std::move(convs);
  return page;
}

absl::StatusOr<Conversation> BotManager::GetConversation(const std::string& name, int message_limit,
                                                         const CallContext& ctx) {
  GENESIS_ASSIGN_OR_RETURN(auto parts, SplitName(name, "name", "conversations"));
  GENESIS_ASSIGN_OR_RETURN(int64_t id, ConversationIdOf(parts, "name"));
  if (message_limit < 0 || message_limit > 500) {
    return InvalidField("message_limit", "must be 0-500");
  }
  return store_->GetConversation(parts[1], id, message_limit == 0 ? 50 : message_limit, ctx);
}

absl::StatusOr<Page<Conversation>> BotManager::ListHandoffQueue(int page_size,
                                                                const std::string& page_token,
                                                                const CallContext& ctx) {
  GENESIS_ASSIGN_OR_RETURN(int limit, PageSize(page_size, "page_size"));
  int64_t offset = 0;
  if (!page_token.empty()) {
    GENESIS_ASSIGN_OR_RETURN(offset, ParseInt(page_token, "page_token"));
  }
  GENESIS_ASSIGN_OR_RETURN(auto convs,
                           store_->ListHandoffQueue(static_cast<int>(offset), limit + 1, ctx));
  Page<Conversation> page;
  if (static_cast<int>(convs.size()) > limit) {
    convs.resize(limit);
    page.next_page_token = std::to_string(offset + limit);
  }
  page.values = std::move(convs);
  return page;
}

namespace {
absl::Status ResolveAgent(std::string* agent, const CallContext& ctx) {
  if (agent->empty()) *agent = ctx.subject;
  if (agent->empty()) {
    return InvalidField("agent", "required (no caller identity came with the call)");
  }
  if (agent->size() > 200) return InvalidField("agent", "at most 200 bytes");
  if (std::string problem = StorableTextProblem(*agent); !problem.empty()) {
    return InvalidField("agent", problem);
  }
  return absl::OkStatus();
}
}  // namespace

absl::StatusOr<Conversation> BotManager::ClaimConversation(const std::string& name,
                                                           std::string agent,
                                                           const CallContext& ctx) {
  GENESIS_ASSIGN_OR_RETURN(auto parts, SplitName(name, "name", "conversations"));
  GENESIS_ASSIGN_OR_RETURN(int64_t id, ConversationIdOf(parts, "name"));
  GENESIS_RETURN_IF_ERROR(ResolveAgent(&agent, ctx));
  auto conv = store_->Claim(parts[1], id, agent, ctx);
  if (conv.ok()) RememberConversation(*conv);
  return conv;
}

absl::StatusOr<Message> BotManager::ReplyToConversation(const std::string& name, std::string agent,
                                                        const std::string& text,
                                                        const std::string& request_id,
                                                        const CallContext& ctx) {
  GENESIS_ASSIGN_OR_RETURN(auto parts, SplitName(name, "name", "conversations"));
  GENESIS_ASSIGN_OR_RETURN(int64_t id, ConversationIdOf(parts, "name"));
  FieldViolations v;
  if (auto st = ResolveAgent(&agent, ctx); !st.ok()) v.Add("agent", std::string(st.message()));
  if (absl::StripAsciiWhitespace(text).empty()) v.Add("text", "required");
  if (text.size() > kMaxTextBytes) v.Add("text", absl::StrCat("at most ", kMaxTextBytes, " bytes"));
  CheckStorableText("text", text, &v);
  if (request_id.size() > 100) v.Add("request_id", "at most 100 bytes");
  CheckStorableText("request_id", request_id, &v);
  GENESIS_RETURN_IF_ERROR(v.ToStatus());
  GENESIS_ASSIGN_OR_RETURN(BotConfig bot, CachedBot(parts[1], ctx));
  if (bot.channel == Channel::kAlexa) {
    return absl::FailedPreconditionError(
        "an Alexa bot speaks only in answer to a request: a person cannot write to its users");
  }
  auto msg = store_->HumanReply(parts[1], id, agent, text, request_id, bot.sandbox, ctx);
  if (msg.ok()) {
    cache_->Erase({id}, ctx);
    handed_outbox_.ClaimNow();  // written for a claim, not handed over
    if (options_.on_outbox) options_.on_outbox();
  }
  return msg;
}

absl::StatusOr<Conversation> BotManager::ReleaseConversation(const std::string& name,
                                                             std::string agent,
                                                             const CallContext& ctx) {
  GENESIS_ASSIGN_OR_RETURN(auto parts, SplitName(name, "name", "conversations"));
  GENESIS_ASSIGN_OR_RETURN(int64_t id, ConversationIdOf(parts, "name"));
  GENESIS_RETURN_IF_ERROR(ResolveAgent(&agent, ctx));
  auto conv = store_->Release(parts[1], id, agent, ctx);
  if (conv.ok()) {
    cache_->Erase({id}, ctx);
    RememberConversation(*conv);
  }
  return conv;
}

absl::StatusOr<ProactiveMessage> BotManager::CreateProactiveMessage(const std::string& parent,
                                                                    const std::string& recipient,
                                                                    const std::string& text,
                                                                    const std::string& request_id,
                                                                    const CallContext& ctx) {
  GENESIS_ASSIGN_OR_RETURN(auto parts, SplitName(parent, "parent", nullptr));
  FieldViolations v;
  if (recipient.empty() || recipient.size() > 100) {
    v.Add("proactive_message.recipient", "required, at most 100 bytes");
  }
  if (absl::StripAsciiWhitespace(text).empty()) v.Add("proactive_message.text", "required");
  if (text.size() > kMaxTextBytes) {
    v.Add("proactive_message.text", absl::StrCat("at most ", kMaxTextBytes, " bytes"));
  }
  CheckStorableText("proactive_message.recipient", recipient, &v);
  CheckStorableText("proactive_message.text", text, &v);
  if (request_id.size() > 100) v.Add("request_id", "at most 100 bytes");
  CheckStorableText("request_id", request_id, &v);
  GENESIS_RETURN_IF_ERROR(v.ToStatus());
  GENESIS_ASSIGN_OR_RETURN(BotConfig bot, store_->GetBot(parts[1], ctx));
  if (bot.channel == Channel::kAlexa) {
    return absl::FailedPreconditionError(
        "an Alexa bot speaks only in answer to a request: it cannot send proactive messages");
  }
  const absl::Time now = options_.now();
  GENESIS_ASSIGN_OR_RETURN(absl::Time send_time, EarliestSend(now, bot.quiet_hours));
  NewProactive p;
  p.id = options_.new_id ? options_.new_id() : RandomId();
  p.bot_id = bot.id;
  p.channel = ChannelName(bot.channel);
  p.recipient = recipient;
  p.text = text;
  p.request_id = request_id;
  p.send_time = send_time;
  p.day = LocalDay(now, bot.quiet_hours);
  p.daily_limit = bot.proactive_daily_limit;
  p.sandboxed = bot.sandbox;
  return store_->CreateProactive(p, ctx);
}

absl::StatusOr<ProactiveMessage> BotManager::GetProactiveMessage(const std::string& name,
                                                                 const CallContext& ctx) {
  GENESIS_ASSIGN_OR_RETURN(auto parts, SplitName(name, "name", "proactiveMessages"));
  return store_->GetProactive(parts[1], parts[3], ctx);
}

absl::StatusOr<ProactiveMessage> BotManager::ApproveProactiveMessage(const std::string& name,
                                                                     const CallContext& ctx) {
  GENESIS_ASSIGN_OR_RETURN(auto parts, SplitName(name, "name", "proactiveMessages"));
  GENESIS_ASSIGN_OR_RETURN(BotConfig bot, store_->GetBot(parts[1], ctx));
  GENESIS_ASSIGN_OR_RETURN(absl::Time send_time, EarliestSend(options_.now(), bot.quiet_hours));
  return store_->ApproveProactive(parts[1], parts[3], send_time, bot.sandbox, ctx);
}

absl::StatusOr<EraseCounts> BotManager::EraseContact(const std::string& name,
                                                     const CallContext& ctx) {
  GENESIS_ASSIGN_OR_RETURN(auto parts, SplitName(name, "name", "contacts"));
  GENESIS_ASSIGN_OR_RETURN(auto erased, store_->EraseContact(parts[1], parts[3], ctx));
  ForgetConversation(parts[1], parts[3]);
  erased.first.cache = cache_->Erase(erased.second, ctx);
  Logger("bot")->info("erased contact {} of bot {}: {} messages, {} conversations",
                      MaskForLog(parts[3]), parts[1], erased.first.messages,
                      erased.first.conversations);
  return erased.first;
}

absl::StatusOr<int64_t> BotManager::PurgeExpired(const CallContext& ctx) {
  if (options_.retention <= absl::ZeroDuration()) return 0;
  GENESIS_ASSIGN_OR_RETURN(int64_t n, store_->PurgeBefore(options_.now() - options_.retention,
                                                          options_.purge_batch, ctx));
  Inc(metrics_.purged, static_cast<double>(n));
  return n;
}

template <typename Row, typename List>
absl::StatusOr<Page<Row>> BotManager::ListNewestFirst(const std::string& parent, int page_size,
                                                      const std::string& page_token,
                                                      const CallContext& ctx, List list) {
  GENESIS_ASSIGN_OR_RETURN(auto parts, SplitName(parent, "parent", nullptr));
  GENESIS_ASSIGN_OR_RETURN(int limit, PageSize(page_size, "page_size"));
  int64_t before = INT64_MAX;
  if (!page_token.empty()) {
    GENESIS_ASSIGN_OR_RETURN(before, ParseInt(page_token, "page_token"));
  }
  GENESIS_RETURN_IF_ERROR(store_->GetBot(parts[1], ctx).status());
  GENESIS_ASSIGN_OR_RETURN(std::vector<Row> rows, list(parts[1], before, limit + 1));
  Page<Row> page;
  if (static_cast<int>(rows.size()) > limit) {
    rows.resize(limit);
    page.next_page_token = std::to_string(rows.back().id);
  }
  page.values = std::move(rows);
  return page;
}

absl::StatusOr<Page<InboxRow>> BotManager::ListInbox(const std::string& parent, int page_size,
                                                     const std::string& page_token,
                                                     const CallContext& ctx) {
  return ListNewestFirst<InboxRow>(parent, page_size, page_token, ctx,
                                   [&](const std::string& bot, int64_t before, int limit) {
                                     return store_->ListInbox(bot, before, limit, ctx);
                                   });
}

absl::StatusOr<Page<OutboxRow>> BotManager::ListOutbox(const std::string& parent, int page_size,
                                                       const std::string& page_token,
                                                       const CallContext& ctx) {
  return ListNewestFirst<OutboxRow>(parent, page_size, page_token, ctx,
                                    [&](const std::string& bot, int64_t before, int limit) {
                                      return store_->ListOutbox(bot, before, limit, ctx);
                                    });
}

std::string ChannelName(Channel channel) {
  switch (channel) {
    case Channel::kWhatsApp:
      return "whatsapp";
    case Channel::kTelegram:
      return "telegram";
    case Channel::kMattermost:
      return "mattermost";
    case Channel::kAlexa:
      return "alexa";
  }
  return "whatsapp";
}

std::optional<Channel> ChannelFromName(std::string_view name) {
  if (name == "whatsapp") return Channel::kWhatsApp;
  if (name == "telegram") return Channel::kTelegram;
  if (name == "mattermost") return Channel::kMattermost;
  if (name == "alexa") return Channel::kAlexa;
  return std::nullopt;
}

}  // namespace genesis::bot
