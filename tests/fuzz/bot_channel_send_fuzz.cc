// The bot manager's channel clients reading what a channel answers to a send
// (services/bot_manager/channel_client.cc: WhatsApp's Graph API, Telegram's
// Bot API, Mattermost). HttpPost (common/http/http_client.h) is replaced here
// by one that answers with the input, so HttpChannelSender::Send runs as it
// does against a channel, without a network.
// Input: byte 0 picks the channel (% 3: WhatsApp, Telegram, Mattermost),
// byte 1 the HTTP status (an index into kStatuses); the rest is the body.
// Invariants: no exception escapes; a refusal has the code the HTTP status
// maps to; the external id of a sent message, which the outbox stores, is
// storable text (UTF-8, no NUL).
#include <cstdint>
#include <string>
#include <string_view>

#include "common/base/text.h"
#include "common/http/http_client.h"
#include "services/bot_manager/channel_client.h"
#include "tests/fuzz/fuzz_util.h"

namespace genesis {
namespace {

struct Answer {
  int status = 200;
  std::string_view body;
};
thread_local Answer answer;

}  // namespace

absl::StatusOr<HttpResponse> HttpPost(const HttpRequest& request, const BodySink* sink) {
  HttpResponse response;
  response.status = answer.status;
  response.body = std::string(answer.body);
  return response;
}

}  // namespace genesis

namespace {

using namespace genesis::bot;

constexpr int kStatuses[] = {200, 201, 204, 400, 401, 403, 404, 409, 429, 500, 502, 503};

absl::StatusCode CodeOf(int status) {
  if (status >= 200 && status < 300) return absl::StatusCode::kOk;
  if (status == 429) return absl::StatusCode::kResourceExhausted;
  if (status >= 500) return absl::StatusCode::kUnavailable;
  if (status == 401) return absl::StatusCode::kUnauthenticated;
  if (status == 403) return absl::StatusCode::kPermissionDenied;
  if (status == 404) return absl::StatusCode::kFailedPrecondition;
  return absl::StatusCode::kInvalidArgument;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  static HttpChannelSender sender(
      ChannelEndpoints{"http://127.0.0.1:9", "v17.0", "http://127.0.0.1:9", "http://127.0.0.1:9",
                       absl::Seconds(1)},
      [](const std::string&) { return std::optional<std::string>("token-123"); });
  constexpr Channel kChannels[] = {Channel::kWhatsApp, Channel::kTelegram, Channel::kMattermost};
  BotConfig bot;
  bot.id = "b1";
  bot.channel = kChannels[data[0] % 3];
  bot.access_token_env = "TOKEN";
  bot.phone_number_id = "100";
  OutboxRow row;
  row.id = 1;
  row.recipient = "5511999999999";
  row.text = "Olá";
  row.idempotency_key = "k1";
  genesis::answer.status = kStatuses[data[1] % std::size(kStatuses)];
  genesis::answer.body = std::string_view(reinterpret_cast<const char*>(data) + 2, size - 2);

  auto sent = sender.Send(bot, row, genesis::CallContext::Background());
  FUZZ_CHECK(sent.status().code() == CodeOf(genesis::answer.status));
  if (sent.ok()) FUZZ_CHECK(genesis::IsStorableText(sent->external_id));
  return 0;
}
