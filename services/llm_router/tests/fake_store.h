// RouterStore in memory for unit tests: what the logic wrote is inspectable.
#pragma once

#include <algorithm>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <tuple>

#include "services/llm_router/store/store.h"

namespace genesis::llmrouter::testing {

class FakeRouterStore final : public RouterStore {
 public:
  absl::Status SeedModels(const std::vector<ModelSpec>& models, const CallContext&) override {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& m : models) {
      auto [it, inserted] = models_.emplace(m.id, m);
      if (!inserted) {
        ModelSpec& s = it->second;
        s.provider = m.provider;
        s.provider_model = m.provider_model;
        s.protocol = m.protocol;
        s.base_url = m.base_url;
        s.locality = m.locality;
        s.simulated = m.simulated;
      }
      it->second.api_key.clear();
      it->second.configured = false;
    }
    return absl::OkStatus();
  }
  absl::StatusOr<std::vector<ModelSpec>> LoadModels(const CallContext&) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (!up_) return absl::UnavailableError("fake store down");
    std::vector<ModelSpec> out;
    for (const auto& [id, m] : models_) out.push_back(m);
    return out;
  }
  absl::Status SaveTunables(const ModelSpec& m, const CallContext&) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = models_.find(m.id);
    if (it == models_.end()) return absl::NotFoundError("model " + m.id + " not found");
    it->second.enabled = m.enabled;
    it->second.input_price_per_mtok = m.input_price_per_mtok;
    it->second.output_price_per_mtok = m.output_price_per_mtok;
    it->second.context_window = m.context_window;
    it->second.capabilities = m.capabilities;
    it->second.quality = m.quality;
    return absl::OkStatus();
  }
  // Day counters and alerts as PgRouterStore keeps them.
  absl::StatusOr<RecordResult> RecordExecution(const ExecutionRecord& r,
                                               const CallContext&) override {
    std::lock_guard<std::mutex> lock(mu_);
    ExecutionRecord row = r;
    row.id = ++next_id_;
    std::vector<BudgetAlert> alerts;
    Insert(row, &alerts);
    return RecordResult{row.id, std::move(alerts)};
  }
  absl::StatusOr<std::vector<int64_t>> ReserveExecutionIds(int count, const CallContext&) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (!writes_up_) return absl::UnavailableError("fake store down");
    std::vector<int64_t> ids;
    for (int i = 0; i < count; ++i) ids.push_back(++next_id_);
    return ids;
  }
  absl::StatusOr<std::vector<BudgetAlert>> RecordExecutions(
      const std::vector<ExecutionRecord>& records, const CallContext&) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (!writes_up_) return absl::UnavailableError("fake store down");
    std::vector<BudgetAlert> alerts;
    for (const auto& r : records) Insert(r, &alerts);
    ++batches_;
    return alerts;
  }
  // Rows with ids given; day counters and alerts as PgRouterStore keeps them.
  void Insert(const ExecutionRecord& r, std::vector<BudgetAlert>* out) {
    index_[r.id] = executions_.size();
    executions_.push_back(r);
    std::vector<BudgetAlert>& alerts = *out;
    const std::string day = UtcDay(r.time);
    auto add = [&](BudgetScope scope, const std::string& owner) {
      if (owner.empty()) return;
      auto& c = counters_[{static_cast<int>(scope), owner, day}];
      c.first += r.usage.input_tokens + r.usage.output_tokens;
      c.second += r.cost_usd;
      auto it =
          budgets_.find({static_cast<int>(scope), owner, static_cast<int>(BudgetPeriod::kDay)});
      if (it != budgets_.end() && PassesAlert(it->second, c.first, c.second) &&
          alerted_.insert({static_cast<int>(scope), owner, day}).second) {
        alerts.push_back({scope, owner, day, c.first, c.second, it->second.token_limit,
                          it->second.cost_limit_usd});
      }
    };
    add(BudgetScope::kSubject, r.subject);
    add(BudgetScope::kAgent, r.agent);
  }
  absl::Status SetBudget(const Budget& b, const CallContext&) override {
    std::lock_guard<std::mutex> lock(mu_);
    budgets_[{static_cast<int>(b.scope), b.owner, static_cast<int>(b.period)}] = b;
    return absl::OkStatus();
  }
  absl::StatusOr<std::vector<Budget>> ListBudgets(const std::string& owner, absl::Time now,
                                                  const CallContext&) override {
    return Budgets([&](const Budget& b) { return owner.empty() || b.owner == owner; }, now);
  }
  absl::StatusOr<std::vector<Budget>> BudgetsFor(const std::string& subject,
                                                 const std::string& agent, absl::Time now,
                                                 const CallContext&) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++budgets_for_calls_;
      if (!up_ || budgets_down_) return absl::UnavailableError(kDatabaseText);
    }
    return Budgets(
        [&](const Budget& b) {
          return b.owner == (b.scope == BudgetScope::kSubject ? subject : agent);
        },
        now);
  }
  absl::StatusOr<bool> GetSandbox(const std::string& subject, const CallContext& ctx) override {
    if (on_get_sandbox) on_get_sandbox(ctx);
    std::lock_guard<std::mutex> lock(mu_);
    ++get_sandbox_calls_;
    if (!up_ || sandbox_down_) return absl::UnavailableError(kDatabaseText);
    return sandbox_.count(subject) > 0;
  }
  absl::Status SetSandbox(const std::string& subject, bool sandbox, const CallContext&) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (sandbox) {
      sandbox_.insert(subject);
    } else {
      sandbox_.erase(subject);
    }
    return absl::OkStatus();
  }
  absl::StatusOr<std::vector<UsageRow>> UsageReport(const UsageQuery&,
                                                    const CallContext&) override {
    return absl::UnimplementedError("the fake has no usage report (pg_store_test covers it)");
  }
  absl::StatusOr<Feedback> UpsertFeedback(const Feedback& f, absl::Time now, bool* created,
                                          const CallContext&) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (index_.count(f.execution_id) == 0) return absl::NotFoundError("execution not found");
    auto [it, inserted] = feedback_.try_emplace({f.execution_id, f.subject}, f);
    *created = inserted;
    if (inserted) it->second.create_time = now;
    it->second.score = f.score;
    it->second.comment = f.comment;
    it->second.update_time = now;
    return it->second;
  }
  absl::StatusOr<std::vector<FeedbackStat>> FeedbackStats(const CallContext&) override {
    std::lock_guard<std::mutex> lock(mu_);
    std::map<std::pair<Task, std::string>, FeedbackStat> stats;
    for (const auto& [key, f] : feedback_) {
      const ExecutionRecord& e = executions_[index_.at(key.first)];
      auto& st = stats[{e.task, e.model_id}];
      st.task = e.task;
      st.model_id = e.model_id;
      ++st.count;
      auto [s, fl] = ScoreWeight(f.score);
      st.successes += s;
      st.failures += fl;
    }
    std::vector<FeedbackStat> out;
    for (auto& [k, v] : stats) out.push_back(v);
    return out;
  }
  absl::StatusOr<Experiment> CreateExperiment(const Experiment& e,
                                              const std::optional<RequestKey>& key,
                                              const CallContext&) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (key) {
      for (const auto& [id, x] : experiments_) {
        auto k = experiment_keys_.find(id);
        if (k == experiment_keys_.end() || k->second.request_id != key->request_id) continue;
        if (k->second.request_hash != key->request_hash) {
          return RequestIdReused(key->request_id, "experiment");
        }
        return x;
      }
    }
    if (experiments_.count(e.id)) return absl::AlreadyExistsError("experiment exists");
    for (const auto& [id, x] : experiments_) {
      if (x.running && x.task == e.task) {
        return absl::FailedPreconditionError("experiment experiments/" + id + " is running");
      }
    }
    experiments_[e.id] = e;
    if (key) experiment_keys_[e.id] = *key;
    return e;
  }
  size_t experiment_count() {
    std::lock_guard<std::mutex> lock(mu_);
    return experiments_.size();
  }
  absl::StatusOr<Experiment> GetExperiment(const std::string& id, const CallContext&) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = experiments_.find(id);
    if (it == experiments_.end()) return absl::NotFoundError("experiment not found");
    return it->second;
  }
  absl::StatusOr<std::vector<Experiment>> ListExperiments(Task task, bool running_only,
                                                          const CallContext&) override {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<Experiment> out;
    for (const auto& [id, e] : experiments_) {
      if ((task == Task::kUnspecified || e.task == task) && (e.running || !running_only)) {
        out.push_back(e);
      }
    }
    // As PgRouterStore: newest first, then by id.
    std::stable_sort(out.begin(), out.end(), [](const Experiment& a, const Experiment& b) {
      return a.create_time > b.create_time;
    });
    return out;
  }
  absl::StatusOr<Experiment> StopExperiment(const std::string& id, absl::Time now,
                                            const CallContext&) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = experiments_.find(id);
    if (it == experiments_.end()) return absl::NotFoundError("experiment not found");
    if (!it->second.running) return absl::FailedPreconditionError("already stopped");
    it->second.running = false;
    it->second.stop_time = now;
    return it->second;
  }
  absl::StatusOr<std::vector<ArmReport>> ExperimentReport(const Experiment&,
                                                          const CallContext&) override {
    return absl::UnimplementedError("the fake has no experiment report (pg tests cover it)");
  }
  absl::Status EnqueueRetry(const RetryRecord& r, const CallContext&) override {
    std::lock_guard<std::mutex> lock(mu_);
    retries_.push_back(r);
    return absl::OkStatus();
  }
  absl::Status Ping(const CallContext&) override {
    return up_ ? absl::OkStatus() : absl::UnavailableError("fake store down");
  }

  std::vector<ExecutionRecord> executions() {
    std::lock_guard<std::mutex> lock(mu_);
    return executions_;
  }
  // Sees the context of every sandbox read (set before calls start).
  std::function<void(const CallContext&)> on_get_sandbox;
  // What a failed settings read says: database text that must never reach a caller.
  static constexpr const char* kDatabaseText =
      "canceling statement due to statement timeout: relation llm_router.subject_settings";
  // Budgets and sandbox settings unreadable (the rest keeps working).
  void set_budgets_down(bool down) {
    std::lock_guard<std::mutex> lock(mu_);
    up_ = !down;
  }
  // Only the budgets / only the sandbox settings unreadable.
  void set_only_budgets_down(bool down) {
    std::lock_guard<std::mutex> lock(mu_);
    budgets_down_ = down;
  }
  void set_only_sandbox_down(bool down) {
    std::lock_guard<std::mutex> lock(mu_);
    sandbox_down_ = down;
  }
  std::vector<RetryRecord> retries() {
    std::lock_guard<std::mutex> lock(mu_);
    return retries_;
  }
  // Batched writes and id reservations fail with UNAVAILABLE while down.
  void set_writes_up(bool up) {
    std::lock_guard<std::mutex> lock(mu_);
    writes_up_ = up;
  }
  int batches() {
    std::lock_guard<std::mutex> lock(mu_);
    return batches_;
  }
  // How often the router read these (the settings cache saves reads).
  int budgets_for_calls() {
    std::lock_guard<std::mutex> lock(mu_);
    return budgets_for_calls_;
  }
  int get_sandbox_calls() {
    std::lock_guard<std::mutex> lock(mu_);
    return get_sandbox_calls_;
  }
  void set_up(bool up) {
    std::lock_guard<std::mutex> lock(mu_);
    up_ = up;
  }

 private:
  template <typename F>
  std::vector<Budget> Budgets(F keep, absl::Time now) {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<Budget> out;
    const std::string today = UtcDay(now), month = UtcMonthStart(now);
    for (auto [key, b] : budgets_) {
      if (!keep(b)) continue;
      for (const auto& [ck, c] : counters_) {
        const auto& [scope, owner, day] = ck;
        if (scope != static_cast<int>(b.scope) || owner != b.owner || day > today) continue;
        if (day < (b.period == BudgetPeriod::kDay ? today : month)) continue;
        b.used_tokens += c.first;
        b.used_cost_usd += c.second;
      }
      out.push_back(b);
    }
    return out;
  }

  std::mutex mu_;
  std::map<std::tuple<int, std::string, int>, Budget> budgets_;
  std::map<std::tuple<int, std::string, std::string>, std::pair<int64_t, double>> counters_;
  std::set<std::tuple<int, std::string, std::string>> alerted_;
  std::set<std::string> sandbox_;
  bool up_ = true;
  bool budgets_down_ = false;
  bool sandbox_down_ = false;
  bool writes_up_ = true;
  int batches_ = 0;
  int budgets_for_calls_ = 0;
  int get_sandbox_calls_ = 0;
  int64_t next_id_ = 0;
  std::map<int64_t, size_t> index_;  // execution id -> executions_ index
  std::map<std::string, ModelSpec> models_;
  std::vector<ExecutionRecord> executions_;
  std::vector<RetryRecord> retries_;
  std::map<std::pair<int64_t, std::string>, Feedback> feedback_;
  std::map<std::string, Experiment> experiments_;
  std::map<std::string, RequestKey> experiment_keys_;  // experiment id -> its create key
};

}  // namespace genesis::llmrouter::testing
