// catalog_bench: loads N generated listings into the Catalog's PostgreSQL,
// starts the real genesis-catalog binary, and measures GetItem (cached in
// Redis) and SearchItems throughput and latency at several numbers of
// concurrent callers, plus the service's idle and peak RSS.
//
// Closed-loop load: each of C callers has one call in flight and sends the
// next as soon as the previous one returns. Calls go through the gRPC async
// API (a few client threads, each with its own connection and completion
// queue). Only OK calls that complete inside the measurement window count;
// any other status is an error and stops the run (unless
// --continue_on_error). The client runs on the same machine as the service,
// PostgreSQL and Redis, so all of them share the CPU.
//
// See bench/README.md for the figures and how to run it
// (bench/run_catalog_bench.sh starts private servers and builds first).
#include <arpa/inet.h>
#include <fcntl.h>
#include <gflags/gflags.h>
#include <grpcpp/grpcpp.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "bench/listing_generator.h"
#include "common/rpc/call_context.h"
#include "common/runtime/config.h"
#include "common/storage/migrations.h"
#include "common/storage/pg_pool.h"
#include "common/storage/redis.h"
#include "genesis/catalog/v1/catalog.grpc.pb.h"
#include "services/catalog/pg_store.h"
#include "services/catalog/search_query.h"

// --pg_dsn and --redis_url are the shared service flags (common/runtime/service_config.cc),
// so GENESIS_PG_DSN / GENESIS_REDIS_URL work here too.
DECLARE_string(pg_dsn);
DECLARE_string(redis_url);

DEFINE_int64(items, 1000000, "How many generated items the catalog holds during the benchmark.");
DEFINE_string(catalog_bin, GENESIS_CATALOG_BIN, "The genesis-catalog binary to start.");
DEFINE_int32(duration_s, 10, "Measured seconds per scenario.");
DEFINE_int32(warmup_s, 1, "Unmeasured seconds at the start of each scenario.");
DEFINE_string(concurrency, "1,16,64", "Comma-separated numbers of concurrent callers.");
DEFINE_bool(skip_load, false,
            "Reuse the items already loaded when they are the same data set (generator version, "
            "seed and count); otherwise load them again.");
DEFINE_bool(reset_schema, false,
            "Drop the catalog schema (all its data) before applying the migrations, e.g. after "
            "an applied migration was edited during development. Only for a benchmark database.");
DEFINE_int32(batch_size, 5000, "Items per BulkInsert (COPY) batch.");
DEFINE_int32(load_threads, 2, "Concurrent BulkInsert batches while loading.");
DEFINE_uint64(seed, 20260101, "Seed of the generated data set and of the callers' choices.");
DEFINE_int32(hot_items, 10000,
             "GetItem picks uniformly among this many ids, cached in Redis first.");
DEFINE_int32(idle_s, 5, "Idle seconds before an idle RSS reading.");
DEFINE_int32(client_threads, 2, "Client threads (each with its own connection) driving the calls.");
DEFINE_int32(call_timeout_ms, 30000, "Deadline of each call.");
DEFINE_string(scenarios, "get,search", "Which scenarios to run: get, search or both.");
DEFINE_bool(count_matches, true,
            "Count in PostgreSQL how many items each search query matches, for the report.");
DEFINE_string(service_flags, "",
              "Extra flags for genesis-catalog, space-separated. Empty (the default) runs the "
              "service with its own defaults, as deployed.");
DEFINE_string(service_log, "", "File for the service's stderr; empty: this program's stderr.");
DEFINE_int32(show_top, 0,
             "Print the titles of the first N results of each search query (to compare "
             "rankings between engines).");
DEFINE_int32(index_wait_s, 3600,
             "With --service_flags=--search_engine=xapian: how long to wait for the service's "
             "search index to be built before measuring.");
DEFINE_bool(continue_on_error, false,
            "Count failed calls and go on instead of stopping at the first one (the run still "
            "exits with status 1).");

namespace genesis {
std::vector<Migration> CatalogMigrations();  // compiled into catalog_lib
}

namespace genesis::bench {
namespace {

namespace pb = genesis::catalog::v1;
using SteadyClock = std::chrono::steady_clock;

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(SteadyClock::now().time_since_epoch())
      .count();
}

// ---- the service process ----------------------------------------------------

pid_t g_service_pid = -1;

// SIGTERM, then SIGKILL after `grace`. Returns a description of how it ended.
std::string StopService(absl::Duration grace) {
  if (g_service_pid <= 0) return "not running";
  const pid_t pid = g_service_pid;
  g_service_pid = -1;
  kill(pid, SIGTERM);
  const absl::Time deadline = absl::Now() + grace;
  int status = 0;
  while (true) {
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (r < 0) return "already reaped";
    if (absl::Now() >= deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return "did not stop within the grace period: killed";
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
  if (WIFEXITED(status)) return absl::StrCat("exited with status ", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return absl::StrCat("killed by signal ", WTERMSIG(status));
  return "ended";
}

bool g_any_error = false;

[[noreturn]] void Die(const std::string& message);

// A failed call or check: stops the run, or with --continue_on_error is reported
// and makes the exit status 1.
void Failure(const std::string& message) {
  g_any_error = true;
  if (!FLAGS_continue_on_error) Die(message);
  std::fprintf(stderr, "catalog_bench: ERROR (continuing): %s\n", message.c_str());
}

[[noreturn]] void Die(const std::string& message) {
  std::fprintf(stderr, "\ncatalog_bench: FAILED: %s\n", message.c_str());
  if (g_service_pid > 0)
    std::fprintf(stderr, "catalog_bench: service %s\n", StopService(absl::Seconds(10)).c_str());
  std::exit(1);
}

struct Service {
  pid_t pid = -1;
  std::string grpc_addr;
  std::string metrics_host;
  int metrics_port = 0;
};

Service StartService() {
  std::vector<std::string> args = {FLAGS_catalog_bin,
                                   "--pg_dsn=" + FLAGS_pg_dsn,
                                   "--redis_url=" + FLAGS_redis_url,
                                   "--host=127.0.0.1",
                                   "--grpc_port=0",
                                   "--metrics_port=0"};
  for (absl::string_view f : absl::StrSplit(FLAGS_service_flags, ' ', absl::SkipEmpty())) {
    args.emplace_back(f);
  }
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) Die("pipe failed");
  int log_fd = -1;
  if (!FLAGS_service_log.empty()) {
    log_fd = open(FLAGS_service_log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (log_fd < 0) Die("cannot open --service_log " + FLAGS_service_log);
  }
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) Die("fork failed");
  if (pid == 0) {
    // The service must not outlive the benchmark (Ctrl-C, crash).
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) _exit(1);
    dup2(out[1], STDOUT_FILENO);
    if (log_fd >= 0) dup2(log_fd, STDERR_FILENO);
    execv(argv[0], argv.data());
    const char msg[] = "catalog_bench: exec of --catalog_bin failed\n";
    (void)!write(STDERR_FILENO, msg, sizeof(msg) - 1);
    _exit(127);
  }
  g_service_pid = pid;
  close(out[1]);
  if (log_fd >= 0) close(log_fd);

  // The service prints "genesis-catalog grpc=HOST:PORT metrics=HOST:PORT" once it listens.
  std::string line;
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  while (line.find('\n') == std::string::npos) {
    pollfd p{out[0], POLLIN, 0};
    const int left = static_cast<int>(absl::ToInt64Milliseconds(deadline - absl::Now()));
    if (left <= 0) Die("the service printed no address within 60 s");
    if (poll(&p, 1, left) <= 0) continue;
    char buf[512];
    const ssize_t n = read(out[0], buf, sizeof(buf));
    if (n <= 0)
      Die(absl::StrCat("the service exited before listening (", StopService(absl::Seconds(1)),
                       ")"));
    line.append(buf, static_cast<size_t>(n));
  }
  // The read end stays open (and unread): the service prints nothing else.
  line = line.substr(0, line.find('\n'));
  Service s;
  s.pid = pid;
  for (absl::string_view field : absl::StrSplit(line, ' ')) {
    if (absl::ConsumePrefix(&field, "grpc=")) s.grpc_addr = std::string(field);
    if (absl::ConsumePrefix(&field, "metrics=")) {
      const size_t colon = field.rfind(':');
      s.metrics_host = std::string(field.substr(0, colon));
      if (!absl::SimpleAtoi(field.substr(colon + 1), &s.metrics_port)) s.metrics_port = 0;
    }
  }
  if (s.grpc_addr.empty()) Die("unexpected first line from the service: '" + line + "'");
  return s;
}

// A field of /proc/PID/status in KiB (VmRSS, VmHWM).
int64_t ProcStatusKib(pid_t pid, const std::string& field) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) == 0) {
      std::istringstream rest(line.substr(field.size() + 1));
      int64_t kib = 0;
      rest >> kib;
      return kib;
    }
  }
  Die(absl::StrCat("no ", field, " in /proc/", pid, "/status: did the service die?"));
}

