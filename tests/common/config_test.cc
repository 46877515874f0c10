#include "common/runtime/config.h"

#include "common/storage/pg_pool.h"

#include <gflags/gflags.h>
#include <gtest/gtest.h>

#include <cstdlib>

DEFINE_int32(test_port_flag, 10, "a port for the test");
DEFINE_string(test_name_flag, "x", "a name for the test");
DEFINE_int32(test_untouched_flag, 1, "set only by the death test");

namespace genesis {
namespace {

TEST(ConfigTest, EnvNameIsPrefixedUpperCase) {
  EXPECT_EQ(EnvNameForFlag("pg_dsn"), "GENESIS_PG_DSN");
}

TEST(ConfigTest, EnvironmentOverridesDefaultsButNotTheCommandLine) {
  setenv("GENESIS_TEST_PORT_FLAG", "1234", 1);
  setenv("GENESIS_TEST_NAME_FLAG", "from-env", 1);
  std::vector<std::string> args{"prog", "--test_name_flag=from-cli"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  int argc = static_cast<int>(argv.size());
  char** p = argv.data();
  ParseFlagsWithEnv(&argc, &p, "test");
  EXPECT_EQ(FLAGS_test_port_flag, 1234);
  EXPECT_EQ(FLAGS_test_name_flag, "from-cli");
  unsetenv("GENESIS_TEST_PORT_FLAG");
  unsetenv("GENESIS_TEST_NAME_FLAG");
}

TEST(ConfigTest, BadValueFromEnvironmentExitsNamingFlagAndVariable) {
  EXPECT_EXIT(
      {
        setenv("GENESIS_TEST_UNTOUCHED_FLAG", "not-a-number", 1);
        std::vector<std::string> args{"prog"};
        std::vector<char*> argv{args[0].data()};
        int argc = 1;
        char** p = argv.data();
        ParseFlagsWithEnv(&argc, &p, "test");
      },
      ::testing::ExitedWithCode(2), "--test_untouched_flag.*GENESIS_TEST_UNTOUCHED_FLAG");
}

TEST(ConfigTest, ErrorsNameEveryBadFlag) {
  ConfigErrors e;
  e.RequirePort("grpc_port", 70000);
  e.RequireNonEmpty("pg_dsn", "");
  e.RequireOneOf("log_format", "xml", {"text", "json"});
  e.RequireRange("pool", 5, 1, 10);
  absl::Status st = e.ToStatus();
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition);
  const std::string m(st.message());
  EXPECT_NE(m.find("--grpc_port (or GENESIS_GRPC_PORT)"), std::string::npos) << m;
  EXPECT_NE(m.find("--pg_dsn"), std::string::npos);
  EXPECT_NE(m.find("--log_format"), std::string::npos);
  EXPECT_EQ(m.find("--pool"), std::string::npos);
  EXPECT_EXIT(e.ExitIfAny(), ::testing::ExitedWithCode(2), "--grpc_port");
}

TEST(ConfigTest, MultiServerDsnsAreAcceptedInBothSyntaxes) {
  auto kv = ParsePgDsn(
      "host=pg-a,pg-b port=5432,5433 dbname=genesis user=genesis target_session_attrs=read-write");
  ASSERT_TRUE(kv.ok()) << kv.status();
  EXPECT_EQ(kv->hosts, 2);
  EXPECT_EQ(kv->target_session_attrs, "read-write");
  EXPECT_TRUE(PgDsnFindsThePrimary(*kv));
  auto uri = ParsePgDsn(
      "postgresql://genesis:pw@pg-a:5432,pg-b:5433,pg-c/genesis?target_session_attrs=primary");
  ASSERT_TRUE(uri.ok()) << uri.status();
  EXPECT_EQ(uri->hosts, 3);
  EXPECT_TRUE(PgDsnFindsThePrimary(*uri));
  auto one = ParsePgDsn("postgresql://genesis@pg:5432/genesis");
  ASSERT_TRUE(one.ok()) << one.status();
  EXPECT_EQ(one->hosts, 1);
  EXPECT_TRUE(PgDsnFindsThePrimary(*one));
  // Several servers, any of which may be a standby.
  auto any = ParsePgDsn("host=pg-a,pg-b dbname=genesis");
  ASSERT_TRUE(any.ok()) << any.status();
  EXPECT_FALSE(PgDsnFindsThePrimary(*any));
}

TEST(ConfigTest, ABadDsnIsRefusedWithoutRepeatingIt) {
  for (const std::string dsn :
       {"host=pg password=hunter2 dbname", "postgresql://u:hunter2@pg/db?target_session_attrs=rw",
        "host=a,b,c port=1,2 password=hunter2", "postgresql://u:hunter2@pg/db?no_such_option=1"}) {
    auto info = ParsePgDsn(dsn);
    EXPECT_EQ(info.status().code(), absl::StatusCode::kInvalidArgument) << dsn;
    EXPECT_EQ(info.status().message().find("hunter2"), absl::string_view::npos) << info.status();
  }
}

}  // namespace
}  // namespace genesis
