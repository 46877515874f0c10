// An in-memory InteractionStore for unit tests.
#pragma once

#include <algorithm>
#include <map>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "services/voice/store.h"

namespace genesis::voice {

class FakeInteractionStore final : public InteractionStore {
 public:
  absl::Status Insert(const InteractionRecord& record, const CallContext&) override {
    std::lock_guard lock(mu_);
    if (!fail_with_.ok()) return fail_with_;
    if (!records_.emplace(record.id, record).second) {
      return absl::AlreadyExistsError(absl::StrCat("interaction ", record.id));
    }
    return absl::OkStatus();
  }
  absl::StatusOr<std::vector<InteractionRecord>> List(int limit,
                                                      const std::optional<InteractionCursor>& after,
                                                      const CallContext&) override {
    std::lock_guard lock(mu_);
    std::vector<InteractionRecord> all;
    for (const auto& [id, r] : records_) {
      if (after && !(std::pair(r.create_time, r.id) < *after)) continue;
      all.push_back(r);
      all.back().audio.clear();
    }
    std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) {
      return std::pair(a.create_time, a.id) > std::pair(b.create_time, b.id);
    });
    if (static_cast<int>(all.size()) > limit) all.resize(limit);
    return all;
  }
  absl::Status Ping(const CallContext&) override { return absl::OkStatus(); }

  std::vector<InteractionRecord> All() {
    std::lock_guard lock(mu_);
    std::vector<InteractionRecord> out;
    for (const auto& [id, r] : records_) out.push_back(r);
    return out;
  }
  void FailWith(absl::Status st) {
    std::lock_guard lock(mu_);
    fail_with_ = std::move(st);
  }

 private:
  std::mutex mu_;
  std::map<std::string, InteractionRecord> records_;
  absl::Status fail_with_;
};

}  // namespace genesis::voice