double Mib(int64_t kib) { return static_cast<double>(kib) / 1024.0; }

// The fields of /proc/PID/stat after "pid (comm) ": [0] state, [1] ppid, [11] utime,
// [12] stime, [13] cutime, [14] cstime. Empty when the process is gone.
std::vector<std::string> ProcStat(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/stat"));
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t close = all.rfind(')');
  if (close == std::string::npos || close + 2 > all.size()) return {};
  std::vector<std::string> f = absl::StrSplit(all.substr(close + 2), ' ');
  if (f.size() < 15) return {};
  return f;
}

// utime + stime of a process, in clock ticks.
int64_t ProcCpuTicks(pid_t pid) {
  auto f = ProcStat(pid);
  return f.empty() ? 0 : std::stoll(f[11]) + std::stoll(f[12]);
}

// CPU of a process and its children, live or exited (a server that forks a process per
// connection, like PostgreSQL), in clock ticks.
int64_t ProcTreeCpuTicks(pid_t root) {
  auto f = ProcStat(root);
  if (f.empty()) return 0;
  int64_t ticks = std::stoll(f[11]) + std::stoll(f[12]) + std::stoll(f[13]) + std::stoll(f[14]);
  const std::string parent = absl::StrCat(root);
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    pid_t pid = 0;
    if (!absl::SimpleAtoi(entry.path().filename().string(), &pid)) continue;
    auto c = ProcStat(pid);
    if (!c.empty() && c[1] == parent) ticks += std::stoll(c[11]) + std::stoll(c[12]);
  }
  return ticks;
}

// The local PostgreSQL postmaster and Redis server, to report their CPU; 0 if unknown
// (e.g. servers on another machine).
pid_t g_pg_pid = 0;
pid_t g_redis_pid = 0;

void FindServerPids() {
  try {
    pqxx::connection c(FLAGS_pg_dsn);
    pqxx::nontransaction tx(c);
    const pid_t backend = tx.exec("SELECT pg_backend_pid()")[0][0].as<int>();
    auto f = ProcStat(backend);
    if (!f.empty()) g_pg_pid = std::stoi(f[1]);
  } catch (const std::exception&) {
  }
  if (FLAGS_redis_url.empty()) return;
  RedisOptions o;
  o.url = FLAGS_redis_url;
  o.pool_size = 1;
  o.name = "bench";
  auto redis = RedisClient::Create(o, nullptr);
  if (!redis.ok()) return;
  auto r = (*redis)->Command({"INFO", "server"}, absl::Now() + absl::Seconds(2));
  if (!r.ok()) return;
  for (absl::string_view line :
       absl::StrSplit(r->str, absl::ByAnyChar("\r\n"), absl::SkipEmpty())) {
    int pid = 0;
    if (absl::ConsumePrefix(&line, "process_id:") && absl::SimpleAtoi(line, &pid)) {
      if (!ProcStat(pid).empty()) g_redis_pid = pid;
    }
  }
}

struct HostCpu {
  int64_t busy = 0, total = 0;
};

HostCpu ReadHostCpu() {
  std::ifstream in("/proc/stat");
  std::string cpu;
  in >> cpu;
  HostCpu h;
  for (int i = 0; i < 10; ++i) {
    int64_t v = 0;
    if (!(in >> v)) break;
    h.total += i < 8 ? v : 0;                    // guest time is already in user
    if (i != 3 && i != 4 && i < 8) h.busy += v;  // not idle, not iowait
  }
  return h;
}

int64_t SelfCpuTicks() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  const double s = static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
                   static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
  return static_cast<int64_t>(s * static_cast<double>(sysconf(_SC_CLK_TCK)));
}

// GET http://host:port/path with HTTP/1.0; the body, or nullopt.
std::optional<std::string> HttpGet(const std::string& host, int port, const std::string& path) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::nullopt;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  if (inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1 ||
      connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return std::nullopt;
  }
  const std::string req = absl::StrCat("GET ", path, " HTTP/1.0\r\nHost: ", host, "\r\n\r\n");
  if (write(fd, req.data(), req.size()) != static_cast<ssize_t>(req.size())) {
    close(fd);
    return std::nullopt;
  }
  std::string resp;
  char buf[8192];
  ssize_t n;
  while ((n = read(fd, buf, sizeof(buf))) > 0) resp.append(buf, static_cast<size_t>(n));
  close(fd);
  const size_t body = resp.find("\r\n\r\n");
  if (body == std::string::npos) return std::nullopt;
  return resp.substr(body + 4);
}

// genesis_catalog_item_cache_total{result="hit"|"miss"|"error"} from /metrics
// (or another counter family labelled by result: `family`).
std::map<std::string, double> CacheCounters(
    const Service& s, const std::string& family = "genesis_catalog_item_cache_total") {
  std::map<std::string, double> out;
  if (s.metrics_port <= 0) return out;
  auto body = HttpGet(s.metrics_host, s.metrics_port, "/metrics");
  if (!body) return out;
  const std::string prefix = family + "{result=\"";
  for (absl::string_view line : absl::StrSplit(*body, '\n')) {
    if (!absl::ConsumePrefix(&line, prefix)) continue;
    const size_t q = line.find('"');
    const size_t sp = line.rfind(' ');
    if (q == absl::string_view::npos || sp == absl::string_view::npos) continue;
    double v = 0;
    if (absl::SimpleAtod(line.substr(sp + 1), &v)) out[std::string(line.substr(0, q))] = v;
  }
  return out;
}

