#include "gateway/auth/api_keys.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gateway/auth/jwt.h"

namespace genesis::gateway {
namespace {

constexpr char kPrefix[] = "gk_";
constexpr size_t kIdLength = 16;

constexpr char kColumns[] =
    "id, name, roles, secret_sha256, (extract(epoch from create_time) * 1000000)::bigint, "
    "(extract(epoch from expire_time) * 1000000)::bigint, "
    "(extract(epoch from revoke_time) * 1000000)::bigint";

std::string RandomBytes(size_t n) {
  std::string out(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    std::abort();  // no entropy: never hand out a guessable key
  }
  return out;
}

std::optional<absl::Time> OptionalMicros(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  return absl::FromUnixMicros(f.as<int64_t>());
}

ApiKeyRecord FromRow(const pqxx::row& row) {
  ApiKeyRecord r;
  r.id = row[0].as<std::string>();
  r.name = row[1].as<std::string>();
  r.roles = absl::StrSplit(row[2].as<std::string>(), ',', absl::SkipEmpty());
  r.secret_sha256 = row[3].as<std::string>();
  r.create_time = absl::FromUnixMicros(row[4].as<int64_t>());
  r.expire_time = OptionalMicros(row[5]);
  r.revoke_time = OptionalMicros(row[6]);
  return r;
}

std::optional<int64_t> Micros(const std::optional<absl::Time>& t) {
  if (!t) return std::nullopt;
  return absl::ToUnixMicros(*t);
}

}  // namespace

std::string Sha256Hex(absl::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(), nullptr);
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<char*>(digest), len));
}

NewApiKey GenerateApiKey(const std::string& name, std::vector<std::string> roles,
                         std::optional<absl::Time> expire_time, absl::Time now) {
  NewApiKey out;
  out.record.id = absl::BytesToHexString(RandomBytes(kIdLength / 2));
  std::string secret = Base64UrlEncode(RandomBytes(32));
  out.record.name = name;
  out.record.roles = std::move(roles);
  out.record.secret_sha256 = Sha256Hex(secret);
  out.record.create_time = now;
  out.record.expire_time = expire_time;
  out.key = absl::StrCat(kPrefix, out.record.id, "_", secret);
  return out;
}

bool LooksLikeApiKey(absl::string_view token) {
  return absl::StartsWith(token, kPrefix) && token.size() > sizeof(kPrefix) - 1 + kIdLength + 1 &&
         token[sizeof(kPrefix) - 1 + kIdLength] == '_';
}

absl::StatusOr<ApiKeyRecord> CheckApiKey(ApiKeyStore* store, absl::string_view key, absl::Time now,
                                         absl::Time deadline) {
  const absl::Status invalid = absl::UnauthenticatedError("invalid API key");
  if (!LooksLikeApiKey(key)) return invalid;
  std::string id(key.substr(sizeof(kPrefix) - 1, kIdLength));
  absl::string_view secret = key.substr(sizeof(kPrefix) - 1 + kIdLength + 1);
  auto found = store->Get(id, deadline);
  if (!found.ok()) {
    return absl::UnavailableError(
        absl::StrCat("cannot check the API key now: ", found.status().message()));
  }
  if (!found->has_value()) return invalid;
  const ApiKeyRecord& r = **found;
  std::string hash = Sha256Hex(secret);
  if (hash.size() != r.secret_sha256.size() ||
      CRYPTO_memcmp(hash.data(), r.secret_sha256.data(), hash.size()) != 0) {
    return invalid;
  }
  if (r.revoke_time.has_value()) return invalid;
  if (r.expire_time.has_value() && now >= *r.expire_time) return invalid;
  return r;
}

namespace {

void WriteAudit(pqxx::work& tx, const std::string& actor, const char* action,
                const std::string& key_id, const std::string& name, const std::string& roles) {
  tx.exec_params(
      "INSERT INTO gateway.api_key_audit (actor, action, key_id, name, roles) "
      "VALUES ($1, $2, $3, $4, $5)",
      actor, std::string(action), key_id, name, roles);
}

}  // namespace

