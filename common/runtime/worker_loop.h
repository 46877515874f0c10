// Background loops: a step function run by N threads until Stop(), waking
// on Notify() or after `idle` when the last step found nothing to do.
// Thread-safe.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace genesis {

class WorkerLoop {
 public:
  // `step` returns how many items it handled (0: idle) or an error (logged, then idle).
  WorkerLoop(std::string name, int threads, absl::Duration idle,
             std::function<absl::StatusOr<int>()> step);
  ~WorkerLoop();  // Stop()
  WorkerLoop(const WorkerLoop&) = delete;
  WorkerLoop& operator=(const WorkerLoop&) = delete;

  // Before Start(): the threads wait this long (or a Notify()) before their
  // first step instead of taking it at once (e.g. a probe just made by main()).
  void set_start_delay(absl::Duration delay) { start_delay_ = delay; }
  void Start();
  // Wakes one idle thread at once (a busy one looks again before it waits).
  void Notify();
  // Lets the running steps finish, then joins. Idempotent.
  void Stop();

 private:
  void Run();

  const std::string name_;
  const int threads_;
  const absl::Duration idle_;
  absl::Duration start_delay_ = absl::ZeroDuration();
  std::function<absl::StatusOr<int>()> step_;
  std::mutex mu_;
  std::condition_variable cv_;
  uint64_t signals_ = 0;
  uint64_t start_signals_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace genesis