// genesis_catalog_search_index_ready and _items from /metrics; nullopt when unreadable.
std::optional<std::pair<double, double>> SearchIndexState(const Service& s) {
  if (s.metrics_port <= 0) return std::nullopt;
  auto body = HttpGet(s.metrics_host, s.metrics_port, "/metrics");
  if (!body) return std::nullopt;
  std::optional<double> ready, items;
  for (absl::string_view line : absl::StrSplit(*body, '\n')) {
    double v = 0;
    const size_t sp = line.rfind(' ');
    if (sp == absl::string_view::npos || !absl::SimpleAtod(line.substr(sp + 1), &v)) continue;
    if (absl::StartsWith(line, "genesis_catalog_search_index_ready")) ready = v;
    if (absl::StartsWith(line, "genesis_catalog_search_index_items")) items = v;
  }
  if (!ready) return std::nullopt;
  return std::make_pair(*ready, items.value_or(0));
}

// Waits until the service's search index is built (when it has one); a line for the report.
std::string WaitForSearchIndex(const Service& s) {
  if (!absl::StrContains(FLAGS_service_flags, "--search_engine=xapian")) return "";
  const absl::Time start = absl::Now();
  auto state = SearchIndexState(s);
  if (!state) Die("the service exports no genesis_catalog_search_index_ready");
  while (state && state->first < 1) {
    if (absl::Now() - start > absl::Seconds(FLAGS_index_wait_s)) {
      Die("the service's search index was not built within --index_wait_s");
    }
    absl::SleepFor(absl::Seconds(1));
    state = SearchIndexState(s);
  }
  return absl::StrFormat(
      "Search index: ready %.1f s after the service started listening (%.0f items)",
      absl::ToDoubleSeconds(absl::Now() - start), state ? state->second : 0.0);
}

// ---- loading ------------------------------------------------------------------

std::string DataSetName() {
  return absl::StrFormat("Benchmark listings (generator v%d, seed %d, %d items)", kGeneratorVersion,
                         FLAGS_seed, FLAGS_items);
}

absl::StatusOr<int64_t> CountBenchItems(PgPool& pool) {
  return pool.ReadOnly(
      absl::Now() + absl::Minutes(5), [](pqxx::read_transaction& tx) -> absl::StatusOr<int64_t> {
        auto r = tx.exec_params(
            "SELECT count(*) FROM catalog.items WHERE type_id = $1 AND delete_time IS NULL",
            std::string(kBenchTypeId));
        return r[0][0].as<int64_t>();
      });
}

void FlushCachedBenchItems() {
  if (FLAGS_redis_url.empty()) return;
  RedisOptions o;
  o.url = FLAGS_redis_url;
  o.pool_size = 1;
  o.connect_timeout = absl::Seconds(2);
  o.command_timeout = absl::Seconds(10);
  o.name = "bench";
  auto redis = RedisClient::Create(o, nullptr);
  if (!redis.ok()) Die("--redis_url: " + std::string(redis.status().message()));
  std::string cursor = "0";
  int64_t removed = 0;
  do {
    auto r = (*redis)->Command({"SCAN", cursor, "MATCH", "catalog:item:bench-*", "COUNT", "1000"},
                               absl::Now() + absl::Seconds(10));
    if (!r.ok()) Die("Redis SCAN: " + std::string(r.status().message()));
    if (r->type != RedisReply::Type::kArray || r->elements.size() != 2)
      Die("unexpected SCAN reply");
    cursor = r->elements[0].str;
    std::vector<std::string> keys;
    for (const auto& k : r->elements[1].elements) keys.push_back(k.str);
    if (!keys.empty()) {
      if (auto st = (*redis)->Del(keys, absl::Now() + absl::Seconds(10)); !st.ok()) {
        Die("Redis DEL: " + std::string(st.message()));
      }
      removed += static_cast<int64_t>(keys.size());
    }
  } while (cursor != "0");
  if (removed > 0)
    std::fprintf(stderr, "  removed %lld stale cached bench items from Redis\n",
                 static_cast<long long>(removed));
}

void RunSql(const std::string& sql) {
  try {
    pqxx::connection c(FLAGS_pg_dsn);
    pqxx::nontransaction tx(c);
    tx.exec(sql);
  } catch (const std::exception& e) {
    Die(absl::StrCat(sql, ": ", e.what()));
  }
}

std::string TableSize() {
  try {
    pqxx::connection c(FLAGS_pg_dsn);
    pqxx::nontransaction tx(c);
    auto r = tx.exec(
        "SELECT pg_size_pretty(pg_table_size('catalog.items')), "
        "pg_size_pretty(pg_indexes_size('catalog.items'))");
    return absl::StrCat(r[0][0].as<std::string>(), " table + ", r[0][1].as<std::string>(),
                        " indexes");
  } catch (const std::exception& e) {
    return e.what();
  }
}

struct LoadReport {
  bool reused = false;
  double seconds = 0;
  std::string size;
};

