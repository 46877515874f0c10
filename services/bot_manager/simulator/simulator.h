// A channel simulator: an HTTP server on loopback that speaks the send APIs
// the bot manager uses and records what it receives, so the service runs and
// is tested with no accounts and no network.
//
//   POST /{version}/{phone_number_id}/messages   WhatsApp Cloud API (Bearer token)
//   POST /bot{token}/sendMessage                 Telegram Bot API
//   POST /api/v4/posts                           Mattermost (Bearer token)
//   GET  /_sim/sent     {"count": n, "duplicates": d, "sent": [{channel, to, text, key, id,
//                        repeat, time_us}]}  (?since=N skips the first N sends)
//   POST /_sim/reset    forgets sends and counters
//   POST /_sim/fail     {"count": n, "status": 503}: the next n sends fail with that status
//   GET  /echo.api/echo-api-cert.pem   Alexa's signing certificate chain (PEM; its CA
//                        is made at start, see alexa_signer.h)
//   GET  /_sim/alexa/ca.pem            that CA (what the bot manager must trust)
//   POST /_sim/alexa/sign {"type", "skill_id", "from", "text", "id", "intent", "slot",
//                        "timestamp_offset_s"}: a signed Alexa request
//                        {"body", "signature_256", "cert_url"}; with "channel": "alexa"
//                        /_sim/emit POSTs it to "target" with its headers
//   POST /_sim/emit     {"channel": "whatsapp"|"telegram"|"mattermost", "target": URL,
//                        "secret": S, "from": user, "text": T, "id": external id,
//                        "chat": chat/channel id}: builds the channel's webhook, signs it
//                        the channel's way and POSTs it to the target; answers
//                        {"status": HTTP status, "body": response body}
//
// A send that repeats an Idempotency-Key header (or a Mattermost
// pending_post_id) already seen gets the first answer again and is counted in
// `duplicates`, not in `sent`: exactly-once is visible here. With
// collapse_repeats false (a real WhatsApp or Telegram, which have no such
// key) it is also recorded in `sent` as a new message, with "repeat": true,
// so tests count what a contact would see. One thread per connection, at most
// 512 connections. Thread-safe.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace genesis::bot::sim {

class ChannelSimulator {
 public:
  static absl::StatusOr<std::unique_ptr<ChannelSimulator>> Start(const std::string& host, int port,
                                                                 bool collapse_repeats = true);
  ~ChannelSimulator();
  ChannelSimulator(const ChannelSimulator&) = delete;
  ChannelSimulator& operator=(const ChannelSimulator&) = delete;

  [[nodiscard]] int port() const;
  [[nodiscard]] std::string url() const;
  [[nodiscard]] int sent() const;
  [[nodiscard]] int duplicates() const;

  struct Impl;

 private:
  explicit ChannelSimulator(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The webhook body and headers the simulator emits (exposed for the benchmark).
struct SignedWebhook {
  std::string path_channel;  // whatsapp, telegram, mattermost
  std::string body;
  std::vector<std::string> headers;  // "Name: value"
};
absl::StatusOr<SignedWebhook> BuildWebhook(const std::string& channel, const std::string& secret,
                                           const std::string& from, const std::string& chat,
                                           const std::string& text, const std::string& id);

}  // namespace genesis::bot::sim