absl::Status PgApiKeyStore::Create(const ApiKeyRecord& r, const std::string& actor,
                                   absl::Time deadline) {
  return pool_->Transaction(deadline, [&](pqxx::work& tx) -> absl::Status {
    auto res = tx.exec_params(
        "INSERT INTO gateway.api_keys (id, name, roles, secret_sha256, create_time, expire_time) "
        "VALUES ($1, $2, $3, $4, to_timestamp($5::double precision / 1e6), "
        "to_timestamp($6::double precision / 1e6)) ON CONFLICT (id) DO NOTHING",
        r.id, r.name, absl::StrJoin(r.roles, ","), r.secret_sha256,
        absl::ToUnixMicros(r.create_time), Micros(r.expire_time));
    if (res.affected_rows() == 0)
      return absl::AlreadyExistsError(absl::StrCat("API key ", r.id, " exists"));
    WriteAudit(tx, actor, "create", r.id, r.name, absl::StrJoin(r.roles, ","));
    return absl::OkStatus();
  });
}

absl::StatusOr<std::optional<ApiKeyRecord>> PgApiKeyStore::Get(const std::string& id,
                                                               absl::Time deadline) {
  return pool_->ReadOnly(
      deadline, [&](pqxx::read_transaction& tx) -> absl::StatusOr<std::optional<ApiKeyRecord>> {
        auto res = tx.exec_params(
            absl::StrCat("SELECT ", kColumns, " FROM gateway.api_keys WHERE id = $1"), id);
        if (res.empty()) return std::optional<ApiKeyRecord>();
        return std::optional<ApiKeyRecord>(FromRow(res[0]));
      });
}

absl::StatusOr<std::vector<ApiKeyRecord>> PgApiKeyStore::List(absl::Time deadline) {
  return pool_->ReadOnly(
      deadline, [&](pqxx::read_transaction& tx) -> absl::StatusOr<std::vector<ApiKeyRecord>> {
        std::vector<ApiKeyRecord> out;
        for (const auto& row : tx.exec(absl::StrCat(
                 "SELECT ", kColumns, " FROM gateway.api_keys ORDER BY create_time, id"))) {
          out.push_back(FromRow(row));
        }
        return out;
      });
}

absl::Status PgApiKeyStore::Revoke(const std::string& id, const std::string& actor,
                                   absl::Time deadline) {
  return pool_->Transaction(deadline, [&](pqxx::work& tx) -> absl::Status {
    auto res = tx.exec_params(
        "UPDATE gateway.api_keys SET revoke_time = coalesce(revoke_time, now()) WHERE id = $1 "
        "RETURNING name, roles",
        id);
    if (res.empty()) return absl::NotFoundError(absl::StrCat("no API key with id ", id));
    WriteAudit(tx, actor, "revoke", id, res[0][0].as<std::string>(), res[0][1].as<std::string>());
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<ApiKeyAuditEntry>> PgApiKeyStore::ListAudit(int limit,
                                                                       absl::Time deadline) {
  return pool_->ReadOnly(
      deadline, [&](pqxx::read_transaction& tx) -> absl::StatusOr<std::vector<ApiKeyAuditEntry>> {
        std::vector<ApiKeyAuditEntry> out;
        for (const auto& row : tx.exec_params(
                 "SELECT (extract(epoch from time) * 1000000)::bigint, actor, action, key_id, "
                 "name, roles FROM gateway.api_key_audit ORDER BY id DESC LIMIT $1",
                 limit)) {
          ApiKeyAuditEntry e;
          e.time = absl::FromUnixMicros(row[0].as<int64_t>());
          e.actor = row[1].as<std::string>();
          e.action = row[2].as<std::string>();
          e.key_id = row[3].as<std::string>();
          e.name = row[4].as<std::string>();
          e.roles = absl::StrSplit(row[5].as<std::string>(), ',', absl::SkipEmpty());
          out.push_back(std::move(e));
        }
        return out;
      });
}

}  // namespace genesis::gateway
