// GroupCommitter: every item gets its own result, items queued during a
// flush share the next one, expired items are never flushed, a failed flush
// fails its items only, one bad item fails alone (the batch is split), Stop()
// flushes what is queued.
#include "common/storage/group_commit.h"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <thread>

#include "common/runtime/logging.h"

namespace genesis {
namespace {

using Committer = GroupCommitter<int, int>;

absl::Time Later() { return absl::Now() + absl::Seconds(30); }

TEST(GroupCommitTest, EachItemGetsItsOwnResult) {
  Committer c("doubler", 16, [](const std::vector<int>& items, absl::Time) {
    std::vector<absl::StatusOr<int>> out;
    for (int i : items) {
      if (i < 0) {
        out.push_back(absl::InvalidArgumentError("negative"));
      } else {
        out.push_back(2 * i);
      }
    }
    return absl::StatusOr<std::vector<absl::StatusOr<int>>>(std::move(out));
  });
  EXPECT_EQ(*c.Submit(21, Later()), 42);
  EXPECT_EQ(c.Submit(-1, Later()).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(GroupCommitTest, ItemsArrivingDuringAFlushShareTheNextOne) {
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  std::atomic<int> calls{0};
  std::vector<size_t> sizes;
  Committer c("batches", 100, [&](const std::vector<int>& items, absl::Time) {
    {
      std::unique_lock<std::mutex> lock(mu);
      sizes.push_back(items.size());
      // The first flush waits until the others are queued behind it.
      if (calls++ == 0) cv.wait(lock, [&] { return release; });
    }
    std::vector<absl::StatusOr<int>> out(items.begin(), items.end());
    return absl::StatusOr<std::vector<absl::StatusOr<int>>>(std::move(out));
  });
  std::vector<std::thread> callers;
  std::atomic<int> answered{0};
  callers.emplace_back([&] { answered += *c.Submit(0, Later()) == 0; });
  while (calls.load() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  for (int i = 1; i <= 10; ++i) {
    callers.emplace_back([&, i] { answered += *c.Submit(i, Later()) == i; });
  }
  while (c.queued() < 10) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  {
    std::lock_guard<std::mutex> lock(mu);
    release = true;
  }
  cv.notify_all();
  for (auto& t : callers) t.join();
  EXPECT_EQ(answered.load(), 11);
  EXPECT_EQ(c.items_flushed(), 11u);
  ASSERT_EQ(sizes.size(), 2u) << "the ten queued callers should have shared one flush";
  EXPECT_EQ(sizes[0], 1u);
  EXPECT_EQ(sizes[1], 10u);
}

TEST(GroupCommitTest, ABatchIsNeverLargerThanMaxBatch) {
  std::vector<size_t> sizes;
  std::mutex mu;
  Committer c("small", 3, [&](const std::vector<int>& items, absl::Time) {
    {
      std::lock_guard<std::mutex> lock(mu);
      sizes.push_back(items.size());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    return absl::StatusOr<std::vector<absl::StatusOr<int>>>(
        std::vector<absl::StatusOr<int>>(items.begin(), items.end()));
  });
  std::atomic<int> done{0};
  for (int i = 0; i < 20; ++i) c.Add(i, Later(), [&](absl::StatusOr<int> r) { done += r.ok(); });
  c.Stop();  // flushes everything queued
  EXPECT_EQ(done.load(), 20);
  for (size_t s : sizes) EXPECT_LE(s, 3u);
}

TEST(GroupCommitTest, WithALingerItemsQueuedSoonAfterShareTheFlush) {
  std::vector<size_t> sizes;
  std::mutex mu;
  Committer c(
      "lingering", 100,
      [&](const std::vector<int>& items, absl::Time) {
        std::lock_guard<std::mutex> lock(mu);
        sizes.push_back(items.size());
        return absl::StatusOr<std::vector<absl::StatusOr<int>>>(
            std::vector<absl::StatusOr<int>>(items.begin(), items.end()));
      },
      absl::Seconds(10));
  std::atomic<int> done{0};
  for (int i = 0; i < 5; ++i) c.Add(i, Later(), [&](absl::StatusOr<int> r) { done += r.ok(); });
  // Nothing is flushed while the linger lasts; Stop() ends it and flushes all five together.
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(done.load(), 0);
  c.Stop();
  EXPECT_EQ(done.load(), 5);
  ASSERT_EQ(sizes.size(), 1u);
  EXPECT_EQ(sizes[0], 5u);
}

TEST(GroupCommitTest, TheObserverIsToldOfEveryFlush) {
  std::mutex mu;
  std::vector<size_t> seen;
  Committer c(
      "observed", 100,
      [](const std::vector<int>& items, absl::Time) {
        return absl::StatusOr<std::vector<absl::StatusOr<int>>>(
            std::vector<absl::StatusOr<int>>(items.begin(), items.end()));
      },
      absl::Seconds(10),
      [&](size_t items, absl::Duration took) {
        std::lock_guard<std::mutex> lock(mu);
        seen.push_back(items);
        EXPECT_GE(took, absl::ZeroDuration());
      });
  for (int i = 0; i < 3; ++i) c.Add(i, Later(), [](absl::StatusOr<int>) {});
  c.Stop();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0], 3u);
}

TEST(GroupCommitTest, AnExpiredItemIsAnsweredWithoutBeingFlushed) {
  std::atomic<int> flushed{0};
  Committer c("expiry", 16, [&](const std::vector<int>& items, absl::Time) {
    flushed += static_cast<int>(items.size());
    return absl::StatusOr<std::vector<absl::StatusOr<int>>>(
        std::vector<absl::StatusOr<int>>(items.begin(), items.end()));
  });
  auto r = c.Submit(1, absl::Now() - absl::Seconds(1));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(flushed.load(), 0);
}

TEST(GroupCommitTest, AFailedFlushFailsItsItemsAndTheNextFlushWorks) {
  std::atomic<bool> fail{true};
  Committer c("flaky", 16,
              [&](const std::vector<int>& items,
                  absl::Time) -> absl::StatusOr<std::vector<absl::StatusOr<int>>> {
                if (fail) return absl::UnavailableError("database down");
                return std::vector<absl::StatusOr<int>>(items.begin(), items.end());
              });
  EXPECT_EQ(c.Submit(1, Later()).status().code(), absl::StatusCode::kUnavailable);
  fail = false;
  EXPECT_EQ(*c.Submit(2, Later()), 2);
}

// A flush that, like one SQL statement, fails whole when any item is bad.
absl::StatusOr<std::vector<absl::StatusOr<int>>> AllOrNothing(const std::vector<int>& items,
                                                              absl::StatusCode code) {
  for (int i : items) {
    if (i < 0) return absl::Status(code, absl::StrCat("item ", i, " refused"));
  }
  return std::vector<absl::StatusOr<int>>(items.begin(), items.end());
}

TEST(GroupCommitTest, OneBadItemFailsAloneAndItsNeighboursAreWritten) {
  std::mutex mu;
  std::vector<size_t> sizes;
  Committer c(
      "poisoned", 100,
      [&](const std::vector<int>& items, absl::Time) {
        std::lock_guard<std::mutex> lock(mu);
        sizes.push_back(items.size());
        return AllOrNothing(items, absl::StatusCode::kInvalidArgument);
      },
      absl::Seconds(10));
  std::map<int, absl::StatusOr<int>> answers;
  for (int i : {1, 2, 3, 4, -5, 6, 7, 8, 9, 10, 11, 12, 13, -14, 15, 16}) {
    c.Add(i, Later(), [&, i](absl::StatusOr<int> r) {
      std::lock_guard<std::mutex> lock(mu);
      answers.emplace(i, std::move(r));
    });
  }
  c.Stop();  // one batch of 16 (the linger held them together), split until the bad ones are alone
  ASSERT_EQ(answers.size(), 16u);
  for (const auto& [i, r] : answers) {
    if (i < 0) {
      EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << i;
      EXPECT_EQ(r.status().message(), absl::StrCat("item ", i, " refused"));
    } else {
      ASSERT_TRUE(r.ok()) << i << ": " << r.status();
      EXPECT_EQ(*r, i);
    }
  }
  ASSERT_FALSE(sizes.empty());
  EXPECT_EQ(sizes[0], 16u);
  // Halving: far fewer flushes than one per item, and every good item written once.
  EXPECT_LT(sizes.size(), 16u);
  EXPECT_EQ(c.items_flushed(), [&] {
    size_t n = 0;
    for (size_t s : sizes) n += s;
    return n;
  }());
}

TEST(GroupCommitTest, ATransientBatchErrorIsNotRetriedItemByItem) {
  std::atomic<int> flushes{0};
  Committer c(
      "down", 100,
      [&](const std::vector<int>&, absl::Time) {
        ++flushes;
        return AllOrNothing({-1}, absl::StatusCode::kUnavailable);
      },
      absl::Seconds(10));
  std::atomic<int> unavailable{0};
  for (int i = 0; i < 8; ++i) {
    c.Add(i, Later(), [&](absl::StatusOr<int> r) {
      unavailable += r.status().code() == absl::StatusCode::kUnavailable;
    });
  }
  c.Stop();
  EXPECT_EQ(unavailable.load(), 8);
  EXPECT_EQ(flushes.load(), 1);
}

TEST(GroupCommitTest, AFlushRunsWithTheRequestIdsOfItsItems) {
  std::string seen;
  Committer c(
      "ids", 100,
      [&](const std::vector<int>& items, absl::Time) {
        seen = std::string(CurrentRequestId());
        return absl::StatusOr<std::vector<absl::StatusOr<int>>>(
            std::vector<absl::StatusOr<int>>(items.begin(), items.end()));
      },
      absl::Seconds(10));
  for (const char* id : {"req-a", "req-b"}) {
    RequestIdScope scope(id);
    c.Add(1, Later(), [](absl::StatusOr<int>) {});
  }
  c.Stop();
  EXPECT_EQ(seen, "req-a,req-b");
}

TEST(GroupCommitTest, AFlushAnsweringTheWrongNumberOfResultsIsAnInternalError) {
  Committer c("short", 16, [](const std::vector<int>&, absl::Time) {
    return absl::StatusOr<std::vector<absl::StatusOr<int>>>(std::vector<absl::StatusOr<int>>{});
  });
  EXPECT_EQ(c.Submit(1, Later()).status().code(), absl::StatusCode::kInternal);
}

TEST(GroupCommitTest, AfterStopItemsAreRefused) {
  Committer c("stopped", 16, [](const std::vector<int>& items, absl::Time) {
    return absl::StatusOr<std::vector<absl::StatusOr<int>>>(
        std::vector<absl::StatusOr<int>>(items.begin(), items.end()));
  });
  c.Stop();
  EXPECT_EQ(c.Submit(1, Later()).status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace genesis
