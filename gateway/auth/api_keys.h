// API keys for bots and agents: `gk_<id>_<secret>`, where id (16 hex chars)
// finds the record and secret (32 random bytes, base64url) is checked against
// its stored SHA-256. Keys live in the gateway's PostgreSQL schema `gateway`
// (migrations/), behind ApiKeyStore so the logic is tested without a server.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/storage/migrations.h"
#include "common/storage/pg_pool.h"

namespace genesis {
// The `gateway` schema's migrations, compiled in (CMake genesis_embed_migrations).
std::vector<Migration> GatewayMigrations();
}  // namespace genesis

namespace genesis::gateway {

struct ApiKeyRecord {
  std::string id;
  std::string name;
  std::vector<std::string> roles;
  std::string secret_sha256;  // hex
  absl::Time create_time = absl::InfinitePast();
  std::optional<absl::Time> expire_time;
  std::optional<absl::Time> revoke_time;
};

// One line of the API keys' audit log: `actor` created or revoked a key.
struct ApiKeyAuditEntry {
  absl::Time time = absl::InfinitePast();
  std::string actor;   // user@host of the operator
  std::string action;  // "create" or "revoke"
  std::string key_id;
  std::string name;
  std::vector<std::string> roles;
};

class ApiKeyStore {
 public:
  virtual ~ApiKeyStore() = default;
  // ALREADY_EXISTS when the id is taken. `actor` (who asked) is written to
  // the audit log with the change.
  virtual absl::Status Create(const ApiKeyRecord& record, const std::string& actor,
                              absl::Time deadline) = 0;
  // nullopt when there is no such key.
  virtual absl::StatusOr<std::optional<ApiKeyRecord>> Get(const std::string& id,
                                                          absl::Time deadline) = 0;
  // Every key, oldest first.
  virtual absl::StatusOr<std::vector<ApiKeyRecord>> List(absl::Time deadline) = 0;
  // Sets revoke_time (once); NOT_FOUND for an unknown id. `actor` as for Create.
  virtual absl::Status Revoke(const std::string& id, const std::string& actor,
                              absl::Time deadline) = 0;
  // The newest `limit` audit entries, newest first.
  virtual absl::StatusOr<std::vector<ApiKeyAuditEntry>> ListAudit(int limit,
                                                                  absl::Time deadline) = 0;
};

class PgApiKeyStore final : public ApiKeyStore {
 public:
  explicit PgApiKeyStore(PgPool* pool) : pool_(pool) {}
  absl::Status Create(const ApiKeyRecord& record, const std::string& actor,
                      absl::Time deadline) override;
  absl::StatusOr<std::optional<ApiKeyRecord>> Get(const std::string& id,
                                                  absl::Time deadline) override;
  absl::StatusOr<std::vector<ApiKeyRecord>> List(absl::Time deadline) override;
  absl::Status Revoke(const std::string& id, const std::string& actor,
                      absl::Time deadline) override;
  absl::StatusOr<std::vector<ApiKeyAuditEntry>> ListAudit(int limit, absl::Time deadline) override;

 private:
  PgPool* pool_;
};

// SHA-256 of `data`, lowercase hex.
std::string Sha256Hex(absl::string_view data);

// A new key: the record to store (no secret in it) and the key to show once.
struct NewApiKey {
  ApiKeyRecord record;
  std::string key;  // gk_<id>_<secret>
};
NewApiKey GenerateApiKey(const std::string& name, std::vector<std::string> roles,
                         std::optional<absl::Time> expire_time, absl::Time now);

// True for strings shaped like an API key (so a bearer token is not a JWT).
bool LooksLikeApiKey(absl::string_view token);

// The record of a valid `key` at `now`: UNAUTHENTICATED when malformed,
// unknown, wrong, revoked or expired (one message for all, so callers learn
// nothing); UNAVAILABLE when the store is down.
absl::StatusOr<ApiKeyRecord> CheckApiKey(ApiKeyStore* store, absl::string_view key, absl::Time now,
                                         absl::Time deadline);

}  // namespace genesis::gateway
