#include "common/storage/redis.h"

#include <sys/time.h>

#include <algorithm>

#include <hiredis/hiredis.h>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/runtime/logging.h"

namespace genesis {
namespace {

timeval TimevalOf(absl::Duration d) {
  d = std::max(d, absl::Milliseconds(1));
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(absl::ToInt64Seconds(d));
  tv.tv_usec = static_cast<suseconds_t>(absl::ToInt64Microseconds(d - absl::Seconds(tv.tv_sec)));
  return tv;
}

RedisReply Copy(const redisReply* r) {
  RedisReply out;
  switch (r->type) {
    case REDIS_REPLY_STRING:
      out.type = RedisReply::Type::kString;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_STATUS:
      out.type = RedisReply::Type::kStatus;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_ERROR:
      out.type = RedisReply::Type::kError;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_INTEGER:
      out.type = RedisReply::Type::kInteger;
      out.integer = r->integer;
      break;
    case REDIS_REPLY_ARRAY:
      out.type = RedisReply::Type::kArray;
      for (size_t i = 0; i < r->elements; ++i) out.elements.push_back(Copy(r->element[i]));
      break;
    default:
      out.type = RedisReply::Type::kNil;
      break;
  }
  return out;
}

// Sends one command on a fresh connection (set-up and sentinel queries).
absl::StatusOr<RedisReply> Roundtrip(redisContext* ctx, const std::vector<std::string>& argv) {
  std::vector<const char*> args;
  std::vector<size_t> lens;
  for (const auto& a : argv) {
    args.push_back(a.data());
    lens.push_back(a.size());
  }
  auto* r = static_cast<redisReply*>(
      redisCommandArgv(ctx, static_cast<int>(args.size()), args.data(), lens.data()));
  if (r == nullptr) return absl::UnavailableError(absl::StrCat(argv[0], " failed: ", ctx->errstr));
  RedisReply reply = Copy(r);
  freeReplyObject(r);
  return reply;
}

std::string Address(const RedisEndpoint& ep) { return absl::StrCat(ep.host, ":", ep.port); }

}  // namespace

struct RedisClient::Conn {
  redisContext* ctx = nullptr;
  // Sentinel: the master address generation this connection was opened in,
  // and the master epoch.
  uint64_t generation = 0;
  uint64_t master_epoch = 0;
  // The socket timeout last set; setting it costs two syscalls, so it is
  // only changed when a call needs a different one.
  absl::Duration timeout = absl::ZeroDuration();
  ~Conn() {
    if (ctx != nullptr) redisFree(ctx);
  }
};

void RedisContextFree::operator()(redisContext* ctx) const {
  if (ctx != nullptr) redisFree(ctx);
}

absl::StatusOr<RedisContextPtr> RedisClient::OpenDedicated(absl::Time deadline) {
  if (absl::Now() >= deadline) return absl::DeadlineExceededError("deadline passed before connect");
  auto conn = Connect(deadline);
  if (!conn.ok()) return conn.status();
  RedisContextPtr ctx((*conn)->ctx);
  (*conn)->ctx = nullptr;
  return ctx;
}

absl::StatusOr<std::unique_ptr<RedisClient>> RedisClient::Create(RedisOptions options,
                                                                 MetricsRegistry* registry) {
  auto url = ParseRedisUrl(options.url);
  if (!url.ok()) return url.status();
  auto client = std::unique_ptr<RedisClient>(new RedisClient(std::move(options), *std::move(url)));
  if (registry != nullptr) {
    const std::vector<std::string> label{client->options_.name};
    client->errors_ =
        &registry
             ->AddCounter("genesis_redis_errors_total",
                          "Redis calls that failed (unreachable, timeout, broken).", {"client"})
             .WithLabels(label);
    client->trips_counter_ =
        &registry
             ->AddCounter("genesis_redis_breaker_trips_total",
                          "Times the Redis breaker opened after failures in a row.", {"client"})
             .WithLabels(label);
    client->short_circuited_ =
        &registry
             ->AddCounter("genesis_redis_short_circuited_total",
                          "Redis calls answered UNAVAILABLE at once by the open breaker.",
                          {"client"})
             .WithLabels(label);
    client->state_gauge_ =
        &registry
             ->AddGauge("genesis_redis_breaker_state",
                        "Redis breaker: 0 closed, 1 open (calls fail fast), 2 probing.", {"client"})
             .WithLabels(label);
    client->state_gauge_->Set(0);
    if (client->url_.sentinel) {
      auto& queries = registry->AddCounter(
          "genesis_redis_sentinel_queries_total",
          "Rounds of asking the sentinels for the Redis master, by result.", {"client", "result"});
      client->sentinel_ok_ = &queries.WithLabels({client->options_.name, "ok"});
      client->sentinel_failed_ = &queries.WithLabels({client->options_.name, "error"});
      client->master_changes_ =
          &registry
               ->AddCounter("genesis_redis_master_changes_total",
                            "Times the sentinels named a Redis master other than the previous "
                            "one (the first discovery included).",
                            {"client"})
               .WithLabels(label);
    }
  }
  return client;
}

RedisClient::RedisClient(RedisOptions options, RedisUrl url)
    : options_(std::move(options)),
      url_(std::move(url)),
      description_(url_.Describe()),
      open_for_(options_.breaker_open) {
  prober_ = std::thread([this] { ProbeLoop(); });
}

RedisClient::~RedisClient() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  probe_cv_.notify_all();
  if (prober_.joinable()) prober_.join();
}

