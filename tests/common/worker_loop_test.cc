#include "common/runtime/worker_loop.h"

#include <atomic>
#include <thread>

#include <gtest/gtest.h>

#include "absl/time/clock.h"

namespace genesis {
namespace {

// Polls `done` until it holds or 10 s pass.
bool Eventually(const std::function<bool()>& done) {
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (absl::Now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return done();
}

TEST(WorkerLoopTest, TakesTheFirstStepAtOnceByDefault) {
  std::atomic<int> steps{0};
  WorkerLoop loop("test.loop", 1, absl::Hours(1), [&]() -> absl::StatusOr<int> {
    ++steps;
    return 0;
  });
  loop.Start();
  EXPECT_TRUE(Eventually([&] { return steps.load() == 1; }));
  loop.Stop();
  EXPECT_EQ(steps.load(), 1);  // then idle for the hour
}

TEST(WorkerLoopTest, StartDelayWaitsBeforeTheFirstStepUnlessNotified) {
  std::atomic<int> steps{0};
  WorkerLoop loop("test.loop", 1, absl::Hours(1), [&]() -> absl::StatusOr<int> {
    ++steps;
    return 0;
  });
  loop.set_start_delay(absl::Hours(1));
  loop.Start();
  loop.Notify();
  EXPECT_TRUE(Eventually([&] { return steps.load() == 1; }));
  loop.Stop();
}

TEST(WorkerLoopTest, StopDuringTheStartDelayTakesNoStep) {
  std::atomic<int> steps{0};
  WorkerLoop loop("test.loop", 2, absl::Hours(1), [&]() -> absl::StatusOr<int> {
    ++steps;
    return 0;
  });
  loop.set_start_delay(absl::Hours(1));
  loop.Start();
  loop.Stop();  // returns at once, not after the hour
  EXPECT_EQ(steps.load(), 0);
}

}  // namespace
}  // namespace genesis
