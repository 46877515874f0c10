// ApplyMigrations against a real PostgreSQL: files apply once, in order, into
// their schema; an edited applied file stops the start-up.
#include "common/storage/migrations.h"

#include <gtest/gtest.h>

#include <pqxx/pqxx>

#include "tests/testing/test_database.h"

namespace genesis {
namespace {

class MigrationsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = testing::TestDatabase::Create();
    if (db_ == nullptr) GTEST_SKIP() << "GENESIS_TEST_PG_DSN not set";
  }
  std::string Query(const std::string& sql) {
    pqxx::connection conn(db_->dsn());
    pqxx::work tx(conn);
    auto row = tx.exec1(sql);
    return row[0].is_null() ? "" : row[0].as<std::string>();
  }
  std::unique_ptr<testing::TestDatabase> db_;
};

TEST_F(MigrationsTest, UnqualifiedNamesLandInTheServiceSchema) {
  int applied = 0;
  ASSERT_TRUE(ApplyMigrations(db_->dsn(), "alpha",
                              {{1, "0001_init.sql", "CREATE TABLE things (id int PRIMARY KEY);"},
                               {2, "0002_more.sql", "INSERT INTO things VALUES (7);"}},
                              &applied)
                  .ok());
  EXPECT_EQ(applied, 2);
  EXPECT_EQ(Query("SELECT to_regclass('alpha.things')::text"), "alpha.things");
  EXPECT_EQ(Query("SELECT to_regclass('public.things')::text"), "");
  EXPECT_EQ(Query("SELECT id FROM alpha.things"), "7");
  // The search path was the migration's own: the session's is untouched.
  EXPECT_EQ(Query("SHOW search_path"), "\"$user\", public");
}

TEST_F(MigrationsTest, AppliedFilesAreSkippedAndEditedOnesRefused) {
  std::vector<Migration> files = {{1, "0001_init.sql", "CREATE TABLE t (id int);"}};
  ASSERT_TRUE(ApplyMigrations(db_->dsn(), "beta", files).ok());
  int applied = -1;
  ASSERT_TRUE(ApplyMigrations(db_->dsn(), "beta", files, &applied).ok());
  EXPECT_EQ(applied, 0);
  files[0].sql = "CREATE TABLE t (id bigint);";
  absl::Status st = ApplyMigrations(db_->dsn(), "beta", files);
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(st.message().find("was edited"), std::string::npos) << st.message();
}

TEST_F(MigrationsTest, AFailingFileIsRolledBackAndNamed) {
  absl::Status st = ApplyMigrations(
      db_->dsn(), "gamma",
      {{1, "0001_init.sql", "CREATE TABLE ok (id int);"},
       {2, "0002_bad.sql", "CREATE TABLE half (id int); SELECT * FROM missing_table;"}});
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(st.message().find("0002_bad.sql"), std::string::npos) << st.message();
  EXPECT_EQ(Query("SELECT to_regclass('gamma.half')::text"), "");
  EXPECT_EQ(Query("SELECT max(version)::text FROM gamma.schema_migrations"), "1");
}

}  // namespace
}  // namespace genesis
