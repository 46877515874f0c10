#include "services/bot_manager/registry/bot_registry.h"

#include <algorithm>
#include <initializer_list>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/base/request_key.h"
#include "common/base/status.h"
#include "common/base/text.h"
#include "services/bot_manager/reasons.h"
#include "services/bot_manager/resource_names.h"
#include "services/bot_manager/router_client.h"

namespace genesis::bot {
namespace {

constexpr size_t kMaxPromptBytes = 16 * 1024;

bool ValidEnvName(const std::string& name) {
  if (name.empty() || absl::ascii_isdigit(name[0])) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return absl::ascii_isupper(c) || absl::ascii_isdigit(c) || c == '_';
  });
}

}  // namespace

absl::Status ValidateBot(const BotConfig& bot, const std::string& prefix) {
  FieldViolations v;
  auto f = [&](const char* name) { return absl::StrCat(prefix, name); };
  // Every text that is stored: PostgreSQL holds neither NUL nor invalid UTF-8.
  // The other rules skip such a field (some would echo its value back) and
  // check all the others, so every violation is reported at once.
  std::set<std::string> unstorable;
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
    if (!CheckStorableText(f(name), *value, &v)) unstorable.insert(name);
  }
  auto ok = [&](const char* name) { return unstorable.count(name) == 0; };
  if (ok("display_name") && bot.display_name.size() > 200)
    v.Add(f("display_name"), "at most 200 bytes");
  if (ok("system_prompt") && bot.system_prompt.size() > kMaxPromptBytes) {
    v.Add(f("system_prompt"), absl::StrCat("at most ", kMaxPromptBytes, " bytes"));
  }
  if (ok("task_type") && !TaskOf(bot.task_type)) {
    v.Add(f("task_type"), absl::StrCat("unknown task '", bot.task_type,
                                       "' (chat, reasoning, classification, extraction, "
                                       "long_context, summarization, or empty)"));
  }
  // Alexa requests are signed by Amazon's certificate and answered in the
  // response: an Alexa bot needs its skill id, no secret nor sending token.
  const bool alexa = bot.channel == Channel::kAlexa;
  if (!ok("alexa_skill_id")) {
    // reported above
  } else if (alexa) {
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
  if (!alexa && ok("webhook_secret_env") && !ValidEnvName(bot.webhook_secret_env)) {
    v.Add(f("webhook_secret_env"),
          "required: the name of the environment variable holding the webhook secret "
          "(A-Z, 0-9, _)");
  }
  if (!alexa && ok("access_token_env") && !ValidEnvName(bot.access_token_env)) {
    v.Add(f("access_token_env"),
          "required: the name of the environment variable holding the sending token (A-Z, 0-9, "
          "_)");
  }
  if (bot.channel == Channel::kWhatsApp) {
    if (ok("verify_token_env") && !ValidEnvName(bot.verify_token_env)) {
      v.Add(f("verify_token_env"),
            "required for WhatsApp: the environment variable holding the verification token");
    }
    if (ok("phone_number_id") &&
        (bot.phone_number_id.empty() ||
         !std::all_of(bot.phone_number_id.begin(), bot.phone_number_id.end(),
                      [](char c) { return absl::ascii_isdigit(c); }))) {
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
  if (ok("quiet_hours.time_zone") && !q.time_zone.empty() &&
      !absl::LoadTimeZone(q.time_zone, &tz)) {
    v.Add(f("quiet_hours.time_zone"),
          absl::StrCat("unknown time zone '", q.time_zone, "' (IANA, e.g. America/Sao_Paulo)"));
  }
  return v.ToStatus();
}

BotRegistry::BotRegistry(BotRegistryStore* store, const BotManagerOptions& options)
    : store_(store), options_(options) {}

absl::StatusOr<BotConfig> BotRegistry::Cached(const std::string& id, const CallContext& ctx) {
  const absl::Time now = absl::Now();
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = cache_.find(id);
    if (it != cache_.end() && it->second.second > now) return it->second.first;
  }
  GENESIS_ASSIGN_OR_RETURN(BotConfig bot, store_->GetBot(id, ctx));
  std::lock_guard<std::mutex> lock(mu_);
  if (cache_.size() > 10000) cache_.clear();
  cache_[id] = {bot, now + options_.bot_cache_ttl};
  return bot;
}

void BotRegistry::Forget(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  cache_.erase(id);
}

absl::StatusOr<BotConfig> BotRegistry::CreateBot(const std::string& bot_id, BotConfig bot,
                                                 const std::string& request_id,
                                                 const CallContext& ctx) {
  FieldViolations v;
  if (!ValidBotId(bot_id)) {
    v.Add("bot_id", "required: 1-63 lower-case letters, digits and '-', starting with a letter");
  }
  if (auto st = ValidateBot(bot, "bot."); !st.ok()) {
    for (auto& [field, desc] : FieldViolationsOf(st)) v.Add(field, desc);
  }
  CheckRequestId("request_id", request_id, &v);
  GENESIS_RETURN_IF_ERROR(v.ToStatus());
  bot.id = bot_id;
  const QuietHours& q = bot.quiet_hours;
  const std::optional<RequestKey> key = MakeRequestKey(
      request_id,
      {bot.id, static_cast<int>(bot.channel), bot.display_name, bot.system_prompt, bot.task_type,
       bot.webhook_secret_env, bot.access_token_env, bot.verify_token_env, bot.phone_number_id,
       bot.alexa_skill_id, bot.max_context_messages, bot.max_reply_tokens,
       bot.proactive_daily_limit, q.start_hour, q.end_hour, q.time_zone, bot.sandbox});
  return store_->CreateBot(bot, key, ctx);
}

absl::StatusOr<BotConfig> BotRegistry::GetBot(const std::string& name, const CallContext& ctx) {
  GENESIS_ASSIGN_OR_RETURN(auto parts, SplitName(name, "name", nullptr));
  return store_->GetBot(parts[1], ctx);
}

absl::StatusOr<Page<BotConfig>> BotRegistry::ListBots(int page_size, const std::string& page_token,
                                                      const CallContext& ctx) {
  GENESIS_ASSIGN_OR_RETURN(int limit,
                           PageSize(page_size, options_.default_page_size, options_.max_page_size));
  // Opaque tokens (common/base/paging.h): the position is the last bot id of the page.
  std::string after;
  if (!page_token.empty()) {
    GENESIS_ASSIGN_OR_RETURN(after, DecodePageToken(page_token, "bots", "-"));
    if (!ValidBotId(after)) return InvalidField("page_token", "not a token this service returned");
  }
  GENESIS_ASSIGN_OR_RETURN(auto bots, store_->ListBots(after, limit + 1, ctx));
  Page<BotConfig> page;
  if (static_cast<int>(bots.size()) > limit) {
    bots.resize(limit);
    page.next_page_token = EncodePageToken("bots", "-", bots.back().id);
  }
  page.values = std::move(bots);
  return page;
}

absl::StatusOr<BotConfig> BotRegistry::UpdateBot(const std::string& name, const BotConfig& bot,
                                                 const std::vector<std::string>& mask,
                                                 const std::string& etag, const CallContext& ctx) {
  GENESIS_ASSIGN_OR_RETURN(auto parts, SplitName(name, "bot.name", nullptr));
  GENESIS_ASSIGN_OR_RETURN(BotConfig current, store_->GetBot(parts[1], ctx));
  if (!etag.empty() && etag != absl::StrCat("\"", current.version, "\"")) {
    return WithReason(
        absl::AbortedError("the bot changed since it was read (stale etag); get it again"),
        reasons::kEtagMismatch, {{"bot", name}});
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
  Forget(parts[1]);
  return updated;
}

absl::Status BotRegistry::DeleteBot(const std::string& name, const CallContext& ctx) {
  GENESIS_ASSIGN_OR_RETURN(auto parts, SplitName(name, "name", nullptr));
  auto st = store_->DeleteBot(parts[1], ctx);
  Forget(parts[1]);
  return st;
}

}  // namespace genesis::bot
