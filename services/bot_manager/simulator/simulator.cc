#include "services/bot_manager/simulator/simulator.h"

#include <map>
#include <mutex>
#include <vector>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/http/sim_http_server.h"
#include "services/bot_manager/channel_client.h"
#include "services/bot_manager/channels/webhook_util.h"
#include "services/bot_manager/simulator/alexa_signer.h"

namespace genesis::bot::sim {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using nlohmann::json;

namespace {
constexpr int kMaxConnections = 512;

struct Reply {
  http::status status = http::status::ok;
  std::string body;
  std::string content_type = "application/json";
};

constexpr char kAlexaCertPath[] = "/echo.api/echo-api-cert.pem";
}  // namespace

absl::StatusOr<SignedWebhook> BuildWebhook(const std::string& channel, const std::string& secret,
                                           const std::string& from, const std::string& chat,
                                           const std::string& text, const std::string& id) {
  SignedWebhook w;
  w.path_channel = channel;
  const int64_t now = absl::ToUnixSeconds(absl::Now());
  if (channel == "whatsapp") {
    json msg = {{"from", from},
                {"id", id},
                {"timestamp", std::to_string(now)},
                {"type", "text"},
                {"text", {{"body", text}}}};
    json body = {{"object", "whatsapp_business_account"},
                 {"entry",
                  {{{"id", "sim-waba"},
                    {"changes",
                     {{{"field", "messages"},
                       {"value",
                        {{"messaging_product", "whatsapp"},
                         {"metadata", {{"phone_number_id", chat}}},
                         {"contacts", {{{"wa_id", from}, {"profile", {{"name", "Sim"}}}}}},
                         {"messages", {msg}}}}}}}}}}};
    w.body = body.dump();
    w.headers.push_back(
        absl::StrCat("X-Hub-Signature-256: sha256=", HmacSha256Hex(secret, w.body)));
  } else if (channel == "telegram") {
    int64_t update_id = 0;
    if (!absl::SimpleAtoi(id, &update_id)) {
      return absl::InvalidArgumentError("a Telegram id must be an integer update_id");
    }
    int64_t user = 0;
    if (!absl::SimpleAtoi(from, &user)) user = 1;
    // Telegram chat ids are integers; a non-numeric one is passed as given.
    int64_t chat_num = 0;
    const std::string chat_id = chat.empty() ? from : chat;
    json chat_json = absl::SimpleAtoi(chat_id, &chat_num) ? json(chat_num) : json(chat_id);
    json body = {{"update_id", update_id},
                 {"message",
                  {{"message_id", update_id},
                   {"date", now},
                   {"from", {{"id", user}, {"is_bot", false}, {"first_name", "Sim"}}},
                   {"chat", {{"id", chat_json}, {"type", "private"}}},
                   {"text", text}}}};
    w.body = body.dump();
    w.headers.push_back(absl::StrCat("X-Telegram-Bot-Api-Secret-Token: ", secret));
  } else if (channel == "mattermost") {
    json body = {{"token", secret}, {"team_id", "simteam"},      {"channel_id", chat},
                 {"user_id", from}, {"user_name", "sim"},        {"post_id", id},
                 {"text", text},    {"trigger_word", "@genesis"}};
    w.body = body.dump();
  } else {
    return absl::InvalidArgumentError(absl::StrCat("unknown channel '", channel, "'"));
  }
  return w;
}

struct ChannelSimulator::Impl {
  std::unique_ptr<SimHttpServer> server;
  std::string host;
  int port = 0;
  std::unique_ptr<AlexaSigner> alexa;  // Alexa's CA and signing certificate

  mutable std::mutex mu;
  json sends = json::array();
  std::map<std::string, std::string> by_key;  // idempotency key -> first answer
  int duplicates = 0;
  bool collapse_repeats = true;
  int fail_count = 0;
  int fail_status = 503;
  int64_t next_id = 1;
  // One request on a connection of `server`.
  bool Serve(SimHttpServer::Socket& socket, const SimHttpServer::Request& req) {
    Reply r = Handle(req);
    return SimHttpServer::Respond(socket, req, r.status, r.content_type, std::move(r.body));
  }

  static Reply Error(http::status status, const std::string& message) {
    return {status, json{{"error", {{"message", message}}}}.dump()};
  }

