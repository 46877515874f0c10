#include "services/bot_manager/channel_client.h"

#include <memory>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "common/base/text.h"

namespace genesis::bot {
namespace {

using nlohmann::json;

// The HTTP status as a status: 2xx OK; 429 and 5xx worth retrying; others final.
absl::Status StatusOfHttp(long status, const std::string& body, const std::string& what) {
  if (status >= 200 && status < 300) return absl::OkStatus();
  std::string msg = absl::StrCat(what, " answered HTTP ", status, ": ", body.substr(0, 300));
  if (status == 429) return absl::ResourceExhaustedError(msg);
  if (status >= 500) return absl::UnavailableError(msg);
  if (status == 401) return absl::UnauthenticatedError(msg);
  if (status == 403) return absl::PermissionDeniedError(msg);
  if (status == 404) return absl::FailedPreconditionError(msg);
  return absl::InvalidArgumentError(msg);
}

// The id member of a channel's answer when it is a string the outbox can
// store; "" (no external id) for any other shape, so an answer in an
// unexpected format never throws out of Send.
std::string IdOf(const json& object, const char* key) {
  if (!object.is_object()) return "";
  auto it = object.find(key);
  if (it == object.end() || !it->is_string()) return "";
  std::string id = it->get<std::string>();
  return IsStorableText(id) ? id : "";
}

}  // namespace

absl::StatusOr<HttpResponse> PostJson(const std::string& url,
                                      const std::vector<std::string>& headers,
                                      const std::string& body, absl::Duration timeout) {
  HttpRequest request;
  request.url = url;
  request.headers = {"Content-Type: application/json"};
  request.headers.insert(request.headers.end(), headers.begin(), headers.end());
  request.body = body;
  request.timeout = std::max(timeout, absl::Milliseconds(1));
  request.connect_timeout = absl::Seconds(3);
  auto response = HttpPost(request);
  if (response.ok()) return response;
  // The outbox row's error names the endpoint (Send masks the token in it).
  absl::Status st(response.status().code(),
                  absl::StrCat("POST ", url, ": ", response.status().message()));
  // Connected before the failure: the request may have arrived.
  if (HttpRequestMayHaveBeenSent(response.status())) {
    st.SetPayload(kMaybeDeliveredPayload, absl::Cord("1"));
  }
  return st;
}

absl::StatusOr<SendResult> HttpChannelSender::Send(const BotConfig& bot, const OutboxRow& row,
                                                   const CallContext& ctx) {
  auto token = secrets_(bot.access_token_env);
  if (!token) {
    return absl::FailedPreconditionError(
        absl::StrCat("bot '", bot.id, "': the access token variable '", bot.access_token_env,
                     "' is not set in the service's environment"));
  }
  const absl::Duration timeout = std::min(endpoints_.timeout, ctx.deadline - absl::Now());
  std::vector<std::string> headers = {absl::StrCat("Idempotency-Key: ", row.idempotency_key)};
  std::string url;
  json body;
  std::string what;
  switch (bot.channel) {
    case Channel::kWhatsApp:
      url = absl::StrCat(endpoints_.whatsapp_base_url, "/", endpoints_.graph_version, "/",
                         bot.phone_number_id, "/messages");
      headers.push_back(absl::StrCat("Authorization: Bearer ", *token));
      body = {{"messaging_product", "whatsapp"},
              {"recipient_type", "individual"},
              {"to", row.recipient},
              {"type", "text"},
              {"text", {{"body", row.text}}}};
      what = "the Graph API";
      break;
    case Channel::kTelegram:
      url = absl::StrCat(endpoints_.telegram_base_url, "/bot", *token, "/sendMessage");
      body = {{"chat_id", row.recipient}, {"text", row.text}};
      what = "the Telegram Bot API";
      break;
    case Channel::kMattermost:
      if (endpoints_.mattermost_base_url.empty()) {
        return absl::FailedPreconditionError("--mattermost_base_url is not configured");
      }
      url = absl::StrCat(endpoints_.mattermost_base_url, "/api/v4/posts");
      headers.push_back(absl::StrCat("Authorization: Bearer ", *token));
      body = {{"channel_id", row.recipient},
              {"message", row.text},
              {"pending_post_id", row.idempotency_key}};
      what = "Mattermost";
      break;
    case Channel::kAlexa:
      return absl::FailedPreconditionError(
          "Alexa answers are spoken in the response to each request; nothing to send");
  }
  auto res = PostJson(url, headers, body.dump(), timeout);
  if (!res.ok()) {
    // Telegram's URL carries the bot token: keep it out of logs and outbox errors.
    std::string msg(res.status().message());
    absl::StrReplaceAll({{*token, "<token>"}}, &msg);
    absl::Status st(res.status().code(), msg);
    if (auto p = res.status().GetPayload(kMaybeDeliveredPayload)) {
      st.SetPayload(kMaybeDeliveredPayload, *p);
    }
    return st;
  }
  if (auto st = StatusOfHttp(res->status, res->body, what); !st.ok()) return st;
  json answer = json::parse(res->body, nullptr, false);
  SendResult out;
  if (answer.is_object()) {
    if (bot.channel == Channel::kWhatsApp && answer.contains("messages") &&
        answer["messages"].is_array() && !answer["messages"].empty()) {
      out.external_id = IdOf(answer["messages"][0], "id");
    } else if (bot.channel == Channel::kTelegram && answer.contains("result") &&
               answer["result"].is_object()) {
      auto id = answer["result"].find("message_id");
      if (id != answer["result"].end() && id->is_number_integer()) {
        out.external_id = std::to_string(id->get<int64_t>());
      }
    } else if (bot.channel == Channel::kMattermost) {
      out.external_id = IdOf(answer, "id");
    }
  }
  return out;
}

}  // namespace genesis::bot