LoadReport LoadItems() {
  LoadReport report;
  if (FLAGS_reset_schema) {
    std::fprintf(stderr, "catalog_bench: --reset_schema: DROP SCHEMA catalog CASCADE\n");
    RunSql("DROP SCHEMA IF EXISTS catalog CASCADE");
  }
  std::fprintf(stderr, "catalog_bench: applying migrations\n");
  if (auto st = ApplyMigrations(FLAGS_pg_dsn, "catalog", CatalogMigrations()); !st.ok()) {
    Die("migrations: " + std::string(st.message()) +
        " (on a benchmark database, --reset_schema drops the schema and starts afresh)");
  }
  PgPoolOptions po;
  po.dsn = FLAGS_pg_dsn;
  po.size = FLAGS_load_threads + 1;
  po.statement_timeout = absl::Hours(2);
  po.acquire_timeout = absl::Minutes(10);
  po.name = "bench";
  PgPool pool(po, nullptr);
  catalog::PgCatalogStore store(&pool);
  const auto ctx = CallContext::Background(absl::Minutes(10));

  if (FLAGS_skip_load) {
    auto type = store.GetType(kBenchTypeId, ctx);
    auto count = CountBenchItems(pool);
    if (!count.ok()) Die("counting items: " + std::string(count.status().message()));
    if (type.ok() && type->display_name == DataSetName() && *count == FLAGS_items) {
      std::fprintf(stderr, "catalog_bench: --skip_load: reusing %lld loaded items (%s)\n",
                   static_cast<long long>(*count), type->display_name.c_str());
      report.reused = true;
      report.size = TableSize();
      return report;
    }
    std::fprintf(
        stderr,
        "catalog_bench: --skip_load: the loaded data (%lld items, '%s') is not '%s'; loading\n",
        static_cast<long long>(*count), type.ok() ? type->display_name.c_str() : "no type",
        DataSetName().c_str());
  }

  std::fprintf(stderr, "catalog_bench: removing earlier bench items\n");
  auto cleared = pool.Transaction(absl::Now() + absl::Hours(1), [](pqxx::work& tx) -> absl::Status {
    auto others = tx.exec_params("SELECT EXISTS (SELECT 1 FROM catalog.items WHERE type_id <> $1)",
                                 std::string(kBenchTypeId));
    if (others[0][0].as<bool>()) {
      tx.exec_params("DELETE FROM catalog.items WHERE type_id = $1", std::string(kBenchTypeId));
    } else {
      tx.exec0("TRUNCATE catalog.items");
    }
    tx.exec_params("DELETE FROM catalog.item_types WHERE id = $1", std::string(kBenchTypeId));
    return absl::OkStatus();
  });
  if (!cleared.ok()) Die("clearing bench items: " + std::string(cleared.message()));
  FlushCachedBenchItems();
  if (auto t = store.CreateType(BenchItemType(DataSetName()), std::nullopt, ctx); !t.ok()) {
    Die("creating the bench type: " + std::string(t.status().message()));
  }

  std::fprintf(stderr, "catalog_bench: loading %lld items in batches of %d with %d thread(s)\n",
               static_cast<long long>(FLAGS_items), FLAGS_batch_size, FLAGS_load_threads);
  const ListingGenerator gen(FLAGS_seed);
  const int64_t batches = (FLAGS_items + FLAGS_batch_size - 1) / FLAGS_batch_size;
  std::atomic<int64_t> next_batch{0}, loaded{0};
  std::atomic<bool> failed{false};
  std::mutex mu;
  std::string error;
  const absl::Time start = absl::Now();
  std::vector<std::thread> threads;
  for (int t = 0; t < FLAGS_load_threads; ++t) {
    threads.emplace_back([&] {
      while (!failed) {
        const int64_t b = next_batch++;
        if (b >= batches) return;
        std::vector<catalog::Item> items;
        const int64_t first = b * FLAGS_batch_size + 1;
        const int64_t last = std::min<int64_t>(FLAGS_items, first + FLAGS_batch_size - 1);
        items.reserve(static_cast<size_t>(last - first + 1));
        for (int64_t i = first; i <= last; ++i) items.push_back(gen.Make(i));
        if (auto st = store.BulkInsert(items, absl::Now() + absl::Hours(1)); !st.ok()) {
          std::lock_guard<std::mutex> lock(mu);
          error = absl::StrCat("BulkInsert of items ", first, "-", last, ": ", st.message());
          failed = true;
          return;
        }
        const int64_t done = loaded += static_cast<int64_t>(items.size());
        const int64_t step = std::max<int64_t>(FLAGS_items / 20, FLAGS_batch_size);
        if (done / step != (done - static_cast<int64_t>(items.size())) / step ||
            done == FLAGS_items) {
          const double secs = absl::ToDoubleSeconds(absl::Now() - start);
          std::fprintf(stderr, "  loaded %lld/%lld (%.0f%%) in %.0f s, %.0f items/s\n",
                       static_cast<long long>(done), static_cast<long long>(FLAGS_items),
                       100.0 * static_cast<double>(done) / static_cast<double>(FLAGS_items), secs,
                       static_cast<double>(done) / std::max(secs, 1e-3));
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  if (failed) Die(error);
  // VACUUM as well as ANALYZE: it flushes the GIN pending list and sets the visibility
  // map, as autovacuum would soon do by itself; without it autovacuum starts in the
  // middle of the measurements.
  std::fprintf(stderr, "catalog_bench: VACUUM ANALYZE catalog.items\n");
  RunSql("VACUUM (ANALYZE) catalog.items");
  report.seconds = absl::ToDoubleSeconds(absl::Now() - start);
  report.size = TableSize();
  std::fprintf(stderr, "catalog_bench: loaded %lld items in %.1f s (%s)\n",
               static_cast<long long>(FLAGS_items), report.seconds, report.size.c_str());
  return report;
}

const char* CodeName(grpc::StatusCode c);

// ---- search queries -------------------------------------------------------------

struct QueryKind {
  std::string name;
  std::vector<std::string> queries;
};

const std::vector<QueryKind>& SearchMix() {
  static const auto* mix = new std::vector<QueryKind>{
      {"common word", {"apartamento", "casa", "garagem", "apartment", "kitchen", "piscina"}},
      {"two words",
       {"casa piscina", "apartamento mobiliado", "cobertura vista", "apartment balcony",
        "house garden", "studio furnished"}},
      {"phrase",
       {"\"boa viagem\"", "\"vista para o mar\"", "\"área de lazer\"", "\"ocean view\"",
        "\"vila madalena\"", "\"hardwood floors\""}},
      {"prefix", {"condom*", "ilumin*", "renov*", "mobil*", "apart*", "suít*"}},
      {"rare word", {"heliponto", "ofuro", "observatório", "vineyard", "greenhouse", "helipad"}},
  };
  return *mix;
}

// For each query: how many live bench items it matches (counted in PostgreSQL with
// the tsquery the service builds) and one SearchItems call, whose result count must
// be min(page size, matches).
bool PrintSearchQueries(const std::string& addr) {
  std::printf(
      "\nSearch queries (each kind is 1/5 of the SearchItems calls; default page size 20):\n");
  std::printf("  %-12s %-24s %9s %8s %10s\n", "kind", "query", "matches", "results", "1 call ms");
  auto stub =
      pb::CatalogService::NewStub(grpc::CreateChannel(addr, grpc::InsecureChannelCredentials()));
  bool consistent = true;
  try {
    pqxx::connection c(FLAGS_pg_dsn);
    pqxx::nontransaction tx(c);
    for (const auto& kind : SearchMix()) {
      for (const auto& q : kind.queries) {
        std::optional<int64_t> matches;
        if (FLAGS_count_matches) {
          auto ts = catalog::BuildTsQuery(q);
          if (!ts.ok()) Die(absl::StrCat("query ", q, ": ", ts.status().message()));
          auto r = tx.exec_params(
              "SELECT count(*) FROM catalog.items WHERE search_vector @@ "
              "(to_tsquery('catalog.genesis_pt', $1) || to_tsquery('catalog.genesis_en', $1)) "
              "AND delete_time IS NULL",
              *ts);
          matches = r[0][0].as<int64_t>();
        }
        grpc::ClientContext ctx;
        ctx.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::milliseconds(FLAGS_call_timeout_ms));
        pb::SearchItemsRequest req;
        req.set_query(q);
        pb::SearchItemsResponse resp;
        const int64_t t0 = NowNs();
        grpc::Status st = stub->SearchItems(&ctx, req, &resp);
        const double ms = static_cast<double>(NowNs() - t0) / 1e6;
        std::string note;
        if (!st.ok()) {
          note = absl::StrCat("  ERROR ", CodeName(st.error_code()), ": ", st.error_message());
          consistent = false;
        } else if (matches && resp.results_size() != std::min<int64_t>(20, *matches)) {
          note = absl::StrCat("  MISMATCH: expected ", std::min<int64_t>(20, *matches), " results");
          consistent = false;
        }
        std::printf("  %-12s %-24s %9s %8d %10.1f%s\n", kind.name.c_str(), q.c_str(),
                    matches ? absl::StrCat(*matches).c_str() : "-", resp.results_size(), ms,
                    note.c_str());
        for (int i = 0; i < std::min(FLAGS_show_top, resp.results_size()); ++i) {
          std::printf("      %d. %s\n", i + 1, resp.results(i).item().title().c_str());
        }
      }
    }
  } catch (const std::exception& e) {
    Die(absl::StrCat("counting matches: ", e.what()));
  }
  std::fflush(stdout);
  return consistent;
}

// ---- calls ------------------------------------------------------------------------

class Call {
 public:
  virtual ~Call() = default;
  virtual void Start(pb::CatalogService::Stub* stub, grpc::CompletionQueue* cq) = 0;
  [[nodiscard]] virtual std::string Describe() const = 0;

  grpc::ClientContext ctx;
  grpc::Status status;
  int kind = 0;
  int64_t start_ns = 0;
};

class GetItemCall final : public Call {
 public:
  explicit GetItemCall(std::string name) { req_.set_name(std::move(name)); }
  void Start(pb::CatalogService::Stub* stub, grpc::CompletionQueue* cq) override {
    reader_ = stub->PrepareAsyncGetItem(&ctx, req_, cq);
    reader_->StartCall();
    reader_->Finish(&resp_, &status, this);
  }
  [[nodiscard]] std::string Describe() const override { return "GetItem " + req_.name(); }

 private:
  pb::GetItemRequest req_;
  pb::Item resp_;
  std::unique_ptr<grpc::ClientAsyncResponseReader<pb::Item>> reader_;
};

class SearchCall final : public Call {
 public:
  explicit SearchCall(std::string query) { req_.set_query(std::move(query)); }
  void Start(pb::CatalogService::Stub* stub, grpc::CompletionQueue* cq) override {
    reader_ = stub->PrepareAsyncSearchItems(&ctx, req_, cq);
    reader_->StartCall();
    reader_->Finish(&resp_, &status, this);
  }
  [[nodiscard]] std::string Describe() const override {
    return "SearchItems query=" + req_.query();
  }

 private:
  pb::SearchItemsRequest req_;
  pb::SearchItemsResponse resp_;
  std::unique_ptr<grpc::ClientAsyncResponseReader<pb::SearchItemsResponse>> reader_;
};

// Makes the calls of a scenario. Thread-safe.
class Workload {
 public:
  virtual ~Workload() = default;
  // The next call, or nullptr when there are no more (finite workloads).
  virtual std::unique_ptr<Call> Next(std::mt19937_64& rng) = 0;
  [[nodiscard]] virtual std::vector<std::string> Kinds() const { return {"all"}; }
};

// GetItem on ids drawn uniformly from the hot set.
class HotGets final : public Workload {
 public:
  explicit HotGets(const std::vector<std::string>* names) : names_(names) {}
  std::unique_ptr<Call> Next(std::mt19937_64& rng) override {
    std::uniform_int_distribution<size_t> d(0, names_->size() - 1);
    return std::make_unique<GetItemCall>((*names_)[d(rng)]);
  }

 private:
  const std::vector<std::string>* names_;
};

// GetItem on each id of the hot set once (puts them in the cache).
class WarmGets final : public Workload {
 public:
  explicit WarmGets(const std::vector<std::string>* names) : names_(names) {}
  std::unique_ptr<Call> Next(std::mt19937_64&) override {
    const size_t i = next_++;
    return i < names_->size() ? std::make_unique<GetItemCall>((*names_)[i]) : nullptr;
  }

 private:
  const std::vector<std::string>* names_;
  std::atomic<size_t> next_{0};
};

class Searches final : public Workload {
 public:
  std::unique_ptr<Call> Next(std::mt19937_64& rng) override {
    const auto& mix = SearchMix();
    const int kind = std::uniform_int_distribution<int>(0, static_cast<int>(mix.size()) - 1)(rng);
    const auto& qs = mix[static_cast<size_t>(kind)].queries;
    auto call = std::make_unique<SearchCall>(
        qs[std::uniform_int_distribution<size_t>(0, qs.size() - 1)(rng)]);
    call->kind = kind;
    return call;
  }
  [[nodiscard]] std::vector<std::string> Kinds() const override {
    std::vector<std::string> k;
    for (const auto& q : SearchMix()) k.push_back(q.name);
    return k;
  }
};

struct RunResult {
  double seconds = 0;                            // measured window
  int64_t ok = 0;                                // OK calls completed in the window
  std::vector<std::vector<int64_t>> latency_ns;  // per kind, OK calls in the window
  std::map<std::string, int64_t> errors;         // status code name -> count
  std::string first_error;
  // Cores used over the window: the service, this client, PostgreSQL, Redis, and the rest of
  // the machine (other programs); negative means unknown.
  double service_cpu = 0, client_cpu = 0, pg_cpu = -1, redis_cpu = -1, other_cpu = 0;
  [[nodiscard]] int64_t error_count() const {
    int64_t n = 0;
    for (const auto& [_, c] : errors) n += c;
    return n;
  }
};

const char* CodeName(grpc::StatusCode c) {
  switch (c) {
    case grpc::StatusCode::CANCELLED:
      return "CANCELLED";
    case grpc::StatusCode::UNKNOWN:
      return "UNKNOWN";
    case grpc::StatusCode::INVALID_ARGUMENT:
      return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::NOT_FOUND:
      return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS:
      return "ALREADY_EXISTS";
    case grpc::StatusCode::PERMISSION_DENIED:
      return "PERMISSION_DENIED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::FAILED_PRECONDITION:
      return "FAILED_PRECONDITION";
    case grpc::StatusCode::ABORTED:
      return "ABORTED";
    case grpc::StatusCode::OUT_OF_RANGE:
      return "OUT_OF_RANGE";
    case grpc::StatusCode::UNIMPLEMENTED:
      return "UNIMPLEMENTED";
    case grpc::StatusCode::INTERNAL:
      return "INTERNAL";
    case grpc::StatusCode::UNAVAILABLE:
      return "UNAVAILABLE";
    case grpc::StatusCode::DATA_LOSS:
      return "DATA_LOSS";
    case grpc::StatusCode::UNAUTHENTICATED:
      return "UNAUTHENTICATED";
    default:
      return "OK";
  }
}

struct CpuSample {
  int64_t ns = 0, service = 0, self = 0, pg = 0, redis = 0;
  HostCpu host;
};

CpuSample SampleCpu(pid_t service_pid) {
  CpuSample c;
  c.ns = NowNs();
  c.service = ProcCpuTicks(service_pid);
  c.self = SelfCpuTicks();
  if (g_pg_pid > 0) c.pg = ProcTreeCpuTicks(g_pg_pid);
  if (g_redis_pid > 0) c.redis = ProcCpuTicks(g_redis_pid);
  c.host = ReadHostCpu();
  return c;
}

class Client {
 public:
  Client(const std::string& addr, int threads) {
    for (int i = 0; i < threads; ++i) {
      grpc::ChannelArguments args;
      // One connection per client thread, not one shared by all channels.
      args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
      args.SetMaxReceiveMessageSize(64 << 20);
      auto ch = grpc::CreateCustomChannel(addr, grpc::InsecureChannelCredentials(), args);
      if (!ch->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(10))) {
        Die("cannot connect to the service at " + addr);
      }
      stubs_.push_back(pb::CatalogService::NewStub(ch));
    }
  }

  // Keeps `concurrency` calls in flight for warmup + duration (or until the
  // workload runs out when `duration` is infinite).
  RunResult Run(Workload& w, int concurrency, absl::Duration warmup, absl::Duration duration,
                pid_t service_pid) {
    const int threads = std::min<int>(concurrency, static_cast<int>(stubs_.size()));
    const size_t kinds = w.Kinds().size();
    const int64_t t0 = NowNs();
    const bool timed = duration != absl::InfiniteDuration();
    const int64_t measure_start = t0 + absl::ToInt64Nanoseconds(warmup);
    const int64_t measure_end = timed ? measure_start + absl::ToInt64Nanoseconds(duration)
                                      : std::numeric_limits<int64_t>::max();
    std::atomic<bool> stop{false};
    std::vector<RunResult> per_thread(static_cast<size_t>(threads));
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
      const int slots = concurrency / threads + (t < concurrency % threads ? 1 : 0);
      workers.emplace_back([&, t, slots] {
        RunResult& r = per_thread[static_cast<size_t>(t)];
        r.latency_ns.resize(kinds);
        std::mt19937_64 rng(FLAGS_seed * 1000003 + static_cast<uint64_t>(t) * 7919 +
                            static_cast<uint64_t>(concurrency));
        pb::CatalogService::Stub* stub = stubs_[static_cast<size_t>(t)].get();
        grpc::CompletionQueue cq;
        int in_flight = 0;
        auto start_next = [&]() {
          if (stop || NowNs() >= measure_end) return;
          std::unique_ptr<Call> call = w.Next(rng);
          if (!call) return;
          call->ctx.set_deadline(std::chrono::system_clock::now() +
                                 std::chrono::milliseconds(FLAGS_call_timeout_ms));
          call->start_ns = NowNs();
          call->Start(stub, &cq);
          call.release();  // owned by the completion queue until it returns
          ++in_flight;
        };
        for (int i = 0; i < slots; ++i) start_next();
        void* tag;
        bool ok;
        while (in_flight > 0 && cq.Next(&tag, &ok)) {
          std::unique_ptr<Call> call(static_cast<Call*>(tag));
          --in_flight;
          const int64_t end = NowNs();
          if (!call->status.ok()) {
            ++r.errors[CodeName(call->status.error_code())];
            if (r.first_error.empty()) {
              r.first_error =
                  absl::StrCat(call->Describe(), " -> ", CodeName(call->status.error_code()), ": ",
                               call->status.error_message());
            }
            if (!FLAGS_continue_on_error) stop = true;
          } else if (end >= measure_start && end <= measure_end) {
            ++r.ok;
            r.latency_ns[static_cast<size_t>(call->kind)].push_back(end - call->start_ns);
          }
          start_next();
        }
        cq.Shutdown();
        while (cq.Next(&tag, &ok)) {
        }
      });
    }
    RunResult total;
    total.latency_ns.resize(kinds);
    if (timed) {
      // CPU use over the measured window.
      std::this_thread::sleep_until(
          SteadyClock::time_point(std::chrono::nanoseconds(measure_start)));
      const CpuSample a = SampleCpu(service_pid);
      while (!stop && NowNs() < measure_end)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      const CpuSample b = SampleCpu(service_pid);
      const double wall = static_cast<double>(b.ns - a.ns) / 1e9;
      const double hz = static_cast<double>(sysconf(_SC_CLK_TCK));
      auto cores = [&](int64_t t0, int64_t t1) { return static_cast<double>(t1 - t0) / hz / wall; };
      total.service_cpu = cores(a.service, b.service);
      total.client_cpu = cores(a.self, b.self);
      if (g_pg_pid > 0) total.pg_cpu = cores(a.pg, b.pg);
      if (g_redis_pid > 0) total.redis_cpu = cores(a.redis, b.redis);
      const double host = b.host.total > a.host.total
                              ? static_cast<double>(b.host.busy - a.host.busy) /
                                    static_cast<double>(b.host.total - a.host.total) *
                                    static_cast<double>(std::thread::hardware_concurrency())
                              : 0;
      total.other_cpu =
          std::max(0.0, host - total.service_cpu - total.client_cpu - std::max(0.0, total.pg_cpu) -
                            std::max(0.0, total.redis_cpu));
    }
    for (auto& th : workers) th.join();
    const int64_t finished = std::min(NowNs(), measure_end);
    total.seconds = static_cast<double>(finished - measure_start) / 1e9;
    for (auto& r : per_thread) {
      total.ok += r.ok;
      for (size_t k = 0; k < kinds; ++k) {
        total.latency_ns[k].insert(total.latency_ns[k].end(), r.latency_ns[k].begin(),
                                   r.latency_ns[k].end());
      }
      for (const auto& [code, n] : r.errors) total.errors[code] += n;
      if (total.first_error.empty()) total.first_error = r.first_error;
    }
    return total;
  }

 private:
  std::vector<std::unique_ptr<pb::CatalogService::Stub>> stubs_;
};

// ---- report --------------------------------------------------------------------------

// Nearest-rank percentile of sorted values, in ms.
double PercentileMs(const std::vector<int64_t>& sorted, double p) {
  if (sorted.empty()) return std::nan("");
  size_t rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(sorted.size())));
  rank = std::clamp<size_t>(rank, 1, sorted.size());
  return static_cast<double>(sorted[rank - 1]) / 1e6;
}