  Reply Handle(const http::request<http::string_body>& req) {
    const std::string target(req.target());
    if (absl::StartsWith(target, "/_sim/")) return Admin(req, target);
    if (req.method() == http::verb::get && target == kAlexaCertPath) {
      return {http::status::ok, alexa->chain_pem(), "application/x-pem-file"};
    }
    if (req.method() != http::verb::post) return Error(http::status::method_not_allowed, "POST");
    json body = json::parse(req.body(), nullptr, false);
    if (!body.is_object()) return Error(http::status::bad_request, "body is not a JSON object");
    std::string channel, to, text;
    const std::string auth(req[http::field::authorization]);
    if (target == "/api/v4/posts") {
      channel = "mattermost";
      to = body.value("channel_id", "");
      text = body.value("message", "");
      if (!absl::StartsWith(auth, "Bearer ")) return Error(http::status::unauthorized, "token");
    } else if (absl::StartsWith(target, "/bot") && absl::EndsWith(target, "/sendMessage")) {
      channel = "telegram";
      if (body.contains("chat_id")) {
        to = body["chat_id"].is_string() ? body["chat_id"].get<std::string>()
                                         : body["chat_id"].dump();
      }
      text = body.value("text", "");
    } else if (absl::EndsWith(target, "/messages") &&
               std::count(target.begin(), target.end(), '/') == 3) {
      channel = "whatsapp";
      to = body.value("to", "");
      text = body.value("text", json::object()).value("body", "");
      if (!absl::StartsWith(auth, "Bearer ")) {
        return Error(http::status::unauthorized, "missing Bearer token");
      }
    } else {
      return Error(http::status::not_found, absl::StrCat("no such endpoint: ", target));
    }
    if (to.empty() || text.empty()) {
      return Error(http::status::bad_request, "recipient and text are required");
    }
    std::string key(req["Idempotency-Key"]);
    if (key.empty() && channel == "mattermost") key = body.value("pending_post_id", "");
    std::lock_guard<std::mutex> lock(mu);
    if (fail_count > 0) {
      --fail_count;
      return Error(static_cast<http::status>(fail_status), "simulated failure");
    }
    bool repeat = false;
    if (!key.empty()) {
      auto it = by_key.find(key);
      if (it != by_key.end()) {
        ++duplicates;
        if (collapse_repeats) return {http::status::ok, it->second};
        repeat = true;  // delivered again, as a channel without the key would
      }
    }
    const int64_t n = next_id++;
    std::string id;
    json answer;
    if (channel == "whatsapp") {
      id = absl::StrCat("wamid.SIM", n);
      answer = {{"messaging_product", "whatsapp"},
                {"contacts", {{{"input", to}, {"wa_id", to}}}},
                {"messages", {{{"id", id}}}}};
    } else if (channel == "telegram") {
      id = std::to_string(n);
      answer = {{"ok", true}, {"result", {{"message_id", n}, {"text", text}}}};
    } else {
      id = absl::StrCat("post", n);
      answer = {{"id", id}, {"channel_id", to}, {"message", text}};
    }
    sends.push_back({{"channel", channel},
                     {"to", to},
                     {"text", text},
                     {"key", key},
                     {"id", id},
                     {"repeat", repeat},
                     {"time_us", absl::ToUnixMicros(absl::Now())}});
    std::string out = answer.dump();
    if (!key.empty() && !repeat) by_key[key] = out;
    return {channel == "mattermost" ? http::status::created : http::status::ok, out};
  }

