#include "common/base/metrics.h"

#include <gtest/gtest.h>

#include <thread>

#include "common/runtime/worker_pool.h"

namespace genesis {
namespace {

TEST(MetricsTest, RendersPrometheusTextFormat) {
  MetricsRegistry r;
  auto& calls = r.AddCounter("calls_total", "Calls.", {"method", "code"});
  calls.WithLabels({"Get", "OK"}).Inc();
  calls.WithLabels({"Get", "OK"}).Inc(2);
  auto& lat = r.AddHistogram("latency_seconds", "Latency.", {"method"}, {0.1, 1});
  lat.WithLabels({"Get"}).Observe(0.05);
  lat.WithLabels({"Get"}).Observe(0.5);
  lat.WithLabels({"Get"}).Observe(5);
  r.AddCallbackGauge("pool_in_use", "In use.", [] { return 3.0; });
  const std::string text = r.Render();
  EXPECT_NE(text.find("# TYPE calls_total counter\n"), std::string::npos);
  EXPECT_NE(text.find("calls_total{method=\"Get\",code=\"OK\"} 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("latency_seconds_bucket{method=\"Get\",le=\"0.1\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("latency_seconds_bucket{method=\"Get\",le=\"1\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("latency_seconds_bucket{method=\"Get\",le=\"+Inf\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("latency_seconds_count{method=\"Get\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("latency_seconds_sum{method=\"Get\"} 5.55\n"), std::string::npos) << text;
  EXPECT_NE(text.find("pool_in_use 3\n"), std::string::npos);
}

TEST(MetricsTest, LabelValuesAreEscaped) {
  MetricsRegistry r;
  r.AddCounter("c", "h", {"l"}).WithLabels({"a\"b\\c\nd"}).Inc();
  EXPECT_NE(r.Render().find(R"(c{l="a\"b\\c\nd"} 1)"), std::string::npos);
}

TEST(MetricsTest, CountersAreThreadSafe) {
  MetricsRegistry r;
  auto& c = r.AddCounter("n", "h").WithLabels({});
  std::vector<std::thread> ts;
  for (int i = 0; i < 4; ++i)
    ts.emplace_back([&] {
      for (int j = 0; j < 10000; ++j) c.Inc();
    });
  for (auto& t : ts) t.join();
  EXPECT_EQ(c.Value(), 40000);
}

TEST(WorkerPoolTest, RefusesWorkBeyondTheQueueAndDrainsOnShutdown) {
  WorkerPool pool("t", 1, 2);
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  std::atomic<int> done{0};
  auto blocker = [&] {
    std::unique_lock<std::mutex> l(mu);
    cv.wait(l, [&] { return release; });
    ++done;
  };
  ASSERT_TRUE(pool.TrySubmit(blocker));
  // Wait until the worker holds the first task, so the queue is empty.
  while (pool.busy() == 0) std::this_thread::yield();
  EXPECT_TRUE(pool.TrySubmit([&] { ++done; }));
  EXPECT_TRUE(pool.TrySubmit([&] { ++done; }));
  EXPECT_FALSE(pool.TrySubmit([&] { ++done; })) << "queue of 2 is full";
  {
    std::lock_guard<std::mutex> l(mu);
    release = true;
  }
  cv.notify_all();
  pool.Shutdown();
  EXPECT_EQ(done, 3);
  EXPECT_FALSE(pool.TrySubmit([] {})) << "no work after shutdown";
}

}  // namespace
}  // namespace genesis
