#include "common/storage/redis_url.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace genesis {
namespace {

constexpr absl::string_view kServerScheme = "redis://";
constexpr absl::string_view kSentinelScheme = "redis-sentinel://";
constexpr absl::string_view kSentinelPasswordParam = "?sentinel_password=";

absl::Status Invalid(absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("redis url: ", what));
}

bool ValidHost(absl::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  for (char c : host) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '_') {
      return false;
    }
  }
  return true;
}

bool ValidMasterName(absl::string_view name) {
  if (name.empty() || name.size() > 128) return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '_' &&
        c != ':') {
      return false;
    }
  }
  return true;
}

absl::StatusOr<RedisEndpoint> ParseEndpoint(absl::string_view text, int default_port,
                                            absl::string_view role) {
  if (absl::StartsWith(text, "[")) {
    return Invalid(absl::StrCat(role, " '", text, "': IPv6 literals are not supported"));
  }
  RedisEndpoint ep;
  absl::string_view host = text;
  ep.port = default_port;
  if (auto colon = text.find(':'); colon != absl::string_view::npos) {
    host = text.substr(0, colon);
    absl::string_view port = text.substr(colon + 1);
    if (!absl::SimpleAtoi(port, &ep.port) || ep.port <= 0 || ep.port > 65535) {
      return Invalid(absl::StrCat(role, " port '", port, "' of '", text, "' is not 1-65535"));
    }
  }
  if (host.empty()) return Invalid(absl::StrCat(role, " '", text, "' has no host"));
  if (!ValidHost(host)) {
    return Invalid(absl::StrCat(role, " host '", host,
                                "' is not a DNS name or IPv4 address (IPv6 literals are not "
                                "supported)"));
  }
  ep.host = std::string(host);
  return ep;
}

absl::Status ParseDb(absl::string_view text, int* db) {
  if (text.empty()) return absl::OkStatus();
  if (!absl::SimpleAtoi(text, db) || *db < 0) {
    return Invalid(absl::StrCat("database '", text, "' is not a number >= 0"));
  }
  return absl::OkStatus();
}

}  // namespace

std::string RedisUrl::Describe() const {
  if (!sentinel) {
    return servers.empty() ? "redis"
                           : absl::StrCat("redis ", servers[0].host, ":", servers[0].port);
  }
  return absl::StrCat("redis master ", master_name, " (sentinels ",
                      absl::StrJoin(servers, ",",
                                    [](std::string* out, const RedisEndpoint& ep) {
                                      absl::StrAppend(out, ep.host, ":", ep.port);
                                    }),
                      ")");
}

absl::StatusOr<RedisUrl> ParseRedisUrl(absl::string_view url) {
  RedisUrl out;
  absl::string_view rest = url;
  if (absl::ConsumePrefix(&rest, kSentinelScheme)) {
    out.sentinel = true;
  } else if (!absl::ConsumePrefix(&rest, kServerScheme)) {
    // The scheme alone is echoed: the rest may hold a password.
    const auto scheme_end = url.find("://");
    return Invalid(absl::StrCat(
        "must start with redis:// (one server) or redis-sentinel:// (a master found through "
        "Sentinel), got ",
        scheme_end == absl::string_view::npos
            ? "no scheme"
            : absl::StrCat("'", url.substr(0, scheme_end), "://'")));
  }
  if (out.sentinel) {
    if (auto q = rest.rfind(kSentinelPasswordParam); q != absl::string_view::npos) {
      out.sentinel_password = std::string(rest.substr(q + kSentinelPasswordParam.size()));
      rest = rest.substr(0, q);
      if (out.sentinel_password.empty()) return Invalid("sentinel_password is empty");
    }
  }
  if (auto at = rest.rfind('@'); at != absl::string_view::npos) {
    absl::string_view userinfo = rest.substr(0, at);
    rest.remove_prefix(at + 1);
    if (auto colon = userinfo.find(':'); colon != absl::string_view::npos) {
      out.password = std::string(userinfo.substr(colon + 1));
    } else {
      out.password = std::string(userinfo);
    }
  }
  if (rest.find('?') != absl::string_view::npos) {
    return Invalid(out.sentinel ? "the only query parameter is sentinel_password"
                                : "takes no query parameters");
  }
  absl::string_view hosts = rest;
  absl::string_view path;
  if (auto slash = rest.find('/'); slash != absl::string_view::npos) {
    hosts = rest.substr(0, slash);
    path = rest.substr(slash + 1);
  }
  if (!out.sentinel) {
    if (hosts.find(',') != absl::string_view::npos) {
      return Invalid("redis:// takes one server; list sentinels with redis-sentinel://");
    }
    auto ep = ParseEndpoint(hosts, 6379, "server");
    if (!ep.ok()) return ep.status();
    out.servers.push_back(*std::move(ep));
    if (path.find('/') != absl::string_view::npos) {
      return Invalid(absl::StrCat("path '/", path, "' must be at most a database number"));
    }
    if (auto st = ParseDb(path, &out.db); !st.ok()) return st;
    return out;
  }
  if (hosts.empty()) return Invalid("redis-sentinel:// needs at least one sentinel host[:port]");
  for (absl::string_view part : absl::StrSplit(hosts, ',')) {
    auto ep = ParseEndpoint(part, 26379, "sentinel");
    if (!ep.ok()) return ep.status();
    out.servers.push_back(*std::move(ep));
  }
  std::vector<absl::string_view> segments = absl::StrSplit(path, '/');
  if (path.empty() || segments.size() > 2) {
    return Invalid(
        "redis-sentinel:// needs the master's name after the sentinels: "
        "redis-sentinel://host:port,host:port/master_name[/db]");
  }
  if (!ValidMasterName(segments[0])) {
    return Invalid(absl::StrCat("master name '", segments[0],
                                "' must be 1-128 characters of [A-Za-z0-9._:-]"));
  }
  out.master_name = std::string(segments[0]);
  if (segments.size() == 2) {
    if (segments[1].empty()) return Invalid("database after the master's name is empty");
    if (auto st = ParseDb(segments[1], &out.db); !st.ok()) return st;
  }
  return out;
}

}  // namespace genesis