  Reply Admin(const http::request<http::string_body>& req, const std::string& target) {
    if (absl::StartsWith(target, "/_sim/sent")) {
      size_t since = 0;
      if (auto q = target.find("since="); q != std::string::npos) {
        absl::SimpleAtoi(target.substr(q + 6), &since);
      }
      std::lock_guard<std::mutex> lock(mu);
      json out = json::array();
      for (size_t i = since; i < sends.size(); ++i) out.push_back(sends[i]);
      return {http::status::ok,
              json{{"count", sends.size()}, {"duplicates", duplicates}, {"sent", std::move(out)}}
                  .dump()};
    }
    if (target == "/_sim/reset") {
      std::lock_guard<std::mutex> lock(mu);
      sends = json::array();
      by_key.clear();
      duplicates = 0;
      fail_count = 0;
      return {http::status::ok, "{}"};
    }
    if (target == "/_sim/alexa/ca.pem") {
      return {http::status::ok, alexa->ca_pem(), "application/x-pem-file"};
    }
    json body = json::parse(req.body(), nullptr, false);
    if (!body.is_object()) return Error(http::status::bad_request, "body is not a JSON object");
    if (target == "/_sim/alexa/sign" ||
        (target == "/_sim/emit" && body.value("channel", "") == "alexa")) {
      json signed_request = SignAlexa(body);
      if (target == "/_sim/alexa/sign") return {http::status::ok, signed_request.dump()};
      auto res = PostJson(
          body.value("target", ""),
          {absl::StrCat("Signature-256: ", signed_request["signature_256"].get<std::string>()),
           absl::StrCat("SignatureCertChainUrl: ", signed_request["cert_url"].get<std::string>())},
          signed_request["body"].get<std::string>(), absl::Seconds(30));
      if (!res.ok()) return Error(http::status::bad_gateway, std::string(res.status().message()));
      return {http::status::ok, json{{"status", res->status}, {"body", res->body}}.dump()};
    }
    if (target == "/_sim/fail") {
      std::lock_guard<std::mutex> lock(mu);
      fail_count = body.value("count", 1);
      fail_status = body.value("status", 503);
      return {http::status::ok, "{}"};
    }
    if (target == "/_sim/emit") {
      auto hook =
          BuildWebhook(body.value("channel", ""), body.value("secret", ""), body.value("from", ""),
                       body.value("chat", ""), body.value("text", ""), body.value("id", ""));
      if (!hook.ok()) return Error(http::status::bad_request, std::string(hook.status().message()));
      auto res = PostJson(body.value("target", ""), hook->headers, hook->body, absl::Seconds(10));
      if (!res.ok()) return Error(http::status::bad_gateway, std::string(res.status().message()));
      return {http::status::ok, json{{"status", res->status}, {"body", res->body}}.dump()};
    }
    return Error(http::status::not_found, absl::StrCat("no such endpoint: ", target));
  }

  // An Alexa request built from {type, skill_id, from, text, id, intent, slot,
  // timestamp_offset_s} and signed: {body, signature_256, cert_url}.
  json SignAlexa(const json& in) const {
    AlexaRequestSpec spec;
    spec.type = in.value("type", spec.type);
    spec.application_id = in.value("skill_id", "");
    spec.user_id = in.value("from", spec.user_id);
    spec.text = in.value("text", "");
    spec.request_id = in.value("id", "");
    spec.intent = in.value("intent", spec.intent);
    spec.slot = in.value("slot", spec.slot);
    spec.timestamp = absl::Now() + absl::Seconds(in.value("timestamp_offset_s", 0));
    const std::string body = BuildAlexaRequest(spec);
    return {{"body", body},
            {"signature_256", alexa->Sign(body)},
            {"cert_url", absl::StrCat("http://", host, ":", port, kAlexaCertPath)}};
  }

  void Stop() {
    if (server) server->Stop();
  }
};

absl::StatusOr<std::unique_ptr<ChannelSimulator>> ChannelSimulator::Start(const std::string& host,
                                                                          int port,
                                                                          bool collapse_repeats) {
  auto impl = std::make_unique<Impl>();
  impl->collapse_repeats = collapse_repeats;
  auto alexa = AlexaSigner::Create();
  if (!alexa.ok()) return alexa.status();
  impl->alexa = std::move(*alexa);
  Impl* raw = impl.get();
  auto server =
      SimHttpServer::Start(host, port, kMaxConnections,
                           [raw](SimHttpServer::Socket& socket, const SimHttpServer::Request& req) {
                             return raw->Serve(socket, req);
                           });
  if (!server.ok()) return server.status();
  impl->server = std::move(*server);
  impl->host = host;
  impl->port = impl->server->port();
  return std::unique_ptr<ChannelSimulator>(new ChannelSimulator(std::move(impl)));
}

ChannelSimulator::ChannelSimulator(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ChannelSimulator::~ChannelSimulator() { impl_->Stop(); }
int ChannelSimulator::port() const { return impl_->port; }
std::string ChannelSimulator::url() const {
  return absl::StrCat("http://", impl_->host, ":", impl_->port);
}
int ChannelSimulator::sent() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return static_cast<int>(impl_->sends.size());
}
int ChannelSimulator::duplicates() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->duplicates;
}

}  // namespace genesis::bot::sim
