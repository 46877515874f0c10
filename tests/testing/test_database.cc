#include "tests/testing/test_database.h"

#include <cstdlib>
#include <random>

#include <pqxx/pqxx>

#include "absl/strings/str_format.h"

namespace genesis::testing {
namespace {

// Replaces the database name (the path) of a libpq URI.
std::string WithDatabase(const std::string& uri, const std::string& db) {
  auto scheme = uri.find("://");
  auto slash = uri.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  auto query = uri.find('?');
  std::string base = slash == std::string::npos ? uri.substr(0, query) : uri.substr(0, slash);
  std::string tail = query == std::string::npos ? "" : uri.substr(query);
  return base + "/" + db + tail;
}

}  // namespace

std::unique_ptr<TestDatabase> TestDatabase::Create() {
  const char* admin = std::getenv("GENESIS_TEST_PG_DSN");
  if (admin == nullptr || *admin == '\0') return nullptr;
  std::random_device rd;
  const std::string name = absl::StrFormat("test_%08x%08x", rd(), rd());
  pqxx::connection conn(admin);
  pqxx::nontransaction tx(conn);
  tx.exec0("CREATE DATABASE " + name);
  return std::unique_ptr<TestDatabase>(new TestDatabase(admin, name, WithDatabase(admin, name)));
}

TestDatabase::TestDatabase(std::string admin_dsn, std::string name, std::string dsn)
    : admin_dsn_(std::move(admin_dsn)), name_(std::move(name)), dsn_(std::move(dsn)) {}

TestDatabase::~TestDatabase() {
  if (name_.empty()) return;
  try {
    pqxx::connection conn(admin_dsn_);
    pqxx::nontransaction tx(conn);
    tx.exec0("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
  } catch (const std::exception&) {
    // Best effort: the test server is thrown away after the run anyway.
  }
}

std::optional<std::string> TestRedisUrl() {
  const char* url = std::getenv("GENESIS_TEST_REDIS_URL");
  if (url == nullptr || *url == '\0') return std::nullopt;
  return std::string(url);
}

}  // namespace genesis::testing
