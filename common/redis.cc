#include "common/redis.h"

#include <sys/time.h>

#include <algorithm>

#include <hiredis/hiredis.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/logging.h"

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
    client->errors_ =
        &registry
             ->AddCounter("genesis_redis_errors_total",
                          "Redis calls that failed (unreachable, timeout, broken).", {"client"})
             .WithLabels({client->options_.name});
  }
  return client;
}

RedisClient::RedisClient(RedisOptions options, std::string host, int port, std::string password,
                         int db)
    : options_(std::move(options)),
      host_(std::move(host)),
      port_(port),
      password_(std::move(password)),
      db_(db) {}

RedisClient::~RedisClient() = default;

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

absl::StatusOr<std::unique_ptr<RedisClient::Conn>> RedisClient::Acquire(absl::Time deadline) {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    if (!idle_.empty()) {
      auto conn = std::move(idle_.back());
      idle_.pop_back();
      return conn;
    }
    if (absl::Now() < down_until_) {
      return absl::UnavailableError(
          absl::StrCat("redis ", host_, ":", port_, " is down (retrying in ",
                       absl::FormatDuration(down_until_ - absl::Now()), ")"));
    }
    if (open_ < options_.pool_size) break;
    if (cv_.wait_until(lock, absl::ToChronoTime(deadline)) == std::cv_status::timeout &&
        idle_.empty()) {
      return absl::DeadlineExceededError("deadline passed waiting for a redis connection");
    }
  }
  ++open_;
  lock.unlock();
  auto conn = Connect(deadline);
  lock.lock();
  if (!conn.ok()) {
    --open_;
    down_until_ = absl::Now() + backoff_;
    backoff_ = std::min(backoff_ * 2, absl::Seconds(5));
    if (errors_ != nullptr) errors_->Inc();
    cv_.notify_all();
    return conn.status();
  }
  backoff_ = absl::Milliseconds(100);
  return conn;
}

void RedisClient::Release(std::unique_ptr<Conn> conn, bool broken) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (broken) {
      --open_;
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
    const bool timeout = ctx->err == REDIS_ERR_IO && (errno == EAGAIN || errno == EWOULDBLOCK);
    std::string why = ctx->errstr;
    Release(std::move(*conn), /*broken=*/true);
    if (errors_ != nullptr) errors_->Inc();
    if (timeout) return absl::DeadlineExceededError("redis " + argv[0] + " timed out");
    return absl::UnavailableError("redis " + argv[0] + " failed: " + why);
  }
  RedisReply reply = Copy(r);
  freeReplyObject(r);
  Release(std::move(*conn), /*broken=*/false);
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
