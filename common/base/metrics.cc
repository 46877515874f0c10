#include "common/base/metrics.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace genesis {
namespace {

void AtomicAdd(std::atomic<double>& a, double v) {
  double cur = a.load(std::memory_order_relaxed);
  while (!a.compare_exchange_weak(cur, cur + v, std::memory_order_relaxed)) {
  }
}

std::string FormatValue(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (std::isnan(v)) return "NaN";
  if (v == std::floor(v) && std::fabs(v) < 1e15) return absl::StrFormat("%.0f", v);
  return absl::StrFormat("%.9g", v);
}

std::string EscapeLabel(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::string Labels(const std::vector<std::string>& names, const std::vector<std::string>& values,
                   const std::string& extra = "") {
  std::string out;
  for (size_t i = 0; i < names.size() && i < values.size(); ++i) {
    absl::StrAppend(&out, out.empty() ? "" : ",", names[i], "=\"", EscapeLabel(values[i]), "\"");
  }
  if (!extra.empty()) absl::StrAppend(&out, out.empty() ? "" : ",", extra);
  return out.empty() ? "" : "{" + out + "}";
}

void Header(std::string& out, const std::string& name, const std::string& help, const char* type) {
  absl::StrAppend(&out, "# HELP ", name, " ", help, "\n# TYPE ", name, " ", type, "\n");
}

// The family already registered under `name`, so that two components
// (RpcDispatcher and ServerStreamDispatcher) can share one; null when none.
// The same name with other label names is a programming error.
template <typename T>
Family<T>* Registered(const std::vector<std::unique_ptr<Family<T>>>& families,
                      const std::string& name, const std::vector<std::string>& label_names) {
  for (const auto& f : families) {
    if (f->name() != name) continue;
    if (f->label_names() != label_names) {
      std::fprintf(stderr, "metric %s registered twice with different labels\n", name.c_str());
      std::abort();
    }
    return f.get();
  }
  return nullptr;
}

}  // namespace

void Counter::Inc(double v) { AtomicAdd(value_, v); }
void Gauge::Add(double v) { AtomicAdd(value_, v); }

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), counts_(new std::atomic<uint64_t>[bounds_.size() + 1]) {
  for (size_t i = 0; i <= bounds_.size(); ++i) counts_[i].store(0);
}

void Histogram::Observe(double v) {
  size_t i = 0;
  while (i < bounds_.size() && v > bounds_[i]) ++i;
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  AtomicAdd(sum_, v);
}

std::vector<uint64_t> Histogram::CumulativeCounts() const {
  std::vector<uint64_t> out(bounds_.size() + 1);
  uint64_t acc = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    acc += counts_[i].load(std::memory_order_relaxed);
    out[i] = acc;
  }
  return out;
}

std::vector<double> DefaultLatencyBuckets() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

Family<Counter>& MetricsRegistry::AddCounter(const std::string& name, const std::string& help,
                                             std::vector<std::string> label_names) {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto* f = Registered(counters_, name, label_names)) return *f;
  counters_.push_back(std::make_unique<Family<Counter>>(
      name, help, std::move(label_names), [] { return std::make_unique<Counter>(); }));
  return *counters_.back();
}

Family<Gauge>& MetricsRegistry::AddGauge(const std::string& name, const std::string& help,
                                         std::vector<std::string> label_names) {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto* f = Registered(gauges_, name, label_names)) return *f;
  gauges_.push_back(std::make_unique<Family<Gauge>>(name, help, std::move(label_names),
                                                    [] { return std::make_unique<Gauge>(); }));
  return *gauges_.back();
}

Family<Histogram>& MetricsRegistry::AddHistogram(const std::string& name, const std::string& help,
                                                 std::vector<std::string> label_names,
                                                 std::vector<double> bounds) {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto* f = Registered(histograms_, name, label_names)) return *f;
  histograms_.push_back(std::make_unique<Family<Histogram>>(
      name, help, std::move(label_names),
      [bounds] { return std::make_unique<Histogram>(bounds); }));
  return *histograms_.back();
}

void MetricsRegistry::AddCallbackGauge(const std::string& name, const std::string& help,
                                       std::function<double()> read) {
  std::lock_guard<std::mutex> lock(mu_);
  callback_gauges_.push_back({name, help, std::move(read)});
}

std::string MetricsRegistry::Render() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string out;
  for (const auto& f : counters_) {
    Header(out, f->name(), f->help(), "counter");
    f->ForEach([&](const std::vector<std::string>& labels, const Counter& c) {
      absl::StrAppend(&out, f->name(), Labels(f->label_names(), labels), " ",
                      FormatValue(c.Value()), "\n");
    });
  }
  for (const auto& f : gauges_) {
    Header(out, f->name(), f->help(), "gauge");
    f->ForEach([&](const std::vector<std::string>& labels, const Gauge& g) {
      absl::StrAppend(&out, f->name(), Labels(f->label_names(), labels), " ",
                      FormatValue(g.Value()), "\n");
    });
  }
  for (const auto& g : callback_gauges_) {
    Header(out, g.name, g.help, "gauge");
    absl::StrAppend(&out, g.name, " ", FormatValue(g.read()), "\n");
  }
  for (const auto& f : histograms_) {
    Header(out, f->name(), f->help(), "histogram");
    f->ForEach([&](const std::vector<std::string>& labels, const Histogram& h) {
      auto counts = h.CumulativeCounts();
      for (size_t i = 0; i < counts.size(); ++i) {
        std::string le = i < h.bounds().size() ? FormatValue(h.bounds()[i]) : "+Inf";
        absl::StrAppend(&out, f->name(), "_bucket",
                        Labels(f->label_names(), labels, "le=\"" + le + "\""), " ", counts[i],
                        "\n");
      }
      absl::StrAppend(&out, f->name(), "_sum", Labels(f->label_names(), labels), " ",
                      FormatValue(h.Sum()), "\n");
      absl::StrAppend(&out, f->name(), "_count", Labels(f->label_names(), labels), " ",
                      counts.back(), "\n");
    });
  }
  return out;
}

}  // namespace genesis
