// A process that does not migrate checks its schema against its code
// (migrations.h CheckSchemaCurrent, service_config.h SchemaGateForMain) on a
// real PostgreSQL: older keeps the ServiceHost unready (gRPC health
// NOT_SERVING, /readyz 503) with one log line until migrations are applied
// elsewhere; current and newer serve.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/ringbuffer_sink.h>

#include <algorithm>
#include <functional>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/base/metrics.h"
#include "common/runtime/server.h"
#include "common/runtime/service_config.h"
#include "common/storage/migrations.h"
#include "common/storage/pg_pool.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "tests/testing/probes.h"
#include "tests/testing/test_database.h"

namespace genesis {
namespace {

using grpc::health::v1::HealthCheckResponse;

const std::vector<Migration> kV1 = {{1, "0001_init.sql", "CREATE TABLE things (id int);"}};
const std::vector<Migration> kV2 = {{1, "0001_init.sql", "CREATE TABLE things (id int);"},
                                    {2, "0002_more.sql", "ALTER TABLE things ADD note text;"}};
const std::vector<Migration> kV3 = {{1, "0001_init.sql", "CREATE TABLE things (id int);"},
                                    {2, "0002_more.sql", "ALTER TABLE things ADD note text;"},
                                    {3, "0003_even_more.sql", "ALTER TABLE things ADD n int;"}};

using testing::Eventually;
using testing::HttpStatus;

class SchemaReadinessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = testing::TestDatabase::Create();
    if (db_ == nullptr) GTEST_SKIP() << "GENESIS_TEST_PG_DSN not set";
    PgPoolOptions options;
    options.dsn = db_->dsn();
    options.size = 2;
    pool_ = std::make_unique<PgPool>(options, &registry_);
  }

  // The whole server's gRPC health, as a load balancer asks it.
  HealthCheckResponse::ServingStatus Health(int port) {
    auto stub = grpc::health::v1::Health::NewStub(
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()));
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
    grpc::health::v1::HealthCheckRequest req;
    HealthCheckResponse resp;
    if (!stub->Check(&ctx, req, &resp).ok()) return HealthCheckResponse::UNKNOWN;
    return resp.status();
  }

  MetricsRegistry registry_;
  std::unique_ptr<testing::TestDatabase> db_;
  std::unique_ptr<PgPool> pool_;
};

TEST_F(SchemaReadinessTest, VersionIsTheHighestAppliedMigration) {
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  auto missing = SchemaVersion(*pool_, "alpha", deadline);
  ASSERT_TRUE(missing.ok()) << missing.status();
  EXPECT_EQ(*missing, 0);  // no schema yet
  ASSERT_TRUE(ApplyMigrations(db_->dsn(), "alpha", kV2).ok());
  auto at = SchemaVersion(*pool_, "alpha", deadline);
  ASSERT_TRUE(at.ok()) << at.status();
  EXPECT_EQ(*at, 2);
  EXPECT_EQ(LatestMigrationVersion(kV3), 3);
  EXPECT_EQ(LatestMigrationVersion({}), 0);
}

TEST_F(SchemaReadinessTest, OlderIsRefusedCurrentAndNewerPass) {
  ASSERT_TRUE(ApplyMigrations(db_->dsn(), "beta", kV2).ok());
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  int version = -1;
  absl::Status older = CheckSchemaCurrent(*pool_, "beta", 3, deadline, &version);
  EXPECT_EQ(older.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(older.message(),
            "schema beta is at version 2, this build needs 3: not ready until migrations are "
            "applied (run with --migrate or --migrate_only)");
  EXPECT_EQ(version, 2);
  EXPECT_TRUE(CheckSchemaCurrent(*pool_, "beta", 2, deadline).ok());
  EXPECT_TRUE(CheckSchemaCurrent(*pool_, "beta", 1, deadline).ok());
}

TEST_F(SchemaReadinessTest, AnOlderSchemaKeepsTheServerUnreadyUntilMigrated) {
  ASSERT_TRUE(ApplyMigrations(db_->dsn(), "gamma", kV1).ok());
  auto sink = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(100);
  Logger("server")->sinks().push_back(sink);

  ServiceHost host(ServerOptions{}, &registry_);
  host.SetReadinessGate(SchemaGateForMain(pool_.get(), "gamma", 3), absl::Milliseconds(50));
  ASSERT_TRUE(host.Start().ok());
  auto not_ready_lines = [&] {
    int n = 0;
    for (const auto& line : sink->last_formatted()) {
      n += absl::StrContains(line,
                             "schema gamma is at version 1, this build needs 3: not ready until "
                             "migrations are applied (run with --migrate or --migrate_only)");
    }
    return n;
  };
  ASSERT_TRUE(Eventually([&] { return not_ready_lines() > 0; }));
  EXPECT_FALSE(host.ready());
  EXPECT_EQ(HttpStatus(host.metrics_port(), "/readyz"), 503);
  EXPECT_EQ(Health(host.grpc_port()), HealthCheckResponse::NOT_SERVING);

  // Another replica applies one more migration: still older.
  ASSERT_TRUE(ApplyMigrations(db_->dsn(), "gamma", kV2).ok());
  EXPECT_FALSE(host.ready());
  // Then the rest: the check, repeated, finds it current.
  ASSERT_TRUE(ApplyMigrations(db_->dsn(), "gamma", kV3).ok());
  ASSERT_TRUE(Eventually([&] { return host.ready(); }));
  EXPECT_EQ(HttpStatus(host.metrics_port(), "/readyz"), 200);
  EXPECT_EQ(Health(host.grpc_port()), HealthCheckResponse::SERVING);
  // The same failure is logged once, not at every check.
  EXPECT_EQ(not_ready_lines(), 1);
  host.Shutdown();
  auto& sinks = Logger("server")->sinks();
  sinks.erase(std::remove(sinks.begin(), sinks.end(), sink), sinks.end());
}

TEST_F(SchemaReadinessTest, ANewerSchemaServesWithAWarning) {
  ASSERT_TRUE(ApplyMigrations(db_->dsn(), "delta", kV3).ok());
  auto sink = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(100);
  Logger("delta")->sinks().push_back(sink);

  ServiceHost host(ServerOptions{}, &registry_);
  host.SetReadinessGate(SchemaGateForMain(pool_.get(), "delta", 2), absl::Milliseconds(50));
  ASSERT_TRUE(host.Start().ok());
  ASSERT_TRUE(Eventually([&] { return host.ready(); }));
  EXPECT_EQ(HttpStatus(host.metrics_port(), "/readyz"), 200);
  EXPECT_EQ(Health(host.grpc_port()), HealthCheckResponse::SERVING);
  bool warned = false;
  for (const auto& line : sink->last_formatted()) {
    warned = warned || absl::StrContains(line,
                                         "schema delta is at version 3, newer than this "
                                         "build's 2: serving");
  }
  EXPECT_TRUE(warned);
  host.Shutdown();
  auto& sinks = Logger("delta")->sinks();
  sinks.erase(std::remove(sinks.begin(), sinks.end(), sink), sinks.end());
}

TEST_F(SchemaReadinessTest, AnUnreadableSchemaIsNotReady) {
  PgPoolOptions options;
  options.dsn = "postgresql://127.0.0.1:1/nothing";
  PgPool down(options, &registry_);
  auto gate = SchemaGateForMain(&down, "epsilon", 1);
  absl::Status st = gate();
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(st.message(), "the version of schema epsilon cannot be read"))
      << st.message();
}

}  // namespace
}  // namespace genesis