absl::StatusOr<std::unique_ptr<RedisClient::Conn>> RedisClient::Open(const RedisEndpoint& endpoint,
                                                                     const std::string& password,
                                                                     int db,
                                                                     absl::Duration timeout) {
  auto conn = std::make_unique<Conn>();
  conn->ctx = redisConnectWithTimeout(endpoint.host.c_str(), endpoint.port, TimevalOf(timeout));
  if (conn->ctx == nullptr || conn->ctx->err != 0) {
    std::string why = conn->ctx != nullptr ? conn->ctx->errstr : "out of memory";
    return absl::UnavailableError(absl::StrCat("redis ", Address(endpoint), " unreachable: ", why));
  }
  redisSetTimeout(conn->ctx, TimevalOf(timeout));
  conn->timeout = timeout;
  auto setup = [&](std::vector<std::string> argv) -> absl::Status {
    auto reply = Roundtrip(conn->ctx, argv);
    if (!reply.ok())
      return absl::UnavailableError(absl::StrCat("redis: ", reply.status().message()));
    if (reply->type == RedisReply::Type::kError) {
      return absl::PermissionDeniedError(
          absl::StrCat("redis ", Address(endpoint), " ", argv[0], " refused: ", reply->str));
    }
    return absl::OkStatus();
  };
  if (!password.empty()) {
    if (auto st = setup({"AUTH", password}); !st.ok()) return st;
  }
  if (db != 0) {
    if (auto st = setup({"SELECT", std::to_string(db)}); !st.ok()) return st;
  }
  return conn;
}

absl::StatusOr<std::unique_ptr<RedisClient::Conn>> RedisClient::Connect(absl::Time deadline) {
  const absl::Duration budget = std::min(options_.connect_timeout, deadline - absl::Now());
  if (!url_.sentinel) return Open(url_.servers[0], url_.password, url_.db, budget);
  auto target = CurrentMaster(deadline);
  if (!target.ok()) return target.status();
  auto conn = Open(target->endpoint, url_.password, url_.db,
                   std::min(options_.connect_timeout, deadline - absl::Now()));
  if (!conn.ok()) {
    ForgetMaster(target->generation, conn.status());
    return conn.status();
  }
  // The sentinels may still name a master that has just been demoted (or a
  // replica promoted a moment ago may not be the one they name): only a
  // server that says it is the master is used.
  auto role = Roundtrip((*conn)->ctx, {"ROLE"});
  absl::Status bad;
  if (!role.ok()) {
    bad = absl::UnavailableError(
        absl::StrCat("redis ", Address(target->endpoint), ": ", role.status().message()));
  } else if (role->type != RedisReply::Type::kArray || role->elements.empty() ||
             role->elements[0].str != "master") {
    bad = absl::UnavailableError(absl::StrCat(
        "redis ", Address(target->endpoint), " named master of ", url_.master_name,
        " says its role is '",
        role->type == RedisReply::Type::kArray && !role->elements.empty() ? role->elements[0].str
                                                                          : role->str,
        "'"));
  }
  if (!bad.ok()) {
    ForgetMaster(target->generation, bad);
    return bad;
  }
  (*conn)->generation = target->generation;
  (*conn)->master_epoch = target->master_epoch;
  return conn;
}

