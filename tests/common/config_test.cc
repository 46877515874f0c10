#include "common/runtime/config.h"

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

}  // namespace
}  // namespace genesis