struct Row {
  std::string scenario;
  int callers = 0;
  int64_t calls = 0;
  double rps = 0, p50 = 0, p95 = 0, p99 = 0, max = 0;
  double service_cpu = 0, client_cpu = 0, pg_cpu = 0, redis_cpu = 0, other_cpu = 0;
  int64_t errors = 0;
  std::vector<std::string> detail;  // per query kind
};

std::string Ms(double v) { return std::isnan(v) ? "-" : absl::StrFormat("%.2f", v); }
std::string Rate(double v) {
  return v < 100 ? absl::StrFormat("%.1f", v) : absl::StrFormat("%.0f", v);
}

std::string RowLine(const Row& r) {
  auto cpu = [](double v) { return v < 0 ? std::string("    -") : absl::StrFormat("%5.2f", v); };
  return absl::StrFormat("%-12s %7d %9d %10s %8s %8s %8s %8s  %s %s %s %s %s %6d", r.scenario,
                         r.callers, r.calls, Rate(r.rps), Ms(r.p50), Ms(r.p95), Ms(r.p99),
                         Ms(r.max), cpu(r.service_cpu), cpu(r.client_cpu), cpu(r.pg_cpu),
                         cpu(r.redis_cpu), cpu(r.other_cpu), r.errors);
}

const char* kHeader =
    "scenario     callers     calls      req/s   p50 ms   p95 ms   p99 ms   max ms    svc bench    "
    "pg redis other errors";

