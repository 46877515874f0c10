#include "services/llm_router/simulator/simulator.h"

#include <condition_variable>
#include <map>
#include <mutex>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/http/sim_http_server.h"
#include "services/llm_router/simulator/wire.h"

namespace genesis::llmrouter::sim {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using nlohmann::json;

namespace {

constexpr int kMaxConnections = 256;

// [{"name": "...", "arguments": {...} or "json text"}] (nullopt: not that shape).
std::optional<std::vector<SimToolCall>> ParseToolCalls(const json& j) {
  if (!j.is_array()) return std::nullopt;
  std::vector<SimToolCall> calls;
  for (const auto& c : j) {
    if (!c.is_object() || !c.contains("name") || !c["name"].is_string()) return std::nullopt;
    const json& args = c.value("arguments", json::object());
    calls.push_back(
        {c["name"].get<std::string>(), args.is_string() ? args.get<std::string>() : args.dump()});
  }
  return calls;
}

bool PeerClosed(int fd) {
  char c;
  return ::recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
}

}  // namespace

struct ProviderSimulator::Impl {
  std::unique_ptr<SimHttpServer> server;
  std::string host;
  int port = 0;

  mutable std::mutex mu;
  std::condition_variable stop_cv;
  bool stopping = false;
  std::map<std::string, ModelScript> scripts;
  std::map<std::string, int> failures_served;
  std::map<std::string, int> requests;
  SimulatorOptions options;

  // Waits `ms` or until the simulator stops; false when stopping.
  bool Pause(int ms) {
    std::unique_lock<std::mutex> lock(mu);
    return !stop_cv.wait_for(lock, std::chrono::milliseconds(ms), [&] { return stopping; });
  }

  ModelScript ScriptFor(const std::string& model) {
    std::lock_guard<std::mutex> lock(mu);
    ++requests[model];
    if (auto it = scripts.find(model); it != scripts.end()) return it->second;
    ModelScript s;
    if (absl::EndsWith(model, "-fail503")) s.fail_status = 503;
    if (absl::EndsWith(model, "-429")) {
      s.fail_status = 429;
      s.retry_after_s = 1;
    }
    if (absl::EndsWith(model, "-hang")) s.hang = true;
    return s;
  }

  // True when this request must fail (counts scripted failures).
  bool ShouldFail(const std::string& model, const ModelScript& s) {
    if (s.fail_status == 0) return false;
    if (s.fail_count < 0) return true;
    std::lock_guard<std::mutex> lock(mu);
    return failures_served[model]++ < s.fail_count;
  }

  bool Reply(tcp::socket& socket, const http::request<http::string_body>& req, http::status status,
             const std::string& body, double retry_after_s = -1) {
    std::vector<std::pair<std::string, std::string>> headers;
    if (retry_after_s >= 0) headers.emplace_back("Retry-After", absl::StrCat(retry_after_s));
    return SimHttpServer::Respond(socket, req, status, "application/json", body, headers);
  }

