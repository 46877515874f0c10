// What every router pg test starts from: a fresh database with the router's
// schema, a connection pool on it and a provider simulator on a free port.
// Fixtures derive from RouterPgTest and call SetUpRouterDatabase() first in
// SetUp(), returning when it skipped (no GENESIS_TEST_PG_DSN) or failed.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "common/storage/migrations.h"
#include "common/storage/pg_pool.h"
#include "services/llm_router/simulator/simulator.h"
#include "tests/testing/test_database.h"

namespace genesis {
std::vector<Migration> LlmRouterMigrations();  // generated from migrations/*.sql
}

namespace genesis::llmrouter {

class RouterPgTest : public ::testing::Test {
 protected:
  // False when the test was skipped or a step failed (the failure is recorded).
  bool SetUpRouterDatabase(int pool_size = 2) {
    db_ = ::genesis::testing::TestDatabase::Create();
    if (!db_) {
      [] { GTEST_SKIP() << "GENESIS_TEST_PG_DSN not set (scripts/test.sh sets it)"; }();
      return false;
    }
    absl::Status migrated = ApplyMigrations(db_->dsn(), "llm_router", LlmRouterMigrations());
    EXPECT_TRUE(migrated.ok()) << migrated;
    if (!migrated.ok()) return false;
    PgPoolOptions options;
    options.dsn = db_->dsn();
    options.size = pool_size;
    pool_ = std::make_unique<PgPool>(options, nullptr);
    auto s = sim::ProviderSimulator::Start("127.0.0.1", 0);
    EXPECT_TRUE(s.ok()) << s.status();
    if (!s.ok()) return false;
    sim_ = std::move(*s);
    return true;
  }

  // Every answer of `model` uses `in` + `out` tokens.
  void ScriptTokens(const std::string& model, int in, int out) {
    sim::ModelScript script;
    script.input_tokens = in;
    script.output_tokens = out;
    sim_->Script(model, script);
  }

  std::unique_ptr<::genesis::testing::TestDatabase> db_;
  std::unique_ptr<PgPool> pool_;
  std::unique_ptr<sim::ProviderSimulator> sim_;
};

}  // namespace genesis::llmrouter
