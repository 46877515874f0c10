// bot_manager_bench: signed WhatsApp webhooks POSTed through genesis-gateway to
// genesis-bot-manager over keep-alive HTTP/1.1 connections (Boost.Beast, one
// io thread), in two phases:
//
//   ingestion  closed loop, --connections requests in flight, --ingest_seconds:
//              HTTP 200 acknowledgements per second (each 200 means the message
//              is committed to the inbox); then the backlog is drained.
//   latency    open loop, a fixed --rate for --rate_seconds (sends are
//              scheduled, not paced by answers): per message, reply time at the
//              channel simulator minus the scheduled send time.
//
// Every message has a unique id (wamid) and a unique text "bench <run> <seq>";
// the instant LLM simulator answers "echo: <text>", so each reply recorded by
// genesis-channel-simulator (GET /_sim/sent, wall-clock time stamps on this
// machine, the same clock as here) names the message it answers. After a
// drain, messages acknowledged but never answered are "lost", answered more
// than once (or a repeated idempotency key the simulator dropped) are
// "duplicated", answered to another contact are "misrouted".
//
// With --watch=name=pid,... it reports each process's RSS (idle, peak, after)
// and CPU use per phase; the machine's CPU busy share and load average are
// printed next to every figure. run.sh starts everything and calls this.
#include <gflags/gflags.h>
#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "genesis/bot/v1/bot_manager.grpc.pb.h"
#include "services/bot_manager/simulator/simulator.h"

DEFINE_string(gateway, "", "host:port of genesis-gateway (HTTP).");
DEFINE_string(bot_manager, "", "host:port of genesis-bot-manager (gRPC), to create the bots.");
DEFINE_string(operator_secret, "",
              "The bot manager's --gateway_secret: the bots are created as an operator "
              "forwarded with it (CreateBot is administrative).");
DEFINE_string(simulator, "", "host:port of genesis-channel-simulator (HTTP).");
DEFINE_string(secret, "", "The WhatsApp app secret (the value of --secret_env in the service).");
DEFINE_string(secret_env, "BENCH_WA_SECRET", "Environment variable naming the app secret.");
DEFINE_string(token_env, "BENCH_WA_TOKEN", "Environment variable naming the access token.");
DEFINE_string(verify_env, "BENCH_WA_VERIFY", "Environment variable naming the verify token.");
DEFINE_int32(bots, 10, "WhatsApp bots the messages are spread over (round robin).");
DEFINE_int32(contacts, 1000, "Distinct contacts per bot.");
DEFINE_int32(connections, 64, "Connections (requests in flight) of the ingestion phase.");
DEFINE_double(ingest_seconds, 10, "Duration of the ingestion phase (0: skip it).");
DEFINE_double(rate, 500, "Messages per second of the latency phase.");
DEFINE_double(rate_seconds, 30, "Duration of the latency phase (0: skip it).");
DEFINE_int32(rate_connections, 32, "Connections of the latency phase.");
DEFINE_int32(warmup, 200, "Messages sent (and answered) before measuring.");
DEFINE_double(drain_timeout_s, 300, "Longest wait for the replies after a phase.");
DEFINE_string(watch, "", "name=pid,... processes whose RSS and CPU are reported.");
DEFINE_string(pg_dsn, "",
              "The services' database: the CPU of its PostgreSQL backends is reported too.");
DEFINE_string(run_id, "", "Tag in message ids and texts (default: random).");

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using nlohmann::json;
namespace v1 = genesis::bot::v1;