  bool Handle(tcp::socket& socket, const http::request<http::string_body>& req) {
    std::string target(req.target());
    if (target.rfind("/_sim/", 0) == 0) return Admin(socket, req, target);
    Call call;
    if (target == "/v1/chat/completions") {
      call.wire = Wire::kOpenAi;
    } else if (target == "/v1/messages") {
      call.wire = Wire::kAnthropic;
    } else if (target.rfind("/v1beta/models/", 0) == 0) {
      call.wire = Wire::kGemini;
      std::string rest = target.substr(15);
      size_t colon = rest.find(':');
      if (colon == std::string::npos) {
        return Reply(socket, req, http::status::not_found, ErrorBody(call.wire, 404));
      }
      call.model = rest.substr(0, colon);
      std::string verb = rest.substr(colon + 1);
      call.stream = verb.rfind("streamGenerateContent", 0) == 0;
      if (call.stream && verb.find("alt=sse") == std::string::npos) {
        return Reply(socket, req, http::status::bad_request, ErrorBody(call.wire, 400));
      }
    } else {
      return Reply(socket, req, http::status::not_found, R"({"error":{"message":"no such path"}})");
    }
    call.body = json::parse(req.body(), nullptr, false);
    if (req.method() != http::verb::post || call.body.is_discarded() || !call.body.is_object()) {
      return Reply(socket, req, http::status::bad_request, ErrorBody(call.wire, 400));
    }
    if (call.wire != Wire::kGemini) {
      call.model = call.body.value("model", "");
      call.stream = call.body.value("stream", false);
      call.include_usage =
          call.body.value("stream_options", json::object()).value("include_usage", false);
    }
    if (call.wire == Wire::kAnthropic && !call.body.contains("max_tokens")) {
      return Reply(socket, req, http::status::bad_request, ErrorBody(call.wire, 400));
    }
    ModelScript script = ScriptFor(call.model);
    if (script.hang) {
      // Until the client gives up (closes) or the simulator stops.
      while (Pause(10) && !PeerClosed(socket.native_handle())) {
      }
      return false;
    }
    if (options.instant) {
      script.latency_ms = 0;
      script.chunk_delay_ms = 0;
    }
    if (script.latency_ms > 0 && !Pause(script.latency_ms)) return false;
    if (ShouldFail(call.model, script)) {
      return Reply(socket, req, static_cast<http::status>(script.fail_status),
                   ErrorBody(call.wire, script.fail_status, script.fail_message),
                   script.retry_after_s);
    }
    if (WantsToolCall(call)) {
      std::vector<SimToolCall> calls =
          script.tool_calls ? *script.tool_calls : DefaultToolCalls(call);
      if (auto h = req.find("x-sim-tool-calls"); h != req.end()) {
        auto parsed = ParseToolCalls(json::parse(std::string(h->value()), nullptr, false));
        if (parsed) calls = std::move(*parsed);
      }
      const int64_t in =
          script.input_tokens >= 0 ? script.input_tokens : (InputBytes(call) + 3) / 4;
      int64_t bytes = 0;
      for (const auto& c : calls) bytes += static_cast<int64_t>(c.name.size() + c.arguments.size());
      const int64_t out =
          script.output_tokens >= 0 ? script.output_tokens : std::max<int64_t>(1, (bytes + 3) / 4);
      if (!call.stream) {
        return Reply(socket, req, http::status::ok, WholeToolCalls(call, calls, in, out));
      }
      Stream(socket, ToolStreamHead(call, in), ToolCallEvents(call, calls, in, out),
             ToolStreamTail(call, calls.size(), in, out), script);
      return false;
    }
    std::optional<std::string> fixed = script.answer ? script.answer : options.answer;
    if (auto h = req.find("x-sim-answer"); h != req.end()) fixed = std::string(h->value());
    auto words = fixed ? FixedPieces(*fixed) : AnswerWords(call);
    std::string text;
    for (const auto& w : words) text += w;
    const int64_t in = script.input_tokens >= 0 ? script.input_tokens : (InputBytes(call) + 3) / 4;
    const int64_t out =
        script.output_tokens >= 0 ? script.output_tokens : static_cast<int64_t>(words.size());
    if (!call.stream) return Reply(socket, req, http::status::ok, Whole(call, text, in, out));
    std::vector<std::string> events;
    for (size_t i = 0; i < words.size(); ++i) {
      events.push_back(ChunkEvents(call, words[i], in, out, i + 1 == words.size()));
    }
    Stream(socket, StreamHead(call, in), events, StreamTail(call, in, out), script);
    return false;
  }

  // Streams without Content-Length; the body ends when the connection closes.
  // Scripted drops, stalls and delays count `events` (one chunk each).
  void Stream(tcp::socket& socket, const std::string& head, const std::vector<std::string>& events,
              const std::string& tail, const ModelScript& s) {
    beast::error_code ec;
    auto send = [&](const std::string& bytes) {
      if (!bytes.empty()) asio::write(socket, asio::buffer(bytes), ec);
      return !ec;
    };
    if (!send("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
              "Connection: close\r\n\r\n" +
              head)) {
      return;
    }
    for (size_t i = 0; i < events.size(); ++i) {
      if (s.drop_after_chunks >= 0 && static_cast<int>(i) >= s.drop_after_chunks) return;
      if (s.stall_after_chunks >= 0 && static_cast<int>(i) >= s.stall_after_chunks) {
        // Until the client gives up (closes) or the simulator stops.
        while (Pause(10) && !PeerClosed(socket.native_handle())) {
        }
        return;
      }
      if (i > 0 && s.chunk_delay_ms > 0 && !Pause(s.chunk_delay_ms)) return;
      if (!send(events[i])) return;
    }
    send(tail);
  }