absl::StatusOr<RedisClient::Target> RedisClient::CurrentMaster(absl::Time deadline) {
  std::unique_lock<std::mutex> lock(mu_);
  // Another caller asking the sentinels is waited for, as long as one round
  // of them may take.
  const absl::Time wait_until =
      std::min(deadline, absl::Now() + options_.connect_timeout *
                                           (2 * static_cast<int>(url_.servers.size()) + 1));
  for (;;) {
    if (master_.has_value()) return Target{*master_, generation_, master_epoch_.load()};
    if (!resolving_) break;
    if (resolve_cv_.wait_until(lock, absl::ToChronoTime(wait_until)) == std::cv_status::timeout &&
        resolving_) {
      return absl::UnavailableError(
          absl::StrCat(description_, ": still asking the sentinels for the master"));
    }
  }
  const absl::Time now = absl::Now();
  if (now < last_resolve_ + options_.sentinel_retry_interval) {
    return absl::UnavailableError(absl::StrCat(
        description_, ": master unknown; the sentinels were asked ",
        absl::FormatDuration(absl::Trunc(now - last_resolve_, absl::Milliseconds(1))), " ago"));
  }
  resolving_ = true;
  last_resolve_ = now;
  const size_t first = next_sentinel_;
  lock.unlock();
  size_t answered = first;
  auto found = AskSentinels(first, deadline, &answered);
  lock.lock();
  resolving_ = false;
  resolve_cv_.notify_all();
  if (!found.ok()) {
    if (sentinel_failed_ != nullptr) sentinel_failed_->Inc();
    return found.status();
  }
  if (sentinel_ok_ != nullptr) sentinel_ok_->Inc();
  next_sentinel_ = answered;
  master_ = *found;
  if (!(*found == last_master_)) {
    const std::string before = last_master_.host.empty() ? "none" : Address(last_master_);
    last_master_ = *found;
    ++master_epoch_;
    if (master_changes_ != nullptr) master_changes_->Inc();
    lock.unlock();
    Logger("redis")->info("{} ({}): the sentinels name {} as master (before: {})", description_,
                          options_.name, Address(*found), before);
    lock.lock();
    // Forgotten again meanwhile: the caller's connection would be to a stale address.
    if (!master_.has_value()) {
      return absl::UnavailableError(absl::StrCat(description_, ": master changed meanwhile"));
    }
  }
  return Target{*master_, generation_, master_epoch_.load()};
}

