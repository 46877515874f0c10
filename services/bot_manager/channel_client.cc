#include "services/bot_manager/channel_client.h"

#include <curl/curl.h>

#include <memory>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"

namespace genesis::bot {
namespace {

using nlohmann::json;

size_t Collect(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

struct CurlDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};

CURL* ThreadHandle() {
  static const bool init = [] { return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK; }();
  (void)init;
  thread_local std::unique_ptr<CURL, CurlDeleter> handle(curl_easy_init());
  curl_easy_reset(handle.get());
  return handle.get();
}

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

}  // namespace

absl::StatusOr<HttpResult> PostJson(const std::string& url, const std::vector<std::string>& headers,
                                    const std::string& body, absl::Duration timeout) {
  CURL* curl = ThreadHandle();
  if (curl == nullptr) return absl::UnavailableError("curl_easy_init failed");
  HttpResult result;
  curl_slist* list = curl_slist_append(nullptr, "Content-Type: application/json");
  for (const auto& h : headers) list = curl_slist_append(list, h.c_str());
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, Collect);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &result.body);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS,
                   std::max<long>(1, static_cast<long>(absl::ToInt64Milliseconds(timeout))));
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 3000L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  CURLcode rc = curl_easy_perform(curl);
  curl_slist_free_all(list);
  if (rc == CURLE_OPERATION_TIMEDOUT) {
    return absl::DeadlineExceededError(absl::StrCat("POST ", url, " timed out"));
  }
  if (rc == CURLE_URL_MALFORMAT || rc == CURLE_UNSUPPORTED_PROTOCOL) {
    return absl::InvalidArgumentError(absl::StrCat("bad URL '", url, "'"));
  }
  if (rc != CURLE_OK) {
    absl::Status st =
        absl::UnavailableError(absl::StrCat("POST ", url, ": ", curl_easy_strerror(rc)));
    // Not connected: the request never left. Anything later: it may have arrived.
    if (rc != CURLE_COULDNT_CONNECT && rc != CURLE_COULDNT_RESOLVE_HOST &&
        rc != CURLE_COULDNT_RESOLVE_PROXY) {
      st.SetPayload(kMaybeDeliveredPayload, absl::Cord("1"));
    }
    return st;
  }
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &result.status);
  return result;
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
      out.external_id = answer["messages"][0].value("id", "");
    } else if (bot.channel == Channel::kTelegram && answer.contains("result") &&
               answer["result"].is_object()) {
      auto id = answer["result"].find("message_id");
      if (id != answer["result"].end() && id->is_number_integer()) {
        out.external_id = std::to_string(id->get<int64_t>());
      }
    } else if (bot.channel == Channel::kMattermost) {
      out.external_id = answer.value("id", "");
    }
  }
  return out;
}

}  // namespace genesis::bot
