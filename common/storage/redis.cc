#include "common/storage/redis.h"

#include <sys/time.h>

#include <algorithm>

#include <hiredis/hiredis.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
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

}  // namespace

struct RedisClient::Conn {
  redisContext* ctx = nullptr;
  // The socket timeout last set; setting it costs two syscalls, so it is
  // only changed when a call needs a different one.
  absl::Duration timeout = absl::ZeroDuration();
  ~Conn() {
    if (ctx != nullptr) redisFree(ctx);
  }
};

absl::StatusOr<std::unique_ptr<RedisClient>> RedisClient::Create(RedisOptions options,
                                                                 MetricsRegistry* registry) {
  absl::string_view rest = options.url;
  if (!absl::ConsumePrefix(&rest, "redis://")) {
    return absl::InvalidArgumentError("redis url must start with redis://, got '" + options.url +
                                      "'");
  }
  std::string password;
  if (auto at = rest.rfind('@'); at != absl::string_view::npos) {
    absl::string_view userinfo = rest.substr(0, at);
    rest.remove_prefix(at + 1);
    if (auto colon = userinfo.find(':'); colon != absl::string_view::npos) {
      password = std::string(userinfo.substr(colon + 1));
    } else {
      password = std::string(userinfo);
    }
  }
  int db = 0;
  if (auto slash = rest.find('/'); slash != absl::string_view::npos) {
    absl::string_view db_text = rest.substr(slash + 1);
    rest = rest.substr(0, slash);
    if (!db_text.empty() && !absl::SimpleAtoi(db_text, &db)) {
      return absl::InvalidArgumentError("redis url database must be a number: '" + options.url +
                                        "'");
    }
  }
  std::string host(rest);
  int port = 6379;
  if (auto colon = rest.rfind(':'); colon != absl::string_view::npos) {
    host = std::string(rest.substr(0, colon));
    if (!absl::SimpleAtoi(rest.substr(colon + 1), &port) || port <= 0 || port > 65535) {
      return absl::InvalidArgumentError("redis url port is invalid: '" + options.url + "'");
    }
  }
  if (host.empty())
    return absl::InvalidArgumentError("redis url has no host: '" + options.url + "'");
  auto client = std::unique_ptr<RedisClient>(
      new RedisClient(std::move(options), host, port, std::move(password), db));
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
  }
  return client;
}

RedisClient::RedisClient(RedisOptions options, std::string host, int port, std::string password,
                         int db)
    : options_(std::move(options)),
      host_(std::move(host)),
      port_(port),
      password_(std::move(password)),
      db_(db),
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

absl::StatusOr<std::unique_ptr<RedisClient::Conn>> RedisClient::Connect(absl::Time deadline) {
  auto conn = std::make_unique<Conn>();
  const absl::Duration budget = std::min(options_.connect_timeout, deadline - absl::Now());
  conn->ctx = redisConnectWithTimeout(host_.c_str(), port_, TimevalOf(budget));
  if (conn->ctx == nullptr || conn->ctx->err != 0) {
    std::string why = conn->ctx != nullptr ? conn->ctx->errstr : "out of memory";
    return absl::UnavailableError(absl::StrCat("redis ", host_, ":", port_, " unreachable: ", why));
  }
  auto setup = [&](std::vector<std::string> argv) -> absl::Status {
    std::vector<const char*> args;
    std::vector<size_t> lens;
    for (const auto& a : argv) {
      args.push_back(a.data());
      lens.push_back(a.size());
    }
    auto* r = static_cast<redisReply*>(
        redisCommandArgv(conn->ctx, static_cast<int>(args.size()), args.data(), lens.data()));
    if (r == nullptr) return absl::UnavailableError(std::string("redis: ") + conn->ctx->errstr);
    bool error = r->type == REDIS_REPLY_ERROR;
    std::string msg = error ? std::string(r->str, r->len) : "";
    freeReplyObject(r);
    if (error) return absl::PermissionDeniedError("redis " + argv[0] + " refused: " + msg);
    return absl::OkStatus();
  };
  redisSetTimeout(conn->ctx, TimevalOf(budget));
  conn->timeout = budget;
  if (!password_.empty()) {
    if (auto st = setup({"AUTH", password_}); !st.ok()) return st;
  }
  if (db_ != 0) {
    if (auto st = setup({"SELECT", std::to_string(db_)}); !st.ok()) return st;
  }
  return conn;
}

RedisBreakerState RedisClient::breaker_state() const {
  std::lock_guard<std::mutex> lock(mu_);
  return state_;
}

int64_t RedisClient::breaker_trips() const {
  std::lock_guard<std::mutex> lock(mu_);
  return trips_;
}

void RedisClient::SetStateLocked(RedisBreakerState state) {
  state_ = state;
  if (state_gauge_ != nullptr) state_gauge_->Set(static_cast<double>(state));
}

absl::Status RedisClient::ShortCircuitLocked() {
  if (short_circuited_ != nullptr) short_circuited_->Inc();
  return absl::UnavailableError(
      absl::StrCat("redis ", host_, ":", port_, " is failing; calls are paused (breaker open)"));
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
  Logger("redis")->warn("redis {}:{} ({}): {} failures in a row, breaker open for {}", host_, port_,
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
      if (open_ < options_.pool_size) {
        idle_.push_back(std::move(*conn));
        ++open_;
      }
      lock.unlock();
      Logger("redis")->info("redis {}:{} ({}) answers again, breaker closed", host_, port_,
                            options_.name);
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
    if (broken) {
      --open_;
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
    Release(std::move(*conn), /*broken=*/true);
    RecordFailure();
    if (timed_out) return absl::DeadlineExceededError("redis " + argv[0] + " timed out");
    return absl::UnavailableError("redis " + argv[0] + " failed: " + why);
  }
  RedisReply reply = Copy(r);
  freeReplyObject(r);
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
