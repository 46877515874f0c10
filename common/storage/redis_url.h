// Redis URLs: one server, or a master found through Redis Sentinel.
//
//   redis://[[user]:password@]host[:port][/db]
//   redis-sentinel://[[user]:password@]host[:port][,host[:port]...]/master_name[/db]
//                    [?sentinel_password=SECRET]
//
// - host: a DNS name or an IPv4 address (no IPv6 literals); port 1-65535, default
//   6379 for a server and 26379 for a sentinel.
// - password: what the master (or the one server) is sent with AUTH; the user
//   name before the colon is ignored (AUTH takes the password alone), and
//   `password@` without a colon is read as a password too. It is taken verbatim
//   (no percent-decoding) up to the last '@'.
// - redis-sentinel: one or more sentinels separated by commas, asked in turn
//   (`SENTINEL get-master-addr-by-name master_name`); master_name is 1-128
//   characters of [A-Za-z0-9._:-].
// - db: the database number SELECTed on every connection (default 0).
// - sentinel_password: sent with AUTH to each sentinel (sentinels configured
//   with `requirepass`); everything after `?sentinel_password=` to the end of
//   the URL, verbatim. No other query parameter is accepted.
//
// Error messages never contain a password.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace genesis {

struct RedisEndpoint {
  std::string host;
  int port = 0;
  bool operator==(const RedisEndpoint& o) const { return host == o.host && port == o.port; }
};

struct RedisUrl {
  // One server (redis://) or the sentinels of a master (redis-sentinel://).
  std::vector<RedisEndpoint> servers;
  bool sentinel = false;
  std::string master_name;  // sentinel only
  std::string password;
  std::string sentinel_password;  // sentinel only
  int db = 0;

  // "redis 127.0.0.1:6379" or "redis master mymaster (sentinels a:26379,b:26379)":
  // for logs and messages, without passwords.
  [[nodiscard]] std::string Describe() const;
};

// INVALID_ARGUMENT naming the part at fault (never echoing a password).
absl::StatusOr<RedisUrl> ParseRedisUrl(absl::string_view url);

}  // namespace genesis