Row MakeRow(const std::string& scenario, int callers, RunResult& r,
            const std::vector<std::string>& kinds) {
  Row row;
  row.scenario = scenario;
  row.callers = callers;
  row.calls = r.ok;
  row.rps = r.seconds > 0 ? static_cast<double>(r.ok) / r.seconds : 0;
  std::vector<int64_t> all;
  for (auto& k : r.latency_ns) {
    std::sort(k.begin(), k.end());
    all.insert(all.end(), k.begin(), k.end());
  }
  std::sort(all.begin(), all.end());
  row.p50 = PercentileMs(all, 50);
  row.p95 = PercentileMs(all, 95);
  row.p99 = PercentileMs(all, 99);
  row.max = all.empty() ? std::nan("") : static_cast<double>(all.back()) / 1e6;
  row.service_cpu = r.service_cpu;
  row.client_cpu = r.client_cpu;
  row.pg_cpu = r.pg_cpu;
  row.redis_cpu = r.redis_cpu;
  row.other_cpu = r.other_cpu;
  row.errors = r.error_count();
  if (kinds.size() > 1) {
    for (size_t k = 0; k < kinds.size(); ++k) {
      const auto& v = r.latency_ns[k];
      row.detail.push_back(
          absl::StrFormat("  - %-12s %9d %10s %8s %8s %8s %8s", kinds[k], v.size(),
                          Rate(r.seconds > 0 ? static_cast<double>(v.size()) / r.seconds : 0),
                          Ms(PercentileMs(v, 50)), Ms(PercentileMs(v, 95)), Ms(PercentileMs(v, 99)),
                          Ms(v.empty() ? std::nan("") : static_cast<double>(v.back()) / 1e6)));
    }
  }
  return row;
}