absl::StatusOr<RedisEndpoint> RedisClient::AskSentinels(size_t first, absl::Time deadline,
                                                        size_t* answered) {
  std::vector<std::string> problems;
  const size_t n = url_.servers.size();
  for (size_t i = 0; i < n; ++i) {
    const size_t index = (first + i) % n;
    const RedisEndpoint& sentinel = url_.servers[index];
    const absl::Duration budget = std::min(options_.connect_timeout, deadline - absl::Now());
    if (budget <= absl::ZeroDuration()) {
      problems.push_back("deadline passed");
      break;
    }
    auto conn = Open(sentinel, url_.sentinel_password, 0, budget);
    if (!conn.ok()) {
      problems.push_back(std::string(conn.status().message()));
      continue;
    }
    auto reply = Roundtrip((*conn)->ctx, {"SENTINEL", "get-master-addr-by-name", url_.master_name});
    if (!reply.ok()) {
      problems.push_back(
          absl::StrCat("sentinel ", Address(sentinel), ": ", reply.status().message()));
      continue;
    }
    if (reply->type == RedisReply::Type::kNil) {
      problems.push_back(
          absl::StrCat("sentinel ", Address(sentinel), " does not know master ", url_.master_name));
      continue;
    }
    int port = 0;
    if (reply->type != RedisReply::Type::kArray || reply->elements.size() != 2 ||
        reply->elements[0].str.empty() || !absl::SimpleAtoi(reply->elements[1].str, &port) ||
        port <= 0 || port > 65535) {
      problems.push_back(absl::StrCat(
          "sentinel ", Address(sentinel), " answered ",
          reply->type == RedisReply::Type::kError ? reply->str : "an unexpected reply"));
      continue;
    }
    *answered = index;
    return RedisEndpoint{reply->elements[0].str, port};
  }
  return absl::UnavailableError(absl::StrCat("no sentinel named the master ", url_.master_name,
                                             ": ", absl::StrJoin(problems, "; ")));
}

void RedisClient::ForgetMaster(uint64_t generation, const absl::Status& why) {
  std::unique_lock<std::mutex> lock(mu_);
  if (!url_.sentinel || generation != generation_ || !master_.has_value()) return;
  const std::string address = Address(*master_);
  master_.reset();
  ++generation_;
  open_ -= static_cast<int>(idle_.size());
  std::vector<std::unique_ptr<Conn>> dropped = std::move(idle_);
  idle_.clear();
  lock.unlock();
  cv_.notify_all();
  Logger("redis")->warn("{} ({}): master {} dropped ({}); asking the sentinels again", description_,
                        options_.name, address, why.message());
}

RedisBreakerState RedisClient::breaker_state() const {
  std::lock_guard<std::mutex> lock(mu_);
  return state_;
}

int64_t RedisClient::breaker_trips() const {
  std::lock_guard<std::mutex> lock(mu_);
  return trips_;
}

uint64_t RedisClient::master_epoch() const { return master_epoch_.load(); }

void RedisClient::SetStateLocked(RedisBreakerState state) {
  state_ = state;
  if (state_gauge_ != nullptr) state_gauge_->Set(static_cast<double>(state));
}

absl::Status RedisClient::ShortCircuitLocked() {
  if (short_circuited_ != nullptr) short_circuited_->Inc();
  return absl::UnavailableError(
      absl::StrCat(description_, " is failing; calls are paused (breaker open)"));
}

void RedisClient::RecordFailure() {
  if (errors_ != nullptr) errors_->Inc();
  std::unique_lock<std::mutex> lock(mu_);
  if (state_ != RedisBreakerState::kClosed) return;
  if (++consecutive_failures_ < std::max(1, options_.breaker_failures)) return;
  // Trip: stop calling Redis; idle connections may lead to the same hung
  // server, so they go too.
  SetStateLocked(RedisBreakerState::kOpen);
  ++trips_;
  if (trips_counter_ != nullptr) trips_counter_->Inc();
  open_for_ = options_.breaker_open;
  open_until_ = absl::Now() + open_for_;
  open_ -= static_cast<int>(idle_.size());
  std::vector<std::unique_ptr<Conn>> dropped = std::move(idle_);
  idle_.clear();
  lock.unlock();
  cv_.notify_all();
  probe_cv_.notify_all();
  Logger("redis")->warn("{} ({}): {} failures in a row, breaker open for {}", description_,
                        options_.name, options_.breaker_failures,
                        absl::FormatDuration(options_.breaker_open));
}

void RedisClient::RecordSuccess() {
  std::lock_guard<std::mutex> lock(mu_);
  if (state_ == RedisBreakerState::kClosed) consecutive_failures_ = 0;
}

