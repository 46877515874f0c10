// Router: feedback on executions and experiments.
#include <algorithm>
#include <optional>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/base/paging.h"
#include "common/base/request_key.h"
#include "common/base/status.h"
#include "common/base/text.h"
#include "services/llm_router/reasons.h"
#include "services/llm_router/roles.h"
#include "services/llm_router/router.h"
#include "services/llm_router/selection/pii.h"

namespace genesis::llmrouter {
namespace {

// "experiments/{id}" -> id; INVALID_ARGUMENT naming "name".
absl::StatusOr<std::string> ExperimentId(const std::string& name) {
  constexpr std::string_view kPrefix = "experiments/";
  if (name.rfind(kPrefix, 0) != 0 || name.size() == kPrefix.size() ||
      name.find('/', kPrefix.size()) != std::string::npos) {
    return InvalidField("name", "must be experiments/{experiment}");
  }
  return name.substr(kPrefix.size());
}

}  // namespace

absl::StatusOr<Feedback> Router::RecordFeedback(const Feedback& feedback, const CallContext& ctx) {
  GENESIS_RETURN_IF_ERROR(ValidateFeedback(feedback));
  Feedback f = feedback;
  // With a gateway identity, feedback is the caller's own.
  if (ctx.HasIdentity()) f.subject = ctx.subject;
  f.comment = MaskPii(f.comment);
  bool created = false;
  GENESIS_ASSIGN_OR_RETURN(Feedback out, store_->UpsertFeedback(f, clock_->Now(), &created, ctx));
  RouterMetrics::Inc(created ? metrics_.feedback_created : metrics_.feedback_updated);
  // Later calls of this process see it at once; others at their next refresh.
  if (!config_.feedback_weighted.empty()) {
    std::lock_guard<std::mutex> lock(mu_);
    refreshed_ = absl::InfinitePast();
  }
  return out;
}

absl::StatusOr<Experiment> Router::CreateExperiment(Experiment e, const std::string& request_id,
                                                    const CallContext& ctx) {
  GENESIS_RETURN_IF_ERROR(RequireAdmin(ctx, "CreateExperiment"));
  auto models = Models();
  for (auto& a : e.arms) {
    if (a.model.rfind("models/", 0) == 0) a.model = a.model.substr(7);
  }
  absl::Status valid = ValidateExperiment(e, [&](const std::string& id) {
    return std::any_of(models->begin(), models->end(),
                       [&](const ModelSpec& m) { return m.id == id; });
  });
  {
    FieldViolations v;
    if (!CheckRequestId("request_id", request_id, &v)) {
      for (auto& [field, description] : FieldViolationsOf(valid)) v.Add(field, description);
      return v.ToStatus();
    }
  }
  GENESIS_RETURN_IF_ERROR(valid);
  nlohmann::json arms = nlohmann::json::array();
  for (const auto& a : e.arms) {
    arms.push_back({a.id, a.model, static_cast<int>(a.strategy), a.percent});
  }
  const std::optional<RequestKey> key =
      MakeRequestKey(request_id, {e.id, e.description, static_cast<int>(e.task), std::move(arms)});
  e.running = true;
  e.create_time = clock_->Now();
  e.stop_time = absl::InfinitePast();
  auto created = store_->CreateExperiment(e, key, ctx);
  created =
      WithReasonFor(std::move(created), absl::StatusCode::kAlreadyExists,
                    reasons::kExperimentAlreadyExists, {{"experiment", "experiments/" + e.id}});
  created = WithReasonFor(std::move(created), absl::StatusCode::kFailedPrecondition,
                          reasons::kExperimentConflict, {{"task", std::string(TaskName(e.task))}});
  if (!created.ok()) return created.status();
  // A retry gets the first attempt's experiment (its own creation time).
  if (created->create_time != e.create_time) return created;
  log_->info("experiment {} started on task {} with {} arms", e.id, TaskName(e.task),
             e.arms.size());
  std::lock_guard<std::mutex> lock(mu_);
  if (std::any_of(running_->begin(), running_->end(),
                  [&](const Experiment& x) { return x.id == e.id; })) {
    return e;
  }
  auto running = std::make_shared<std::vector<Experiment>>(*running_);
  running->push_back(e);
  running_ = std::move(running);
  return e;
}

absl::StatusOr<Experiment> Router::GetExperiment(const std::string& name, const CallContext& ctx) {
  GENESIS_ASSIGN_OR_RETURN(std::string id, ExperimentId(name));
  return WithReasonFor(store_->GetExperiment(id, ctx), absl::StatusCode::kNotFound,
                       reasons::kExperimentNotFound, {{"experiment", name}});
}

absl::StatusOr<std::vector<Experiment>> Router::ListExperiments(Task task, bool running_only,
                                                                const CallContext& ctx) {
  return store_->ListExperiments(task, running_only, ctx);
}

absl::StatusOr<Router::ExperimentPage> Router::ListExperimentsPage(Task task, bool running_only,
                                                                   int page_size,
                                                                   const std::string& page_token,
                                                                   const CallContext& ctx) {
  GENESIS_ASSIGN_OR_RETURN(const int size, PageSize(page_size, 50, 500));
  // The order is the store's: newest first, then by id. A position is
  // "{create_time in µs}/{id}" of the last experiment of the previous page.
  const std::string scope = absl::StrCat(TaskName(task), ",", running_only);
  std::optional<std::pair<int64_t, std::string>> after;
  if (!page_token.empty()) {
    GENESIS_ASSIGN_OR_RETURN(
        std::string position,
        DecodePageToken(page_token, "experiments", scope,
                        "belongs to a listing with another task or running_only; start again "
                        "without page_token"));
    const size_t slash = position.find('/');
    int64_t micros = 0;
    if (slash == std::string::npos || !absl::SimpleAtoi(position.substr(0, slash), &micros)) {
      return InvalidField("page_token", "is not a token this service issued");
    }
    after.emplace(micros, position.substr(slash + 1));
  }
  GENESIS_ASSIGN_OR_RETURN(auto all, store_->ListExperiments(task, running_only, ctx));
  ExperimentPage page;
  for (auto& e : all) {
    const int64_t micros = absl::ToUnixMicros(e.create_time);
    // Past the position: older, or as old with a later id.
    if (after && !(micros < after->first || (micros == after->first && e.id > after->second))) {
      continue;
    }
    if (static_cast<int>(page.experiments.size()) == size) {
      const Experiment& last = page.experiments.back();
      page.next_page_token = EncodePageToken(
          "experiments", scope, absl::StrCat(absl::ToUnixMicros(last.create_time), "/", last.id));
      break;
    }
    page.experiments.push_back(std::move(e));
  }
  return page;
}

absl::StatusOr<Experiment> Router::StopExperiment(const std::string& name, const CallContext& ctx) {
  GENESIS_RETURN_IF_ERROR(RequireAdmin(ctx, "StopExperiment"));
  GENESIS_ASSIGN_OR_RETURN(std::string id, ExperimentId(name));
  GENESIS_ASSIGN_OR_RETURN(
      Experiment e,
      WithReasonFor(
          WithReasonFor(store_->StopExperiment(id, clock_->Now(), ctx), absl::StatusCode::kNotFound,
                        reasons::kExperimentNotFound, {{"experiment", name}}),
          absl::StatusCode::kFailedPrecondition, reasons::kExperimentStopped,
          {{"experiment", name}}));
  log_->info("experiment {} stopped", id);
  std::lock_guard<std::mutex> lock(mu_);
  auto running = std::make_shared<std::vector<Experiment>>();
  for (const auto& x : *running_) {
    if (x.id != id) running->push_back(x);
  }
  running_ = std::move(running);
  return e;
}

absl::StatusOr<std::vector<ArmReport>> Router::ExperimentReport(const std::string& name,
                                                                const CallContext& ctx) {
  GENESIS_ASSIGN_OR_RETURN(Experiment e, GetExperiment(name, ctx));
  return store_->ExperimentReport(e, ctx);
}

}  // namespace genesis::llmrouter