  bool Admin(tcp::socket& socket, const http::request<http::string_body>& req,
             const std::string& target) {
    if (target == "/_sim/stats") {
      std::lock_guard<std::mutex> lock(mu);
      return Reply(socket, req, http::status::ok, json{{"requests", requests}}.dump());
    }
    if (target == "/_sim/reset" && req.method() == http::verb::post) {
      std::lock_guard<std::mutex> lock(mu);
      scripts.clear();
      failures_served.clear();
      requests.clear();
      return Reply(socket, req, http::status::ok, "{}");
    }
    if (target == "/_sim/script" && req.method() == http::verb::post) {
      json j = json::parse(req.body(), nullptr, false);
      if (j.is_discarded() || !j.is_object() || !j.contains("model")) {
        return Reply(socket, req, http::status::bad_request,
                     R"({"error":{"message":"body must be {\"model\": ..., script fields}"}})");
      }
      ModelScript s;
      s.latency_ms = j.value("latency_ms", 0);
      s.fail_status = j.value("fail_status", 0);
      s.fail_count = j.value("fail_count", -1);
      s.retry_after_s = j.value("retry_after_s", -1.0);
      if (j.contains("fail_message") && j["fail_message"].is_string()) {
        s.fail_message = j["fail_message"].get<std::string>();
      }
      s.hang = j.value("hang", false);
      s.input_tokens = j.value("input_tokens", -1);
      s.output_tokens = j.value("output_tokens", -1);
      s.chunk_delay_ms = j.value("chunk_delay_ms", 0);
      s.drop_after_chunks = j.value("drop_after_chunks", -1);
      s.stall_after_chunks = j.value("stall_after_chunks", -1);
      if (j.contains("tool_calls")) {
        s.tool_calls = ParseToolCalls(j["tool_calls"]);
        if (!s.tool_calls) {
          return Reply(
              socket, req, http::status::bad_request,
              R"({"error":{"message":"tool_calls must be [{\"name\": ..., \"arguments\": {...}}]"}})");
        }
      }
      if (j.contains("answer")) {
        // A string is answered as is; any other JSON value as its text.
        s.answer = j["answer"].is_string() ? j["answer"].get<std::string>() : j["answer"].dump();
      }
      SetScript(j.value("model", ""), s);
      return Reply(socket, req, http::status::ok, "{}");
    }
    return Reply(socket, req, http::status::not_found, R"({"error":{"message":"no such path"}})");
  }

  void SetScript(const std::string& model, const ModelScript& s) {
    std::lock_guard<std::mutex> lock(mu);
    scripts[model] = s;
    failures_served[model] = 0;
  }

  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mu);
      stopping = true;
    }
    stop_cv.notify_all();  // paused and hanging answers give up
    if (server) server->Stop();
  }
};

absl::StatusOr<std::unique_ptr<ProviderSimulator>> ProviderSimulator::Start(
    const std::string& host, int port, SimulatorOptions options) {
  auto impl = std::make_unique<Impl>();
  impl->options = std::move(options);
  Impl* raw = impl.get();
  auto server =
      SimHttpServer::Start(host, port, kMaxConnections,
                           [raw](SimHttpServer::Socket& socket, const SimHttpServer::Request& req) {
                             return raw->Handle(socket, req);
                           });
  if (!server.ok()) return server.status();
  impl->server = std::move(*server);
  impl->host = host;
  impl->port = impl->server->port();
  return std::unique_ptr<ProviderSimulator>(new ProviderSimulator(std::move(impl)));
}

ProviderSimulator::ProviderSimulator(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ProviderSimulator::~ProviderSimulator() { impl_->Stop(); }
int ProviderSimulator::port() const { return impl_->port; }
std::string ProviderSimulator::url() const {
  return absl::StrCat("http://", impl_->host, ":", impl_->port);
}
void ProviderSimulator::Script(const std::string& model, const ModelScript& script) {
  impl_->SetScript(model, script);
}
void ProviderSimulator::Reset() {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->scripts.clear();
  impl_->failures_served.clear();
  impl_->requests.clear();
}
int ProviderSimulator::Requests(const std::string& model) const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  auto it = impl_->requests.find(model);
  return it == impl_->requests.end() ? 0 : it->second;
}

}  // namespace genesis::llmrouter::sim