void RedisClient::ProbeLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    if (state_ != RedisBreakerState::kOpen) {
      probe_cv_.wait(lock);
      continue;
    }
    if (absl::Now() < open_until_) {
      probe_cv_.wait_until(lock, absl::ToChronoTime(open_until_));
      continue;
    }
    // One probe at a time, on this thread: callers keep failing fast.
    SetStateLocked(RedisBreakerState::kProbing);
    lock.unlock();
    const absl::Time deadline = absl::Now() + options_.connect_timeout + options_.command_timeout;
    absl::Status probe;
    auto conn = Connect(deadline);
    if (!conn.ok()) {
      probe = conn.status();
    } else {
      const absl::Duration timeout = std::max(
          absl::Milliseconds(1), std::min(options_.command_timeout, deadline - absl::Now()));
      redisSetTimeout((*conn)->ctx, TimevalOf(timeout));
      (*conn)->timeout = timeout;
      auto* r = static_cast<redisReply*>(redisCommand((*conn)->ctx, "PING"));
      if (r == nullptr) {
        probe = absl::UnavailableError(std::string("PING failed: ") + (*conn)->ctx->errstr);
      } else {
        if (r->type != REDIS_REPLY_STATUS) probe = absl::UnavailableError("PING: unexpected reply");
        freeReplyObject(r);
      }
    }
    lock.lock();
    if (probe.ok()) {
      consecutive_failures_ = 0;
      SetStateLocked(RedisBreakerState::kClosed);
      if (open_ < options_.pool_size && (*conn)->generation == generation_) {
        idle_.push_back(std::move(*conn));
        ++open_;
      }
      lock.unlock();
      Logger("redis")->info("{} ({}) answers again, breaker closed", description_, options_.name);
      cv_.notify_all();
      lock.lock();
    } else {
      if (errors_ != nullptr) errors_->Inc();
      open_for_ =
          std::min(open_for_ * 2, std::max(options_.breaker_max_open, options_.breaker_open));
      open_until_ = absl::Now() + open_for_;
      SetStateLocked(RedisBreakerState::kOpen);
    }
  }
}

absl::StatusOr<std::unique_ptr<RedisClient::Conn>> RedisClient::Acquire(absl::Time deadline) {
  std::unique_lock<std::mutex> lock(mu_);
  // A pooled connection is waited for at most a command timeout: when all of
  // them are stuck, waiting longer would only queue callers behind a hang.
  const absl::Time wait_until = std::min(deadline, absl::Now() + options_.command_timeout);
  for (;;) {
    if (state_ != RedisBreakerState::kClosed) return ShortCircuitLocked();
    if (!idle_.empty()) {
      auto conn = std::move(idle_.back());
      idle_.pop_back();
      return conn;
    }
    if (open_ < options_.pool_size) break;
    if (cv_.wait_until(lock, absl::ToChronoTime(wait_until)) == std::cv_status::timeout &&
        idle_.empty() && state_ == RedisBreakerState::kClosed) {
      if (wait_until < deadline) {
        return absl::UnavailableError("every redis connection is busy; not waiting longer");
      }
      return absl::DeadlineExceededError("deadline passed waiting for a redis connection");
    }
  }
  ++open_;
  lock.unlock();
  auto conn = Connect(deadline);
  if (!conn.ok()) {
    lock.lock();
    --open_;
    lock.unlock();
    cv_.notify_all();
    RecordFailure();
    return conn.status();
  }
  return conn;
}

void RedisClient::Release(std::unique_ptr<Conn> conn, bool broken) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (broken || conn->generation != generation_) {
      --open_;  // broken, or to a master the sentinels no longer name
    } else if (state_ != RedisBreakerState::kClosed) {
      --open_;  // opened while this call ran: do not keep it
    } else {
      idle_.push_back(std::move(conn));
    }
  }
  cv_.notify_one();
}

absl::StatusOr<RedisReply> RedisClient::Command(const std::vector<std::string>& argv,
                                                absl::Time deadline) {
  return Command(argv, deadline, nullptr);
}

