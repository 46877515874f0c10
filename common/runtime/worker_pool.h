// A fixed set of threads over a bounded FIFO queue.
//
// gRPC's callback API must not block its own threads, so every RPC's work
// (database and cache calls) runs here; when the queue is full the call is
// refused at once (RESOURCE_EXHAUSTED) instead of piling up. Thread-safe.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace genesis {

class WorkerPool {
 public:
  WorkerPool(std::string name, int threads, int max_queued);
  ~WorkerPool();  // Shutdown()
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Queues `task`; false when the queue is full or the pool is shutting down.
  [[nodiscard]] bool TrySubmit(std::function<void()> task);
  // Runs what is queued, then joins the threads. Idempotent.
  void Shutdown();

  [[nodiscard]] int queued() const;
  [[nodiscard]] int busy() const;
  [[nodiscard]] int threads() const { return static_cast<int>(threads_.size()); }
  // How long tasks have been waiting while no worker took any (zero when the
  // queue is empty): a pool whose every worker is stuck grows this without
  // bound. Liveness uses it (ServiceHost::WatchWorkers).
  [[nodiscard]] absl::Duration StalledFor() const;
  [[nodiscard]] const std::string& name() const { return name_; }

 private:
  void Loop();

  const std::string name_;
  const size_t max_queued_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  int busy_ = 0;
  // When a worker last took a task, or the queue last became non-empty.
  absl::Time progress_ = absl::Now();
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace genesis
