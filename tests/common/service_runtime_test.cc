// ServiceRuntime end to end in one process: flags -> Init -> Serve until
// SIGTERM -> drain (loops stopped, then the stop steps in order). Flags are
// parsed once per process, so this binary has one test.
#include "common/runtime/service_runtime.h"

#include <signal.h>

#include <atomic>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "absl/time/clock.h"

namespace genesis {
namespace {

TEST(ServiceRuntimeTest, ServesUntilSigtermThenStopsLoopsAndRunsStopStepsInOrder) {
  std::vector<std::string> args = {"genesis-runtime-test", "--pg_dsn=postgresql://127.0.0.1:1/x",
                                   "--migrate=false",      "--grpc_port=0",
                                   "--metrics_port=-1",    "--log_level=warn"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  int argc = static_cast<int>(argv.size());
  char** argvp = argv.data();
  ServiceRuntime rt({.name = "runtime_test", .description = "test"}, &argc, &argvp);
  EXPECT_EQ(rt.program(), "genesis-runtime-test");
  ASSERT_FALSE(rt.Init().has_value());
  EXPECT_EQ(rt.redis(), nullptr);  // the spec uses no Redis

  std::atomic<int> steps{0};
  rt.AddLoop("runtime_test.loop", 1, absl::Hours(1), [&]() -> absl::StatusOr<int> {
    ++steps;
    return 0;
  });
  std::vector<std::string> order;
  rt.OnStop([&] { order.push_back("first"); });
  rt.OnStop([&] { order.push_back("second"); });

  // A SIGTERM before Serve() installs its handlers is dropped by this one, so
  // the test sends it until serving ends.
  struct sigaction ignore {};
  ignore.sa_handler = [](int) {};
  sigaction(SIGTERM, &ignore, nullptr);
  std::atomic<int> code{-1};
  std::atomic<bool> served{false};
  std::thread serve([&] {
    code = rt.Serve();
    served = true;
  });
  // The loop takes its first step as serving begins.
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (steps.load() == 0 && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(5));
  EXPECT_EQ(steps.load(), 1);
  while (!served.load() && absl::Now() < deadline) {
    ASSERT_EQ(kill(getpid(), SIGTERM), 0);
    absl::SleepFor(absl::Milliseconds(20));
  }
  serve.join();
  EXPECT_EQ(code.load(), 0);
  EXPECT_EQ(order, (std::vector<std::string>{"first", "second"}));
  EXPECT_EQ(steps.load(), 1);  // stopped, not run again
}

}  // namespace
}  // namespace genesis