absl::StatusOr<RedisReply> RedisClient::Command(const std::vector<std::string>& argv,
                                                absl::Time deadline, uint64_t* master_epoch) {
  if (argv.empty()) return absl::InvalidArgumentError("empty redis command");
  if (absl::Now() >= deadline)
    return absl::DeadlineExceededError("deadline passed before redis call");
  auto conn = Acquire(deadline);
  if (!conn.ok()) return conn.status();
  redisContext* ctx = (*conn)->ctx;
  const absl::Duration timeout = std::min(options_.command_timeout, deadline - absl::Now());
  if (timeout != (*conn)->timeout) {
    redisSetTimeout(ctx, TimevalOf(timeout));
    (*conn)->timeout = timeout;
  }
  std::vector<const char*> args;
  std::vector<size_t> lens;
  args.reserve(argv.size());
  lens.reserve(argv.size());
  for (const auto& a : argv) {
    args.push_back(a.data());
    lens.push_back(a.size());
  }
  auto* r = static_cast<redisReply*>(
      redisCommandArgv(ctx, static_cast<int>(args.size()), args.data(), lens.data()));
  if (r == nullptr) {
    const bool timed_out = ctx->err == REDIS_ERR_IO && (errno == EAGAIN || errno == EWOULDBLOCK);
    std::string why = ctx->errstr;
    const uint64_t generation = (*conn)->generation;
    Release(std::move(*conn), /*broken=*/true);
    RecordFailure();
    absl::Status status = timed_out
                              ? absl::DeadlineExceededError("redis " + argv[0] + " timed out")
                              : absl::UnavailableError("redis " + argv[0] + " failed: " + why);
    ForgetMaster(generation, status);
    return status;
  }
  RedisReply reply = Copy(r);
  freeReplyObject(r);
  if (master_epoch != nullptr) *master_epoch = (*conn)->master_epoch;
  if (url_.sentinel && reply.type == RedisReply::Type::kError &&
      absl::StartsWith(reply.str, "READONLY")) {
    // The master was demoted to a replica: the command was not applied.
    const uint64_t generation = (*conn)->generation;
    Release(std::move(*conn), /*broken=*/true);
    RecordFailure();
    absl::Status status = absl::UnavailableError(
        absl::StrCat(description_, ": the server is now a replica (", reply.str, ")"));
    ForgetMaster(generation, status);
    return status;
  }
  Release(std::move(*conn), /*broken=*/false);
  RecordSuccess();
  return reply;
}

absl::StatusOr<std::optional<std::string>> RedisClient::Get(const std::string& key,
                                                            absl::Time deadline) {
  auto reply = Command({"GET", key}, deadline);
  if (!reply.ok()) return reply.status();
  switch (reply->type) {
    case RedisReply::Type::kNil:
      return std::optional<std::string>();
    case RedisReply::Type::kString:
      return std::optional<std::string>(std::move(reply->str));
    default:
      return absl::InternalError("redis GET: unexpected reply " + reply->str);
  }
}

absl::Status RedisClient::Set(const std::string& key, const std::string& value, absl::Duration ttl,
                              absl::Time deadline) {
  auto reply = Command({"SET", key, value, "PX",
                        std::to_string(std::max<int64_t>(1, absl::ToInt64Milliseconds(ttl)))},
                       deadline);
  if (!reply.ok()) return reply.status();
  if (reply->type != RedisReply::Type::kStatus) {
    return absl::InternalError("redis SET: unexpected reply " + reply->str);
  }
  return absl::OkStatus();
}

absl::Status RedisClient::Del(const std::vector<std::string>& keys, absl::Time deadline) {
  std::vector<std::string> argv{"DEL"};
  argv.insert(argv.end(), keys.begin(), keys.end());
  auto reply = Command(argv, deadline);
  if (!reply.ok()) return reply.status();
  if (reply->type != RedisReply::Type::kInteger) {
    return absl::InternalError("redis DEL: unexpected reply " + reply->str);
  }
  return absl::OkStatus();
}

absl::Status RedisClient::Ping(absl::Time deadline) {
  auto reply = Command({"PING"}, deadline);
  if (!reply.ok()) return reply.status();
  if (reply->type != RedisReply::Type::kStatus) {
    return absl::UnavailableError("redis PING: unexpected reply " + reply->str);
  }
  return absl::OkStatus();
}

}  // namespace genesis