std::string ErrorSummary(const RunResult& r) {
  std::string s;
  for (const auto& [code, n] : r.errors) absl::StrAppend(&s, s.empty() ? "" : ", ", code, " x", n);
  return absl::StrCat(s, "; first: ", r.first_error);
}

std::vector<int> ParseConcurrency() {
  std::vector<int> out;
  for (absl::string_view s : absl::StrSplit(FLAGS_concurrency, ',', absl::SkipEmpty())) {
    int c = 0;
    if (!absl::SimpleAtoi(s, &c) || c < 1 || c > 10000)
      Die("--concurrency: bad value '" + std::string(s) + "'");
    out.push_back(c);
  }
  if (out.empty()) Die("--concurrency is empty");
  return out;
}

int Main() {
  if (FLAGS_pg_dsn.empty()) Die("--pg_dsn is required (or GENESIS_PG_DSN)");
  if (FLAGS_items < 1) Die("--items must be at least 1");
  if (FLAGS_batch_size < 1 || FLAGS_load_threads < 1 || FLAGS_client_threads < 1 ||
      FLAGS_duration_s < 1 || FLAGS_warmup_s < 0 || FLAGS_hot_items < 1 || FLAGS_idle_s < 0) {
    Die("--batch_size, --load_threads, --client_threads, --duration_s and --hot_items must be >= "
        "1; "
        "--warmup_s and --idle_s >= 0");
  }
  if (access(FLAGS_catalog_bin.c_str(), X_OK) != 0)
    Die("--catalog_bin is not executable: " + FLAGS_catalog_bin);
  const std::vector<int> concurrency = ParseConcurrency();
  const bool run_get = absl::StrContains(FLAGS_scenarios, "get");
  const bool run_search = absl::StrContains(FLAGS_scenarios, "search");
  if (FLAGS_redis_url.empty()) {
    std::fprintf(stderr,
                 "catalog_bench: WARNING: --redis_url is empty: the service runs without its item "
                 "cache, so GetItem reads PostgreSQL (not the cached figure)\n");
  }

  const LoadReport load = LoadItems();
  FindServerPids();

  // The hot set: ids drawn uniformly (seeded) from the whole data set.
  std::vector<std::string> hot;
  {
    std::mt19937_64 rng(FLAGS_seed ^ 0x5eed);
    std::uniform_int_distribution<int64_t> d(1, FLAGS_items);
    const int64_t n = std::min<int64_t>(FLAGS_hot_items, FLAGS_items);
    hot.reserve(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) hot.push_back("items/" + BenchItemId(d(rng)));
  }

  std::fprintf(stderr, "catalog_bench: starting %s\n", FLAGS_catalog_bin.c_str());
  const Service svc = StartService();
  std::fprintf(stderr, "catalog_bench: service pid %d, gRPC %s\n", svc.pid, svc.grpc_addr.c_str());
  const std::string index_note = WaitForSearchIndex(svc);
  if (!index_note.empty()) std::fprintf(stderr, "catalog_bench: %s\n", index_note.c_str());
  auto client_owner = std::make_unique<Client>(svc.grpc_addr, FLAGS_client_threads);
  Client& client = *client_owner;

  // Warm-up: every hot id once (so GetItem is served from Redis) and a round of searches.
  std::fprintf(stderr, "catalog_bench: warming %zu hot items and the search path\n", hot.size());
  {
    WarmGets warm(&hot);
    RunResult r = client.Run(warm, 16, absl::ZeroDuration(), absl::InfiniteDuration(), svc.pid);
    if (r.error_count() > 0) Failure("warm-up GetItem failed: " + ErrorSummary(r));
    if (run_search) {
      Searches s;
      RunResult sr = client.Run(s, 2, absl::ZeroDuration(), absl::Seconds(2), svc.pid);
      if (sr.error_count() > 0) Failure("warm-up SearchItems failed: " + ErrorSummary(sr));
    }
  }
  std::fprintf(stderr, "catalog_bench: idle %d s\n", FLAGS_idle_s);
  absl::SleepFor(absl::Seconds(FLAGS_idle_s));
  const int64_t idle_rss_kib = ProcStatusKib(svc.pid, "VmRSS");

  std::printf(
      "Catalog benchmark: N=%lld items (%s), %d s measured per scenario after %d s warm-up, "
      "%d client thread(s), %d cores\n",
      static_cast<long long>(FLAGS_items), load.size.c_str(), FLAGS_duration_s, FLAGS_warmup_s,
      FLAGS_client_threads, static_cast<int>(std::thread::hardware_concurrency()));
  if (load.reused) {
    std::printf("Data: reused (--skip_load)\n");
  } else {
    std::printf(
        "Data: loaded in %.1f s (%.0f items/s, BulkInsert batches of %d, %d thread(s), then VACUUM "
        "ANALYZE)\n",
        load.seconds, static_cast<double>(FLAGS_items) / load.seconds, FLAGS_batch_size,
        FLAGS_load_threads);
  }
  {
    std::ifstream in("/proc/loadavg");
    std::string l1, l5, l15;
    in >> l1 >> l5 >> l15;
    std::printf("Machine: %d cores; load average before the scenarios %s %s %s (1/5/15 min)\n",
                static_cast<int>(std::thread::hardware_concurrency()), l1.c_str(), l5.c_str(),
                l15.c_str());
  }
  std::printf("Service: %s %s (pid %d)\n", FLAGS_catalog_bin.c_str(),
              FLAGS_service_flags.empty() ? "(default flags)" : FLAGS_service_flags.c_str(),
              svc.pid);
  if (!index_note.empty()) std::printf("%s\n", index_note.c_str());
  std::fflush(stdout);
  if (run_search && !PrintSearchQueries(svc.grpc_addr)) {
    Failure("a search query failed or returned the wrong number of results (see above)");
  }

  std::vector<Row> rows;
  std::optional<double> best_get_rps;
  int best_get_callers = 0;
  std::optional<double> search_p95_at16, search_rps_at16, search_p95_at1;
  int64_t search_errors_at16 = 0;
  std::string cache_note;
  auto report = [&](const Row& row, const RunResult& r) {
    std::printf("%s\n", RowLine(row).c_str());
    for (const auto& d : row.detail) std::printf("%s\n", d.c_str());
    if (r.error_count() > 0) {
      std::printf("  ERRORS: %s\n", ErrorSummary(r).c_str());
    }
    std::fflush(stdout);
    rows.push_back(row);
    if (r.error_count() > 0) Failure("calls failed: " + ErrorSummary(r));
  };

  std::printf("\n%s\n", kHeader);
  std::printf(
      "(latency per call as the client sees it; svc/bench/pg/redis/other: CPU cores used by the "
      "service, this client, PostgreSQL, Redis and everything else on the machine)\n");
  if (run_get) {
    for (int c : concurrency) {
      std::fprintf(stderr, "catalog_bench: GetItem x%d\n", c);
      HotGets w(&hot);
      const char* kLocal = "genesis_catalog_item_local_cache_total";
      const auto before = CacheCounters(svc);
      const auto local_before = CacheCounters(svc, kLocal);
      RunResult r =
          client.Run(w, c, absl::Seconds(FLAGS_warmup_s), absl::Seconds(FLAGS_duration_s), svc.pid);
      const auto after = CacheCounters(svc);
      const auto local_after = CacheCounters(svc, kLocal);
      Row row = MakeRow("GetItem", c, r, w.Kinds());
      auto delta = [](const std::map<std::string, double>& after_,
                      const std::map<std::string, double>& before_, const char* k) {
        auto a = after_.find(k), b = before_.find(k);
        return (a == after_.end() ? 0 : a->second) - (b == before_.end() ? 0 : b->second);
      };
      if (!after.empty()) {
        const double hits = delta(after, before, "hit"), misses = delta(after, before, "miss"),
                     errors = delta(after, before, "error");
        const double all = hits + misses;
        row.detail.push_back(absl::StrFormat(
            "  - cache (memory or Redis): %.1f%% hits (%.0f hits, %.0f misses, %.0f errors)",
            all > 0 ? 100.0 * hits / all : 0.0, hits, misses, errors));
      }
      if (!local_after.empty()) {
        const double hits = delta(local_after, local_before, "hit"),
                     misses = delta(local_after, local_before, "miss"),
                     bypassed = delta(local_after, local_before, "bypassed");
        const double all = hits + misses + bypassed;
        row.detail.push_back(absl::StrFormat(
            "  - of which in-process tier: %.1f%% hits (%.0f hits, %.0f misses, %.0f bypassed)",
            all > 0 ? 100.0 * hits / all : 0.0, hits, misses, bypassed));
      }
      if (row.rps > 0 && row.service_cpu >= 0) {
        row.detail.push_back(absl::StrFormat(
            "  - service CPU per call: %.1f us (utime+stime over the window / calls)",
            row.service_cpu * 1e6 / row.rps));
      }
      report(row, r);
      if (r.error_count() == 0 && (!best_get_rps || row.rps > *best_get_rps)) {
        best_get_rps = row.rps;
        best_get_callers = c;
      }
    }
  }
  if (run_search) {
    for (int c : concurrency) {
      std::fprintf(stderr, "catalog_bench: SearchItems x%d\n", c);
      Searches w;
      RunResult r =
          client.Run(w, c, absl::Seconds(FLAGS_warmup_s), absl::Seconds(FLAGS_duration_s), svc.pid);
      Row row = MakeRow("SearchItems", c, r, w.Kinds());
      report(row, r);
      if (c == 16) {
        search_p95_at16 = row.p95;
        search_rps_at16 = row.rps;
        search_errors_at16 = row.errors;
      }
      if (c == 1 && row.errors == 0) search_p95_at1 = row.p95;
    }
  }

  std::fprintf(stderr, "catalog_bench: idle %d s after the load\n", FLAGS_idle_s);
  absl::SleepFor(absl::Seconds(FLAGS_idle_s));
  const int64_t idle_after_kib = ProcStatusKib(svc.pid, "VmRSS");
  const int64_t peak_kib = ProcStatusKib(svc.pid, "VmHWM");
  std::printf("\nService memory (1 MiB = 1024 KiB, from /proc/%d/status):\n", svc.pid);
  std::printf("  idle RSS after start-up and warm-up (VmRSS):  %7.1f MiB\n", Mib(idle_rss_kib));
  std::printf("  idle RSS after the scenarios (VmRSS):         %7.1f MiB\n", Mib(idle_after_kib));
  std::printf("  peak RSS (VmHWM):                             %7.1f MiB\n", Mib(peak_kib));

  const bool full = FLAGS_items == 1000000;
  const std::string scale_note =
      full ? "" : absl::StrFormat("  [N=%d, target is for N=1,000,000]", FLAGS_items);
  auto verdict = [](bool pass) { return pass ? "PASS" : "MISS"; };
  std::printf(
      "\nTargets (2-core machine; client, service, PostgreSQL and Redis share the cores):\n");
  auto target = [](const char* what, const std::string& got, const char* verdict_text,
                   const std::string& note) {
    std::printf("  %-4s  %-62s %s%s\n", verdict_text, what, got.c_str(), note.c_str());
  };
  if (best_get_rps) {
    target("GetItem (cached) >= 25,000 req/s",
           absl::StrFormat("%.0f req/s (best of the caller counts, at %d)", *best_get_rps,
                           best_get_callers),
           verdict(*best_get_rps >= 25000), scale_note);
  } else {
    target("GetItem (cached) >= 25,000 req/s", "not measured", "-", "");
  }
  if (search_p95_at1) {
    target("SearchItems p95 <= 20 ms at 1 caller", absl::StrFormat("%s ms", Ms(*search_p95_at1)),
           verdict(!std::isnan(*search_p95_at1) && *search_p95_at1 <= 20.0), scale_note);
  } else {
    target("SearchItems p95 <= 20 ms at 1 caller", "not measured (or calls failed)", "-", "");
  }
  if (search_p95_at16) {
    target("SearchItems at 16 callers: >= 100/s, p95 <= 250 ms, no failure",
           absl::StrFormat(
               "%s req/s, p95 %s ms%s", Rate(*search_rps_at16), Ms(*search_p95_at16),
               search_errors_at16 > 0
                   ? absl::StrFormat(" (of the OK calls; %d calls failed)", search_errors_at16)
                   : ""),
           verdict(!std::isnan(*search_p95_at16) && *search_p95_at16 <= 250.0 &&
                   *search_rps_at16 >= 100 && search_errors_at16 == 0),
           scale_note);
  } else {
    target("SearchItems at 16 callers: >= 100/s, p95 <= 250 ms, no failure",
           "not measured (16 not in --concurrency)", "-", "");
  }
  target("idle RSS <= 60 MB (read as 60 MiB)", absl::StrFormat("%.1f MiB", Mib(idle_rss_kib)),
         verdict(Mib(idle_rss_kib) <= 60.0), "");
  std::fflush(stdout);

  client_owner.reset();  // close the connections first
  const absl::Time stop_start = absl::Now();
  const std::string stopped = StopService(absl::Seconds(20));
  std::fprintf(stderr, "catalog_bench: stopping the service (SIGTERM): %s after %.1f s\n",
               stopped.c_str(), absl::ToDoubleSeconds(absl::Now() - stop_start));
  if (g_any_error) {
    std::fprintf(stderr, "catalog_bench: FAILED: some calls failed (see ERRORS above)\n");
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace genesis::bench

int main(int argc, char** argv) {
  genesis::ParseFlagsWithEnv(
      &argc, &argv,
      "catalog_bench: loads generated items and measures genesis-catalog's GetItem "
      "and SearchItems throughput, latency and memory. See bench/README.md.");
  signal(SIGPIPE, SIG_IGN);
  return genesis::bench::Main();
}
