// Test helpers for tests that need the real PostgreSQL and Redis that
// scripts/test.sh starts (GENESIS_TEST_PG_DSN, GENESIS_TEST_REDIS_URL).
#pragma once

#include <memory>
#include <optional>
#include <string>

namespace genesis::testing {

// A fresh, uniquely named database on the test server, dropped on
// destruction. Tests call GTEST_SKIP() when the server is not configured
// (pg tests are labelled `pg` and run by scripts/test.sh, which sets it).
class TestDatabase {
 public:
  // Null when GENESIS_TEST_PG_DSN is unset.
  static std::unique_ptr<TestDatabase> Create();
  ~TestDatabase();
  TestDatabase(const TestDatabase&) = delete;
  TestDatabase& operator=(const TestDatabase&) = delete;

  // libpq URI of the fresh database.
  [[nodiscard]] const std::string& dsn() const { return dsn_; }

 private:
  TestDatabase(std::string admin_dsn, std::string name, std::string dsn);
  std::string admin_dsn_, name_, dsn_;
};

// GENESIS_TEST_REDIS_URL, or nullopt.
std::optional<std::string> TestRedisUrl();

}  // namespace genesis::testing
