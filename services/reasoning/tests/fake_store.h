// An in-memory ReasoningStore for unit tests of the logic: maps behind a
// mutex, with the same status codes as PgReasoningStore.
#pragma once

#include <map>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "services/reasoning/store.h"

namespace genesis::reasoning::testing {

class FakeReasoningStore final : public ReasoningStore {
 public:
  absl::Status Append(const Event& event, const Case& after, const CallContext&) override {
    std::lock_guard<std::mutex> l(mu_);
    if (!append_status.ok()) return append_status;
    auto it = cases_.find(event.case_id);
    if (event.version == 1) {
      if (it != cases_.end()) return absl::AlreadyExistsError("case exists");
      cases_[event.case_id] = {++seq_, after};
      order_[seq_] = event.case_id;
    } else {
      if (it == cases_.end()) return NotFound(event.case_id);
      if (it->second.state.version != event.version - 1) {
        return absl::AbortedError("case changed meanwhile");
      }
      it->second.state = after;
    }
    events_[event.case_id].push_back(event);
    return absl::OkStatus();
  }

  absl::StatusOr<Case> GetCase(const std::string& id, const CallContext&) override {
    std::lock_guard<std::mutex> l(mu_);
    auto it = cases_.find(id);
    if (it == cases_.end()) return NotFound(id);
    return it->second.state;
  }

  absl::StatusOr<Case> GetCaseForInference(const std::string& id, const CallContext& ctx) override {
    return GetCase(id, ctx);
  }

  absl::StatusOr<CaseSummaryPage> ListCases(int64_t after_seq, int limit,
                                            const CallContext&) override {
    std::lock_guard<std::mutex> l(mu_);
    CaseSummaryPage page;
    for (auto it = order_.upper_bound(after_seq); it != order_.end(); ++it) {
      if (static_cast<int>(page.cases.size()) == limit) {
        page.more = true;
        break;
      }
      Case c = cases_[it->second].state;
      c.hypotheses.clear();
      c.evidence.clear();
      c.decisions.clear();
      page.cases.push_back(std::move(c));
      page.last_seq = it->first;
    }
    return page;
  }

  absl::StatusOr<EventPage> ListEvents(const std::string& case_id, int64_t after_version,
                                       std::optional<absl::Time> until, int limit,
                                       const CallContext&) override {
    std::lock_guard<std::mutex> l(mu_);
    if (!cases_.count(case_id)) return NotFound(case_id);
    EventPage page;
    for (const auto& e : events_[case_id]) {
      if (e.version <= after_version || (until && e.time > *until)) continue;
      if (static_cast<int>(page.events.size()) == limit) {
        page.more = true;
        break;
      }
      page.events.push_back(e);
    }
    return page;
  }

  absl::StatusOr<std::optional<Event>> FindRequest(const std::string& case_id,
                                                   const std::string& request_id,
                                                   const CallContext&) override {
    std::lock_guard<std::mutex> l(mu_);
    for (const auto& [id, events] : events_) {
      if (!case_id.empty() && id != case_id) continue;
      for (const auto& e : events) {
        if (e.request_id == request_id && (case_id.empty() ? e.version == 1 : e.version > 1)) {
          return std::optional<Event>(e);
        }
      }
    }
    return std::optional<Event>();
  }
  size_t CaseCount() {
    std::lock_guard<std::mutex> l(mu_);
    return cases_.size();
  }
  absl::Status Ping(const CallContext&) override { return ping_status; }

  // Knobs for tests.
  absl::Status ping_status = absl::OkStatus();
  absl::Status append_status = absl::OkStatus();

 private:
  static absl::Status NotFound(const std::string& id) {
    return absl::NotFoundError(absl::StrCat("case 'cases/", id, "' does not exist"));
  }
  struct Stored {
    int64_t seq = 0;
    Case state;
  };
  std::mutex mu_;
  int64_t seq_ = 0;
  std::map<std::string, Stored> cases_;
  std::map<int64_t, std::string> order_;
  std::map<std::string, std::vector<Event>> events_;
};

}  // namespace genesis::reasoning::testing
