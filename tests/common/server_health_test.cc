// ServiceHost liveness and readiness (common/runtime/server.h): /healthz turns 503
// only while a watched worker pool is wedged; /readyz and gRPC health stay
// ready whatever the dependency probes say, and follow readiness checks.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <condition_variable>
#include <functional>
#include <mutex>

#include <gtest/gtest.h>

#include "common/base/metrics.h"
#include "common/runtime/server.h"
#include "common/runtime/worker_pool.h"
#include "tests/testing/probes.h"

namespace genesis {
namespace {

using testing::Eventually;
using testing::HttpStatus;

TEST(ServerHealthTest, LivenessFailsOnlyWhileTheWorkerPoolIsWedged) {
  MetricsRegistry registry;
  WorkerPool pool("test", 1, 8);
  ServerOptions options;
  ServiceHost host(options, &registry);
  host.WatchWorkers(&pool, absl::Milliseconds(200));
  ASSERT_TRUE(host.Start().ok());
  EXPECT_EQ(HttpStatus(host.metrics_port(), "/healthz"), 200);

  // A busy pool with nothing waiting is alive, however long the task runs.
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  ASSERT_TRUE(pool.TrySubmit([&] {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return release; });
  }));
  ASSERT_TRUE(Eventually([&] { return pool.busy() == 1; }));
  absl::SleepFor(absl::Milliseconds(250));
  EXPECT_TRUE(host.Live().ok());
  // A task waits and no worker takes it: wedged, /healthz 503; still ready.
  ASSERT_TRUE(pool.TrySubmit([] {}));
  ASSERT_TRUE(Eventually([&] { return !host.Live().ok(); }));
  EXPECT_EQ(HttpStatus(host.metrics_port(), "/healthz"), 503);
  EXPECT_EQ(HttpStatus(host.metrics_port(), "/readyz"), 200);
  {
    std::lock_guard<std::mutex> lock(mu);
    release = true;
  }
  cv.notify_all();
  ASSERT_TRUE(Eventually([&] { return host.Live().ok(); }));
  EXPECT_EQ(HttpStatus(host.metrics_port(), "/healthz"), 200);
  host.Shutdown();
  pool.Shutdown();
}

TEST(ServerHealthTest, AFailingDependencyDoesNotMakeTheServiceUnready) {
  MetricsRegistry registry;
  ServerOptions options;
  options.readiness_period = absl::Milliseconds(10);
  ServiceHost host(options, &registry);
  std::atomic<bool> db_up{false};
  host.AddDependencyProbe("postgres", [&] {
    return db_up ? absl::OkStatus() : absl::UnavailableError("connection refused");
  });
  ASSERT_TRUE(host.Start().ok());
  EXPECT_TRUE(host.ready());
  EXPECT_EQ(HttpStatus(host.metrics_port(), "/readyz"), 200);
  EXPECT_NE(registry.Render().find("genesis_dependency_up{dependency=\"postgres\"} 0"),
            std::string::npos);
  db_up = true;
  ASSERT_TRUE(Eventually([&] {
    return registry.Render().find("genesis_dependency_up{dependency=\"postgres\"} 1") !=
           std::string::npos;
  }));
  host.Shutdown();
  EXPECT_FALSE(host.ready());
}

// The service runtime's "no writable PostgreSQL primary" is such a check.
TEST(ServerHealthTest, AFailingReadinessCheckMakesTheServiceUnreadyButNotDead) {
  MetricsRegistry registry;
  ServerOptions options;
  options.readiness_check_period = absl::Milliseconds(10);
  ServiceHost host(options, &registry);
  std::atomic<bool> primary{true};
  host.AddReadinessCheck("postgres-primary", [&] {
    return primary ? absl::OkStatus() : absl::UnavailableError("no writable primary");
  });
  ASSERT_TRUE(host.Start().ok());
  EXPECT_TRUE(host.ready());
  EXPECT_EQ(HttpStatus(host.metrics_port(), "/readyz"), 200);
  primary = false;
  ASSERT_TRUE(Eventually([&] { return !host.ready(); }));
  EXPECT_EQ(HttpStatus(host.metrics_port(), "/readyz"), 503);
  EXPECT_EQ(HttpStatus(host.metrics_port(), "/healthz"), 200);
  EXPECT_NE(registry.Render().find("genesis_ready 0"), std::string::npos);
  primary = true;
  ASSERT_TRUE(Eventually([&] { return host.ready(); }));
  EXPECT_EQ(HttpStatus(host.metrics_port(), "/readyz"), 200);
  // A shutdown wins over a passing check.
  host.Shutdown();
  EXPECT_FALSE(host.ready());
}

}  // namespace
}  // namespace genesis
