// A small Prometheus client: counters, gauges and histograms with labels,
// rendered in the text exposition format (version 0.0.4).
//
// Families are registered once at start-up; WithLabels() is thread-safe and
// returns a reference that stays valid for the registry's lifetime, so hot
// paths look a series up once and then only touch atomics.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace genesis {

class Counter {
 public:
  void Inc(double v = 1.0);
  [[nodiscard]] double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

class Gauge {
 public:
  void Set(double v) { value_.store(v, std::memory_order_relaxed); }
  void Add(double v);
  [[nodiscard]] double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void Observe(double v);
  // Cumulative counts per bound, then +Inf; and the sum.
  [[nodiscard]] std::vector<uint64_t> CumulativeCounts() const;
  [[nodiscard]] double Sum() const { return sum_.load(std::memory_order_relaxed); }
  [[nodiscard]] const std::vector<double>& bounds() const { return bounds_; }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;  // bounds_.size() + 1
  std::atomic<double> sum_{0.0};
};

// Latency buckets in seconds, 0.5 ms to 10 s.
std::vector<double> DefaultLatencyBuckets();

template <typename T>
class Family {
 public:
  Family(std::string name, std::string help, std::vector<std::string> label_names,
         std::function<std::unique_ptr<T>()> make)
      : name_(std::move(name)),
        help_(std::move(help)),
        label_names_(std::move(label_names)),
        make_(std::move(make)) {}

  // The series with these label values (one per label name, in order).
  T& WithLabels(const std::vector<std::string>& values) {
    std::lock_guard<std::mutex> lock(mu_);
    auto& slot = series_[values];
    if (!slot) slot = make_();
    return *slot;
  }

  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  const std::vector<std::string>& label_names() const { return label_names_; }
  template <typename F>
  void ForEach(F&& f) const {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [labels, series] : series_) f(labels, *series);
  }

 private:
  std::string name_, help_;
  std::vector<std::string> label_names_;
  std::function<std::unique_ptr<T>()> make_;
  mutable std::mutex mu_;
  std::map<std::vector<std::string>, std::unique_ptr<T>> series_;
};

// Owns every metric of a process. Thread-safe. Registering a family name
// again (same kind, same label names) returns the family already there.
class MetricsRegistry {
 public:
  Family<Counter>& AddCounter(const std::string& name, const std::string& help,
                              std::vector<std::string> label_names = {});
  Family<Gauge>& AddGauge(const std::string& name, const std::string& help,
                          std::vector<std::string> label_names = {});
  Family<Histogram>& AddHistogram(const std::string& name, const std::string& help,
                                  std::vector<std::string> label_names,
                                  std::vector<double> bounds = DefaultLatencyBuckets());
  // A gauge read at scrape time (pool sizes and the like).
  void AddCallbackGauge(const std::string& name, const std::string& help,
                        std::function<double()> read);

  // The whole registry in Prometheus text format.
  [[nodiscard]] std::string Render() const;

 private:
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<Family<Counter>>> counters_;
  std::vector<std::unique_ptr<Family<Gauge>>> gauges_;
  std::vector<std::unique_ptr<Family<Histogram>>> histograms_;
  struct CallbackGauge {
    std::string name, help;
    std::function<double()> read;
  };
  std::vector<CallbackGauge> callback_gauges_;
};

}  // namespace genesis
