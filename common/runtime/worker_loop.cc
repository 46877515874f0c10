#include "common/runtime/worker_loop.h"

#include "common/runtime/logging.h"

namespace genesis {

WorkerLoop::WorkerLoop(std::string name, int threads, absl::Duration idle,
                       std::function<absl::StatusOr<int>()> step)
    : name_(std::move(name)), threads_(threads), idle_(idle), step_(std::move(step)) {}

WorkerLoop::~WorkerLoop() { Stop(); }

void WorkerLoop::Start() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    start_signals_ = signals_;  // a Notify() from now on ends the start delay
  }
  for (int i = 0; i < threads_; ++i) workers_.emplace_back([this] { Run(); });
}

void WorkerLoop::Notify() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++signals_;
  }
  cv_.notify_one();
}

void WorkerLoop::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : workers_) {
    if (t.joinable()) t.join();
  }
  workers_.clear();
}

void WorkerLoop::Run() {
  auto log = Logger(name_);
  absl::Duration error_pause = absl::ZeroDuration();
  if (start_delay_ > absl::ZeroDuration()) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, absl::ToChronoMilliseconds(start_delay_),
                 [&] { return stopping_ || signals_ != start_signals_; });
  }
  while (true) {
    uint64_t seen;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return;
      seen = signals_;
    }
    auto handled = step_();
    absl::Duration wait = idle_;
    if (!handled.ok()) {
      log->warn("step failed: {}", handled.status().message());
      error_pause = std::min(absl::Seconds(5), error_pause + absl::Milliseconds(200));
      wait = error_pause;
    } else {
      error_pause = absl::ZeroDuration();
      if (*handled > 0) continue;  // more may be waiting
    }
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, absl::ToChronoMilliseconds(wait),
                 [&] { return stopping_ || (handled.ok() && signals_ != seen); });
  }
}

}  // namespace genesis
