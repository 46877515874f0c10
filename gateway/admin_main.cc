// genesis-gateway-admin: dev tokens and API keys.
//   mint-token --subject S --roles a,b [--ttl 15m]   HS256 token on stdout
//   create-key --name N --roles bot [--expires 30d]  prints the key once
//   list-keys                                        id, name, roles, times, state
//   revoke-key ID
//   key-audit [--limit 50]                           who created / revoked which key, newest first
// create-key and revoke-key write the operator (user@host, or --actor) to the
// audit table gateway.api_key_audit in the same transaction as the change.
// The JWT flags (--jwt_hs256_secret[_file], --jwt_issuer, --jwt_audience) and
// --pg_dsn are the gateway's; every flag can be set as GENESIS_<FLAG>.
#include <gflags/gflags.h>

#include <pwd.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/runtime/config.h"
#include "common/runtime/server_flags.h"  // --pg_dsn
#include "common/storage/migrations.h"
#include "common/storage/pg_pool.h"
#include "gateway/auth/api_keys.h"
#include "gateway/auth/jwt.h"
#include "gateway/auth/security_flags.h"

DEFINE_string(subject, "", "mint-token: the sub claim.");
DEFINE_string(roles, "", "mint-token, create-key: comma-separated roles, e.g. admin or bot.");
DEFINE_string(ttl, "15m", "mint-token: lifetime (e.g. 90s, 15m, 12h, 7d).");
DEFINE_string(actor, "",
              "create-key, revoke-key: who is acting, for the audit log (default: the "
              "operating-system user running the command, as user@host).");
DEFINE_int32(limit, 50, "key-audit: how many entries, newest first.");
DEFINE_string(name, "", "create-key: a name for the key (who or what uses it).");
DEFINE_string(expires, "", "create-key: lifetime (e.g. 30d); empty never expires.");

