// Proactive messages: another service notifies a contact, within the bot's
// quiet hours and daily limit, with approval of the first message to a new
// contact.
#include <random>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "common/base/status.h"
#include "common/base/text.h"
#include "services/bot_manager/conversations/conversations.h"
#include "services/bot_manager/resource_names.h"

namespace genesis::bot {
namespace {

std::string RandomId() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string out(16, 'a');
  for (char& c : out) c = kAlphabet[rng() % 36];
  return out;
}

}  // namespace

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

absl::StatusOr<ProactiveMessage> Conversations::CreateProactiveMessage(
    const std::string& parent, const std::string& recipient, const std::string& text,
    const std::string& request_id, const CallContext& ctx) {
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
  GENESIS_ASSIGN_OR_RETURN(BotConfig bot, bots_->Read(parts[1], ctx));
  if (bot.channel == Channel::kAlexa) {
    return absl::FailedPreconditionError(
        "an Alexa bot speaks only in answer to a request: it cannot send proactive messages");
  }
  const absl::Time now = options_.clock->Now();
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

absl::StatusOr<ProactiveMessage> Conversations::GetProactiveMessage(const std::string& name,
                                                                    const CallContext& ctx) {
  GENESIS_ASSIGN_OR_RETURN(auto parts, SplitName(name, "name", "proactiveMessages"));
  return store_->GetProactive(parts[1], parts[3], ctx);
}

absl::StatusOr<ProactiveMessage> Conversations::ApproveProactiveMessage(const std::string& name,
                                                                        const CallContext& ctx) {
  GENESIS_ASSIGN_OR_RETURN(auto parts, SplitName(name, "name", "proactiveMessages"));
  GENESIS_ASSIGN_OR_RETURN(BotConfig bot, bots_->Read(parts[1], ctx));
  GENESIS_ASSIGN_OR_RETURN(absl::Time send_time,
                           EarliestSend(options_.clock->Now(), bot.quiet_hours));
  return store_->ApproveProactive(parts[1], parts[3], send_time, bot.sandbox, ctx);
}

}  // namespace genesis::bot