namespace {

int64_t NowUs() { return absl::ToUnixMicros(absl::Now()); }

std::pair<std::string, std::string> SplitHostPort(const std::string& hp) {
  const size_t colon = hp.rfind(':');
  if (colon == std::string::npos) return {hp, ""};
  return {hp.substr(0, colon), hp.substr(colon + 1)};
}

[[noreturn]] void Die(const std::string& message) {
  std::fprintf(stderr, "bot_manager_bench: %s\n", message.c_str());
  std::exit(2);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string LoadAverage() {
  std::istringstream in(ReadFile("/proc/loadavg"));
  std::string a, b, c;
  in >> a >> b >> c;
  return absl::StrCat(a, " ", b, " ", c);
}

// Machine-wide jiffies: {busy, total}.
std::pair<int64_t, int64_t> MachineCpu() {
  std::istringstream in(ReadFile("/proc/stat"));
  std::string cpu;
  in >> cpu;
  int64_t v = 0, total = 0, idle = 0;
  for (int i = 0; i < 8 && in >> v; ++i) {
    total += v;
    if (i == 3 || i == 4) idle += v;  // idle, iowait
  }
  return {total - idle, total};
}

// utime + stime of a process, in seconds.
double ProcessCpuSeconds(int pid) {
  const std::string stat = ReadFile(absl::StrCat("/proc/", pid, "/stat"));
  const size_t paren = stat.rfind(')');
  if (paren == std::string::npos) return 0;
  std::istringstream in(stat.substr(paren + 2));
  std::string field;
  int64_t utime = 0, stime = 0;
  for (int i = 3; i <= 15 && in >> field; ++i) {
    if (i == 14) absl::SimpleAtoi(field, &utime);
    if (i == 15) absl::SimpleAtoi(field, &stime);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

int64_t RssKb(int pid) {
  std::istringstream in(ReadFile(absl::StrCat("/proc/", pid, "/status")));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) {
      int64_t kb = 0;
      absl::SimpleAtoi(absl::StripAsciiWhitespace(absl::StripSuffix(line.substr(6), "kB")), &kb);
      return kb;
    }
  }
  return 0;
}

double Mb(int64_t kb) { return static_cast<double>(kb) / 1024.0; }

// Processes from --watch; a sampler thread keeps the peak RSS since Reset().
class Watcher {
 public:
  struct Proc {
    std::string name;
    int pid = 0;
    std::vector<int> group;  // CPU summed over these pids, no RSS (PostgreSQL backends)
    int64_t idle_kb = 0;
    std::atomic<int64_t> peak_kb{0};
    double cpu_at_mark = 0;
  };

  explicit Watcher(const std::string& spec) {
    for (absl::string_view item : absl::StrSplit(spec, ',', absl::SkipEmpty())) {
      std::pair<std::string, std::string> kv = absl::StrSplit(item, absl::MaxSplits('=', 1));
      auto p = std::make_unique<Proc>();
      p->name = kv.first;
      if (!absl::SimpleAtoi(kv.second, &p->pid)) Die(absl::StrCat("--watch: bad pid in ", item));
      p->idle_kb = RssKb(p->pid);
      procs_.push_back(std::move(p));
    }
    thread_ = std::thread([this] {
      while (!stop_.load()) {
        {
          std::lock_guard<std::mutex> lock(mu_);
          for (auto& p : procs_) {
            if (!p->group.empty()) continue;
            const int64_t kb = RssKb(p->pid);
            if (kb > p->peak_kb.load()) p->peak_kb.store(kb);
          }
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    });
  }

  // A group whose CPU use is reported (summed), e.g. the database's backends.
  void AddGroup(const std::string& name, std::vector<int> pids) {
    auto p = std::make_unique<Proc>();
    p->name = name;
    p->group = std::move(pids);
    std::lock_guard<std::mutex> lock(mu_);
    procs_.push_back(std::move(p));
  }

  static double Cpu(const Proc& p) {
    if (p.group.empty()) return ProcessCpuSeconds(p.pid);
    double sum = 0;
    for (int pid : p.group) sum += ProcessCpuSeconds(pid);
    return sum;
  }
  ~Watcher() {
    stop_.store(true);
    thread_.join();
  }

  // Starts a measured interval: CPU counters and peak RSS from now.
  void Mark() {
    mark_time_ = absl::Now();
    mark_machine_ = MachineCpu();
    self_cpu_ = ProcessCpuSeconds(getpid());
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& p : procs_) {
      p->cpu_at_mark = Cpu(*p);
      if (p->group.empty()) p->peak_kb.store(RssKb(p->pid));
    }
  }

  // "machine busy 93% (load a b c); bot_manager 1.10 cores, RSS 40.1 MB (peak 45.0); ..."
  std::string Since() const {
    const double wall = std::max(1e-9, absl::ToDoubleSeconds(absl::Now() - mark_time_));
    const auto machine = MachineCpu();
    const double busy = static_cast<double>(machine.first - mark_machine_.first) /
                        std::max<int64_t>(1, machine.second - mark_machine_.second);
    std::string out =
        absl::StrCat("machine CPU busy ", static_cast<int>(busy * 100 + 0.5), "% of ",
                     std::thread::hardware_concurrency(), " cores, load average ", LoadAverage());
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& p : procs_) {
      char buf[200];
      if (p->group.empty()) {
        std::snprintf(buf, sizeof buf, "\n      %-16s %.2f cores, RSS %.1f MB (peak %.1f MB)",
                      p->name.c_str(), (Cpu(*p) - p->cpu_at_mark) / wall, Mb(RssKb(p->pid)),
                      Mb(p->peak_kb.load()));
      } else {
        std::snprintf(buf, sizeof buf, "\n      %-16s %.2f cores", p->name.c_str(),
                      (Cpu(*p) - p->cpu_at_mark) / wall);
      }
      out += buf;
    }
    char buf[120];
    std::snprintf(buf, sizeof buf, "\n      %-16s %.2f cores", "load generator",
                  (ProcessCpuSeconds(getpid()) - self_cpu_) / wall);
    return out + buf;
  }

  const std::vector<std::unique_ptr<Proc>>& procs() const { return procs_; }

 private:
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<Proc>> procs_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  absl::Time mark_time_ = absl::Now();
  std::pair<int64_t, int64_t> mark_machine_{0, 0};
  double self_cpu_ = 0;
};

// One blocking HTTP/1.1 request (the simulator's admin routes).
std::string HttpCall(const std::string& hostport, http::verb verb, const std::string& target) {
  asio::io_context io;
  tcp::resolver resolver(io);
  tcp::socket socket(io);
  auto [host, port] = SplitHostPort(hostport);
  asio::connect(socket, resolver.resolve(host, port));
  http::request<http::string_body> req{verb, target, 11};
  req.set(http::field::host, hostport);
  req.keep_alive(false);
  req.prepare_payload();
  http::write(socket, req);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(1ull << 32);
  http::read(socket, buffer, parser);
  if (parser.get().result_int() != 200) {
    Die(absl::StrCat(target, " answered ", parser.get().result_int(), ": ", parser.get().body()));
  }
  return parser.get().body();
}

// How many sends the simulator has recorded (and repeated keys it dropped).
std::pair<int64_t, int64_t> SimCounts(const std::string& sim) {
  json j = json::parse(HttpCall(sim, http::verb::get, "/_sim/sent?since=999999999999"));
  return {j.value("count", int64_t{0}), j.value("duplicates", int64_t{0})};
}

enum Phase { kWarmup = 0, kIngest = 1, kRate = 2 };

struct Msg {
  Phase phase = kWarmup;
  int bot = 0;
  std::string contact;
  int64_t sched_us = 0;  // open loop: when it was due
  int64_t send_us = 0;
  int64_t ack_us = 0;
  int status = 0;  // HTTP status; 0: transport error
  int accepted = 0;
  int duplicates = 0;
};

class Bench {
 public:
  Bench(std::string run, tcp::endpoint gateway)
      : run_(std::move(run)), gateway_(gateway), host_header_(FLAGS_gateway) {}

  std::vector<Msg>& msgs() { return msgs_; }
  const std::string& run() const { return run_; }

  // Closed loop: every connection sends its next message when the previous one is
  // answered, until `seconds` pass (or `count` messages when count > 0). Seconds taken.
  double ClosedLoop(Phase phase, int connections, double seconds, int64_t count) {
    io_.restart();
    const auto end = std::chrono::steady_clock::now() +
                     std::chrono::microseconds(static_cast<int64_t>(seconds * 1e6));
    int64_t issued = 0;
    std::vector<std::unique_ptr<Conn>> conns;
    std::function<void(Conn*)> next = [&](Conn* c) {
      if ((count > 0 && issued >= count) ||
          (count == 0 && std::chrono::steady_clock::now() >= end)) {
        return;
      }
      ++issued;
      Send(c, NewMsg(phase, 0), next);
    };
    const absl::Time start = absl::Now();
    for (int i = 0; i < connections; ++i) {
      conns.push_back(std::make_unique<Conn>(io_));
      Connect(conns.back().get());
      next(conns.back().get());
    }
    io_.run();
    return absl::ToDoubleSeconds(absl::Now() - start);
  }

  struct OpenLoopStats {
    double seconds = 0;
    int64_t late = 0;  // dispatched more than 1 ms after their time
    double max_late_ms = 0;
  };

  // Open loop: message k is due at start + k / rate and goes out on an idle
  // connection then (or as soon as one is free).
  OpenLoopStats OpenLoop(int connections, double rate, double seconds) {
    io_.restart();
    OpenLoopStats stats;
    const int64_t total = static_cast<int64_t>(rate * seconds);
    std::vector<std::unique_ptr<Conn>> conns;
    std::vector<Conn*> idle;
    for (int i = 0; i < connections; ++i) {
      conns.push_back(std::make_unique<Conn>(io_));
      Connect(conns.back().get());
      idle.push_back(conns.back().get());
    }
    asio::steady_timer timer(io_);
    const auto start_steady = std::chrono::steady_clock::now() + std::chrono::milliseconds(20);
    const int64_t start_us = NowUs() + 20000;
    auto due = [&](int64_t k) {
      return std::chrono::microseconds(static_cast<int64_t>(static_cast<double>(k) * 1e6 / rate));
    };
    int64_t dispatched = 0;
    std::function<void()> pump;
    std::function<void(Conn*)> done = [&](Conn* c) {
      idle.push_back(c);
      pump();
    };
    pump = [&] {
      const auto now = std::chrono::steady_clock::now();
      while (dispatched < total && !idle.empty() && start_steady + due(dispatched) <= now) {
        const double late_ms =
            std::chrono::duration<double, std::milli>(now - (start_steady + due(dispatched)))
                .count();
        if (late_ms > 1) ++stats.late;
        stats.max_late_ms = std::max(stats.max_late_ms, late_ms);
        Conn* c = idle.back();
        idle.pop_back();
        const int64_t sched = start_us + due(dispatched).count();
        ++dispatched;
        Send(c, NewMsg(kRate, sched), done);
      }
      if (dispatched < total && !idle.empty()) {
        timer.expires_at(start_steady + due(dispatched));
        timer.async_wait([&](beast::error_code ec) {
          if (!ec) pump();
        });
      }
    };
    const absl::Time start = absl::Now();
    asio::post(io_, pump);
    io_.run();
    stats.seconds = absl::ToDoubleSeconds(absl::Now() - start);
    return stats;
  }

 private:
  struct Conn {
    explicit Conn(asio::io_context& io) : socket(io) {}
    tcp::socket socket;
    beast::flat_buffer buffer;
    http::request<http::string_body> req;
    std::optional<http::response_parser<http::string_body>> parser;
  };

  void Connect(Conn* c) {
    beast::error_code ec;
    c->socket.close(ec);
    c->socket = tcp::socket(io_);
    c->socket.connect(gateway_, ec);
    if (ec) Die(absl::StrCat("cannot connect to the gateway: ", ec.message()));
    c->socket.set_option(tcp::no_delay(true));
    c->buffer.clear();
  }

  size_t NewMsg(Phase phase, int64_t sched_us) {
    const size_t i = msgs_.size();
    Msg m;
    m.phase = phase;
    m.bot = static_cast<int>(i % FLAGS_bots);
    m.contact = std::to_string(5511900000000 +
                               static_cast<int64_t>(i / FLAGS_bots) % std::max(1, FLAGS_contacts));
    m.sched_us = sched_us;
    msgs_.push_back(std::move(m));
    return i;
  }

  void Send(Conn* c, size_t i, std::function<void(Conn*)>& then) {
    Msg& m = msgs_[i];
    auto hook = genesis::bot::sim::BuildWebhook(
        "whatsapp", FLAGS_secret, m.contact, PhoneNumberId(m.bot),
        absl::StrCat("bench ", run_, " ", i), absl::StrCat("wamid.bench.", run_, ".", i));
    if (!hook.ok()) Die(std::string(hook.status().message()));
    c->req = {http::verb::post, absl::StrCat("/v1/webhooks/whatsapp/", BotId(m.bot)), 11};
    c->req.set(http::field::host, host_header_);
    c->req.set(http::field::content_type, "application/json");
    c->req.set(http::field::user_agent, "facebookexternalua");
    for (const std::string& h : hook->headers) {
      const size_t colon = h.find(':');
      c->req.set(h.substr(0, colon), h.substr(colon + 2));
    }
    c->req.keep_alive(true);
    c->req.body() = std::move(hook->body);
    c->req.prepare_payload();
    m.send_us = NowUs();
    http::async_write(c->socket, c->req, [this, c, i, &then](beast::error_code ec, size_t) {
      if (ec) return Failed(c, i, then);
      c->parser.emplace();
      http::async_read(c->socket, c->buffer, *c->parser,
                       [this, c, i, &then](beast::error_code ec, size_t) {
                         if (ec) return Failed(c, i, then);
                         Msg& m = msgs_[i];
                         m.ack_us = NowUs();
                         const auto& res = c->parser->get();
                         m.status = res.result_int();
                         if (m.status == 200) {
                           json ack = json::parse(res.body(), nullptr, false);
                           if (ack.is_object()) {
                             m.accepted = ack.value("accepted", 0);
                             m.duplicates = ack.value("duplicates", 0);
                           }
                         } else if (errors_shown_++ < 5) {
                           std::fprintf(stderr, "bot_manager_bench: HTTP %d: %s\n", m.status,
                                        res.body().substr(0, 300).c_str());
                         }
                         if (!res.keep_alive()) Connect(c);
                         then(c);
                       });
    });
  }

  void Failed(Conn* c, size_t i, std::function<void(Conn*)>& then) {
    msgs_[i].status = 0;
    msgs_[i].ack_us = NowUs();
    if (errors_shown_++ < 5) std::fprintf(stderr, "bot_manager_bench: transport error\n");
    Connect(c);
    then(c);
  }

 public:
  static std::string BotId(int b) { return absl::StrCat("bench-", b); }
  static std::string PhoneNumberId(int b) { return std::to_string(1000000000 + b); }

 private:
  std::string run_;
  tcp::endpoint gateway_;
  std::string host_header_;
  asio::io_context io_{1};
  std::vector<Msg> msgs_;
  int errors_shown_ = 0;
};

void CreateBots() {
  auto channel = grpc::CreateChannel(FLAGS_bot_manager, grpc::InsecureChannelCredentials());
  auto stub = v1::BotManagerService::NewStub(channel);
  for (int b = 0; b < FLAGS_bots; ++b) {
    v1::CreateBotRequest req;
    req.set_bot_id(Bench::BotId(b));
    v1::Bot* bot = req.mutable_bot();
    bot->set_channel(v1::CHANNEL_WHATSAPP);
    bot->set_display_name(absl::StrCat("Carga ", b));
    bot->set_system_prompt("Você é o assistente da Urbana.");
    bot->set_task_type("chat");
    bot->set_webhook_secret_env(FLAGS_secret_env);
    bot->set_access_token_env(FLAGS_token_env);
    bot->set_verify_token_env(FLAGS_verify_env);
    bot->set_phone_number_id(Bench::PhoneNumberId(b));
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    ctx.AddMetadata("x-genesis-gateway-auth", FLAGS_operator_secret);
    ctx.AddMetadata("x-genesis-subject", "bench-operator");
    ctx.AddMetadata("x-genesis-roles", "admin");
    v1::Bot out;
    grpc::Status st = stub->CreateBot(&ctx, req, &out);
    if (!st.ok() && st.error_code() != grpc::StatusCode::ALREADY_EXISTS) {
      Die(absl::StrCat("CreateBot ", req.bot_id(), ": ", st.error_message()));
    }
  }
}

// The pids of the backends connected to the database of `dsn` (the services' pools).
std::vector<int> DatabaseBackends(const std::string& dsn) {
  std::vector<int> pids;
  try {
    pqxx::connection conn(dsn);
    pqxx::work tx(conn);
    for (const auto& row :
         tx.exec("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> "
                 "pg_backend_pid()")) {
      pids.push_back(row[0].as<int>());
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bot_manager_bench: --pg_dsn: %s\n", e.what());
  }
  return pids;
}

double Pct(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t i = std::min(v.size() - 1, static_cast<size_t>(p / 100.0 * v.size()));
  return v[i];
}

std::string PctLine(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const double p50 = Pct(v, 50), p95 = Pct(v, 95), p99 = Pct(v, 99);
  const double max = v.empty() ? 0.0 : v.back();
  char buf[160];
  std::snprintf(buf, sizeof buf, "p50 %.1f ms, p95 %.1f ms, p99 %.1f ms, max %.1f ms (n=%zu)", p50,
                p95, p99, max, v.size());
  return buf;
}

struct Counts {
  int64_t sent = 0, acked = 0, accepted = 0, redelivered = 0, errors = 0;
  std::map<int, int64_t> by_status;
};

Counts Count(const std::vector<Msg>& msgs, Phase phase) {
  Counts c;
  for (const Msg& m : msgs) {
    if (m.phase != phase) continue;
    ++c.sent;
    ++c.by_status[m.status];
    if (m.status == 200) {
      ++c.acked;
      c.accepted += m.accepted;
      c.redelivered += m.duplicates;
    } else {
      ++c.errors;
    }
  }
  return c;
}

std::string StatusList(const Counts& c) {
  std::string out;
  for (auto [status, n] : c.by_status) {
    if (status != 200)
      absl::StrAppend(&out, " HTTP ", status == 0 ? "(transport)" : "", status, "=", n);
  }
  return out.empty() ? "none" : out;
}

// Waits until the simulator holds `expected` sends; seconds waited (or -1 at the timeout).
double Drain(const std::string& sim, int64_t expected) {
  const absl::Time start = absl::Now();
  while (SimCounts(sim).first < expected) {
    if (absl::Now() - start > absl::Seconds(FLAGS_drain_timeout_s)) return -1;
    absl::SleepFor(absl::Milliseconds(50));
  }
  return absl::ToDoubleSeconds(absl::Now() - start);
}

}  // namespace

int main(int argc, char** argv) {
  gflags::SetUsageMessage(
      "bot_manager_bench --gateway=H:P --bot_manager=H:P --simulator=H:P --secret=S: signed "
      "WhatsApp webhooks through genesis-gateway (see bench/bot_manager/README.md).");
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  if (FLAGS_gateway.empty() || FLAGS_bot_manager.empty() || FLAGS_simulator.empty() ||
      FLAGS_secret.empty()) {
    Die("--gateway, --bot_manager, --simulator and --secret are required");
  }
  if (FLAGS_bots < 1 || FLAGS_contacts < 1 || FLAGS_connections < 1 || FLAGS_rate_connections < 1 ||
      FLAGS_rate <= 0) {
    Die("--bots, --contacts, --connections, --rate_connections and --rate must be positive");
  }
  std::string run = FLAGS_run_id;
  if (run.empty()) run = absl::StrCat(absl::ToUnixMicros(absl::Now()) % 1000000007);
  asio::io_context resolve_io;
  auto [gw_host, gw_port] = SplitHostPort(FLAGS_gateway);
  tcp::resolver resolver(resolve_io);
  const tcp::endpoint gateway = *resolver.resolve(gw_host, gw_port).begin();

  CreateBots();
  Watcher watch(FLAGS_watch);
  const auto [sim_base, dup_base] = SimCounts(FLAGS_simulator);
  Bench bench(run, gateway);

  std::printf("bot_manager_bench: run %s, %d bots x %d contacts, gateway %s, %u cores\n",
              run.c_str(), FLAGS_bots, FLAGS_contacts, FLAGS_gateway.c_str(),
              std::thread::hardware_concurrency());
  std::printf("  idle:");
  for (const auto& p : watch.procs()) {
    if (p->group.empty()) std::printf("  %s RSS %.1f MB", p->name.c_str(), Mb(p->idle_kb));
  }
  std::printf("  (load average %s)\n", LoadAverage().c_str());
  std::fflush(stdout);

  // Warm-up: connections, bots' caches, the router; its messages count in the checks too.
  if (FLAGS_warmup > 0) {
    bench.ClosedLoop(kWarmup, 8, 0, FLAGS_warmup);
    const Counts w = Count(bench.msgs(), kWarmup);
    if (Drain(FLAGS_simulator, sim_base + w.accepted) < 0) {
      std::printf("  warm-up: replies did not all arrive within %.0f s\n", FLAGS_drain_timeout_s);
    }
  }

  if (!FLAGS_pg_dsn.empty()) watch.AddGroup("postgres", DatabaseBackends(FLAGS_pg_dsn));
  int64_t expected = sim_base + Count(bench.msgs(), kWarmup).accepted;
  double ingest_seconds = 0, ingest_drain = 0;
  int64_t ingest_first_us = 0;
  if (FLAGS_ingest_seconds > 0) {
    watch.Mark();
    ingest_first_us = NowUs();
    ingest_seconds = bench.ClosedLoop(kIngest, FLAGS_connections, FLAGS_ingest_seconds, 0);
    const Counts c = Count(bench.msgs(), kIngest);
    std::vector<double> ack_ms;
    for (const Msg& m : bench.msgs()) {
      if (m.phase == kIngest && m.status == 200) ack_ms.push_back((m.ack_us - m.send_us) / 1e3);
    }
    std::printf(
        "\n[ingestion] closed loop, %d connections, %.1f s\n"
        "  acknowledged (HTTP 200): %lld = %.0f webhooks/s   (target >= 3,000/s)\n"
        "  sent %lld, accepted %lld, redeliveries %lld, errors: %s\n"
        "  ack latency: %s\n"
        "  during the phase: %s\n",
        FLAGS_connections, ingest_seconds, static_cast<long long>(c.acked),
        c.acked / ingest_seconds, static_cast<long long>(c.sent),
        static_cast<long long>(c.accepted), static_cast<long long>(c.redelivered),
        StatusList(c).c_str(), PctLine(ack_ms).c_str(), watch.Since().c_str());
    std::fflush(stdout);
    expected += c.accepted;
    watch.Mark();
    const int64_t backlog = expected - SimCounts(FLAGS_simulator).first;
    ingest_drain = Drain(FLAGS_simulator, expected);
    if (ingest_drain < 0) {
      std::printf("  drain: the backlog (%lld replies) did not finish within %.0f s\n",
                  static_cast<long long>(backlog), FLAGS_drain_timeout_s);
    } else {
      const double total =
          absl::ToDoubleSeconds(absl::Now() - absl::FromUnixMicros(ingest_first_us));
      std::printf(
          "  backlog at the end of the phase: %lld replies, sent in %.1f s more; all %lld "
          "answered %.1f s after the phase began = %.0f replies/s end to end\n"
          "  during the drain: %s\n",
          static_cast<long long>(backlog), ingest_drain, static_cast<long long>(c.accepted), total,
          c.accepted / total, watch.Since().c_str());
    }
    std::fflush(stdout);
  }

  Bench::OpenLoopStats open;
  if (FLAGS_rate_seconds > 0) {
    watch.Mark();
    open = bench.OpenLoop(FLAGS_rate_connections, FLAGS_rate, FLAGS_rate_seconds);
    const Counts c = Count(bench.msgs(), kRate);
    expected += c.accepted;
    std::printf(
        "\n[latency] open loop, %.0f messages/s for %.1f s on up to %d connections\n"
        "  sent %lld (achieved %.0f/s), acknowledged %lld, accepted %lld, errors: %s\n"
        "  sends more than 1 ms behind schedule: %lld (max %.1f ms)\n"
        "  during the phase: %s\n",
        FLAGS_rate, FLAGS_rate_seconds, FLAGS_rate_connections, static_cast<long long>(c.sent),
        c.sent / open.seconds, static_cast<long long>(c.acked), static_cast<long long>(c.accepted),
        StatusList(c).c_str(), static_cast<long long>(open.late), open.max_late_ms,
        watch.Since().c_str());
    std::fflush(stdout);
    if (Drain(FLAGS_simulator, expected) < 0) {
      std::printf("  drain: not all replies within %.0f s\n", FLAGS_drain_timeout_s);
    }
  }
  absl::SleepFor(absl::Seconds(1));  // late duplicates, if any, arrive too

  // The simulator's record: one reply per acknowledged message, to its contact.
  const json sent = json::parse(
      HttpCall(FLAGS_simulator, http::verb::get, absl::StrCat("/_sim/sent?since=", sim_base)));
  const int64_t dropped_keys = sent.value("duplicates", int64_t{0}) - dup_base;
  std::vector<std::vector<int64_t>> replies(bench.msgs().size());
  int64_t foreign = 0, misrouted = 0;
  const std::string marker = absl::StrCat("bench ", run, " ");
  for (const json& s : sent["sent"]) {
    const std::string text = s.value("text", "");
    const size_t at = text.find(marker);
    size_t seq = 0;
    if (at != std::string::npos) {
      const size_t from = at + marker.size();
      size_t end = from;
      while (end < text.size() && text[end] >= '0' && text[end] <= '9') ++end;
      if (!absl::SimpleAtoi(absl::string_view(text).substr(from, end - from), &seq)) seq = SIZE_MAX;
    }
    if (at == std::string::npos || seq >= replies.size()) {
      if (foreign == 0) std::printf("  a reply to no message of this run: %s\n", s.dump().c_str());
      ++foreign;
      continue;
    }
    if (s.value("to", "") != bench.msgs()[seq].contact) ++misrouted;
    replies[seq].push_back(s.value("time_us", int64_t{0}));
  }
  int64_t acked_all = 0, lost = 0, duplicated = 0, unacked_but_answered = 0;
  std::vector<double> e2e_sched, e2e_send, ack_ms;
  for (size_t i = 0; i < bench.msgs().size(); ++i) {
    const Msg& m = bench.msgs()[i];
    if (m.status == 200 && (m.accepted == 1 || m.duplicates == 1)) {
      ++acked_all;
      if (replies[i].empty()) ++lost;
    } else if (!replies[i].empty()) {
      ++unacked_but_answered;
    }
    if (replies[i].size() > 1) duplicated += static_cast<int64_t>(replies[i].size()) - 1;
    if (m.phase == kRate && m.status == 200 && !replies[i].empty()) {
      const int64_t first = *std::min_element(replies[i].begin(), replies[i].end());
      e2e_sched.push_back((first - m.sched_us) / 1e3);
      e2e_send.push_back((first - m.send_us) / 1e3);
      ack_ms.push_back((m.ack_us - m.send_us) / 1e3);
    }
  }
  if (FLAGS_rate_seconds > 0) {
    std::vector<double> p95 = e2e_sched;
    const double p95_ms = Pct(p95, 95);
    std::printf(
        "  webhook in -> reply at the channel simulator, from the scheduled send time:\n"
        "      %s   (target p95 <= 50 ms)  %s\n"
        "  the same from the actual send time: %s\n"
        "  webhook ack (HTTP 200) latency: %s\n",
        PctLine(e2e_sched).c_str(),
        e2e_sched.empty() ? "NO REPLIES" : (p95_ms <= 50 ? "met" : "MISSED"),
        PctLine(e2e_send).c_str(), PctLine(ack_ms).c_str());
  }
  std::printf(
      "\n[whole run] %zu webhooks sent, %lld acknowledged; replies at the simulator: %zu\n"
      "  lost (acknowledged, never answered within the drain): %lld\n"
      "  duplicated (answered more than once): %lld; repeated idempotency keys the simulator "
      "dropped: %lld\n"
      "  answered to the wrong contact: %lld; replies naming no message of this run (e.g. "
      "handoff notices): %lld; "
      "answered without a 200: %lld\n",
      bench.msgs().size(), static_cast<long long>(acked_all), sent["sent"].size(),
      static_cast<long long>(lost), static_cast<long long>(duplicated),
      static_cast<long long>(dropped_keys), static_cast<long long>(misrouted),
      static_cast<long long>(foreign), static_cast<long long>(unacked_but_answered));
  std::printf("  after the run:");
  for (const auto& p : watch.procs()) {
    if (p->group.empty()) std::printf("  %s RSS %.1f MB", p->name.c_str(), Mb(RssKb(p->pid)));
  }
  std::printf("  (load average %s)\n", LoadAverage().c_str());
  const bool clean = lost == 0 && duplicated == 0 && dropped_keys == 0 && misrouted == 0;
  std::printf("  0 lost and 0 duplicated: %s\n", clean ? "met" : "MISSED");
  return clean ? 0 : 3;
}