namespace {

using namespace genesis;
using namespace genesis::gateway;

// absl durations plus a "d" (days) suffix.
bool ParseLifetime(const std::string& text, absl::Duration* out) {
  int64_t days;
  if (!text.empty() && text.back() == 'd' &&
      absl::SimpleAtoi(text.substr(0, text.size() - 1), &days)) {
    *out = absl::Hours(24 * days);
  } else if (!absl::ParseDuration(text, out)) {
    return false;
  }
  return *out > absl::ZeroDuration();
}

std::vector<std::string> Roles() {
  return absl::StrSplit(FLAGS_roles, ',', absl::SkipWhitespace());
}

int Fail(const std::string& message) {
  std::fprintf(stderr, "genesis-gateway-admin: %s\n", message.c_str());
  return 2;
}

std::string Format(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

// user@host of whoever runs this (or --actor).
std::string Actor() {
  if (!FLAGS_actor.empty()) return FLAGS_actor;
  const passwd* pw = ::getpwuid(::geteuid());
  char host[256] = {};
  if (::gethostname(host, sizeof(host) - 1) != 0) host[0] = '\0';
  return std::string(pw != nullptr ? pw->pw_name : std::to_string(::geteuid())) + "@" + host;
}

int MintToken() {
  ConfigErrors errors;
  std::string secret = Hs256SecretFromFlags(&errors);
  errors.RequireNonEmpty("jwt_hs256_secret", secret);
  errors.RequireNonEmpty("subject", FLAGS_subject);
  absl::Duration ttl;
  if (!ParseLifetime(FLAGS_ttl, &ttl)) errors.Add("ttl", "want a duration such as 15m or 7d");
  errors.ExitIfAny();
  auto payload = DevTokenPayload(FLAGS_subject, Roles(), ttl, absl::Now(), FLAGS_jwt_issuer,
                                 FLAGS_jwt_audience);
  std::printf("%s\n", SignHs256(payload, secret).c_str());
  return 0;
}

int WithStore(const std::function<int(ApiKeyStore*)>& fn) {
  ConfigErrors errors;
  errors.RequireNonEmpty("pg_dsn", FLAGS_pg_dsn);
  errors.ExitIfAny();
  if (auto st = ApplyMigrations(FLAGS_pg_dsn, "gateway", GatewayMigrations()); !st.ok()) {
    return Fail("migrating schema gateway: " + std::string(st.message()));
  }
  PgPoolOptions options;
  options.dsn = FLAGS_pg_dsn;
  options.size = 1;
  options.name = "gateway-admin";
  PgPool pool(options, nullptr);
  PgApiKeyStore store(&pool);
  return fn(&store);
}

int CreateKey(ApiKeyStore* store) {
  ConfigErrors errors;
  errors.RequireNonEmpty("name", FLAGS_name);
  errors.RequireNonEmpty("roles", FLAGS_roles);
  std::optional<absl::Time> expires;
  absl::Duration lifetime;
  if (!FLAGS_expires.empty()) {
    if (ParseLifetime(FLAGS_expires, &lifetime)) {
      expires = absl::Now() + lifetime;
    } else {
      errors.Add("expires", "want a duration such as 30d or 12h");
    }
  }
  errors.ExitIfAny();
  auto key = GenerateApiKey(FLAGS_name, Roles(), expires, absl::Now());
  if (auto st = store->Create(key.record, Actor(), absl::Now() + absl::Seconds(10)); !st.ok()) {
    return Fail(std::string(st.message()));
  }
  std::fprintf(stderr, "created API key %s (%s) roles=%s expires=%s; it is shown only once:\n",
               key.record.id.c_str(), FLAGS_name.c_str(), FLAGS_roles.c_str(),
               expires ? Format(*expires).c_str() : "never");
  std::printf("%s\n", key.key.c_str());
  return 0;
}

int ListKeys(ApiKeyStore* store) {
  auto keys = store->List(absl::Now() + absl::Seconds(10));
  if (!keys.ok()) return Fail(std::string(keys.status().message()));
  std::printf("%-16s  %-20s  %-16s  %-20s  %-20s  %s\n", "ID", "NAME", "ROLES", "CREATED",
              "EXPIRES", "STATE");
  const absl::Time now = absl::Now();
  for (const auto& k : *keys) {
    const char* state = k.revoke_time                              ? "revoked"
                        : (k.expire_time && now >= *k.expire_time) ? "expired"
                                                                   : "active";
    std::printf("%-16s  %-20s  %-16s  %-20s  %-20s  %s\n", k.id.c_str(), k.name.c_str(),
                absl::StrJoin(k.roles, ",").c_str(), Format(k.create_time).c_str(),
                k.expire_time ? Format(*k.expire_time).c_str() : "never", state);
  }
  return 0;
}

int KeyAudit(ApiKeyStore* store) {
  if (FLAGS_limit < 1 || FLAGS_limit > 100000) return Fail("--limit: want 1 to 100000");
  auto entries = store->ListAudit(FLAGS_limit, absl::Now() + absl::Seconds(10));
  if (!entries.ok()) return Fail(std::string(entries.status().message()));
  std::printf("%-20s  %-24s  %-7s  %-16s  %-20s  %s\n", "TIME", "ACTOR", "ACTION", "ID", "NAME",
              "ROLES");
  for (const auto& e : *entries) {
    std::printf("%-20s  %-24s  %-7s  %-16s  %-20s  %s\n", Format(e.time).c_str(), e.actor.c_str(),
                e.action.c_str(), e.key_id.c_str(), e.name.c_str(),
                absl::StrJoin(e.roles, ",").c_str());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  ParseFlagsWithEnv(&argc, &argv,
                    "genesis-gateway-admin <command> [flags]\n"
                    "  mint-token --subject S --roles a,b [--ttl 15m]\n"
                    "  create-key --name N --roles bot [--expires 30d]\n"
                    "  list-keys\n"
                    "  revoke-key ID\n"
                    "  key-audit [--limit 50]\n"
                    "JWT flags and --pg_dsn as for genesis-gateway (GENESIS_<FLAG> works).");
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) return Fail("a command is required (see --help)");
  const std::string& cmd = args[0];
  if (cmd == "mint-token" && args.size() == 1) return MintToken();
  if (cmd == "create-key" && args.size() == 1) return WithStore(CreateKey);
  if (cmd == "list-keys" && args.size() == 1) return WithStore(ListKeys);
  if (cmd == "key-audit" && args.size() == 1) return WithStore(KeyAudit);
  if (cmd == "revoke-key" && args.size() == 2) {
    return WithStore([&](ApiKeyStore* store) {
      if (auto st = store->Revoke(args[1], Actor(), absl::Now() + absl::Seconds(10)); !st.ok()) {
        return Fail(std::string(st.message()));
      }
      std::fprintf(stderr, "revoked API key %s\n", args[1].c_str());
      return 0;
    });
  }
  return Fail("unknown command or wrong arguments: " + absl::StrJoin(args, " "));
}
