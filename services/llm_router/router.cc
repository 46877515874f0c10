#include "services/llm_router/router.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "services/llm_router/pii.h"

namespace genesis::llmrouter {
namespace {

std::string ModelId(const std::string& name) {
  return name.rfind("models/", 0) == 0 ? name.substr(7) : name;
}

std::string RequestJson(const CompletionRequest& r) {
  nlohmann::json messages = nlohmann::json::array();
  for (const auto& m : r.messages) {
    messages.push_back({{"role", static_cast<int>(m.role)}, {"content", m.content}});
  }
  nlohmann::json j = {{"messages", messages},
                      {"task", TaskName(r.task)},
                      {"model", r.model},
                      {"max_tokens", r.max_tokens},
                      {"sensitive", r.sensitive},
                      {"strategy", static_cast<int>(r.strategy)},
                      {"max_cost_usd", r.constraints.max_cost_usd}};
  if (r.temperature) j["temperature"] = *r.temperature;
  return j.dump();
}

std::string AttemptsJson(const std::vector<Attempt>& attempts) {
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& a : attempts) {
    arr.push_back({{"model", a.model_id},
                   {"try", a.try_number},
                   {"http_status", a.http_status},
                   {"error", MaskPii(a.error)},
                   {"latency_ms", absl::ToDoubleMilliseconds(a.latency)}});
  }
  return arr.dump();
}

}  // namespace

Router::Router(RouterConfig config, std::unique_ptr<RouterStore> store,
               std::unique_ptr<ProviderClient> client, std::unique_ptr<Clock> clock,
               std::function<double()> random01, RouterOptions options, RouterDeps deps)
    : config_(std::move(config)),
      options_(options),
      store_(std::move(store)),
      client_(std::move(client)),
      clock_(std::move(clock)),
      cache_(std::move(deps.cache)),
      metrics_(deps.metrics),
      health_(options.health),
      executor_(client_.get(), &health_, clock_.get(), std::move(random01), options.executor),
      log_(Logger("llm_router")),
      models_(std::make_shared<const std::vector<ModelSpec>>()) {}

absl::Status Router::Init(const CallContext& ctx) {
  GENESIS_RETURN_IF_ERROR(store_->SeedModels(config_.models, ctx));
  GENESIS_ASSIGN_OR_RETURN(auto stored, store_->LoadModels(ctx));
  auto models = std::make_shared<std::vector<ModelSpec>>();
  for (const auto& c : config_.models) {
    ModelSpec m = c;
    auto it = std::find_if(stored.begin(), stored.end(),
                           [&](const ModelSpec& s) { return s.id == c.id; });
    if (it != stored.end()) {
      m.enabled = it->enabled;
      m.input_price_per_mtok = it->input_price_per_mtok;
      m.output_price_per_mtok = it->output_price_per_mtok;
      m.context_window = it->context_window;
      m.capabilities = it->capabilities;
      m.quality = it->quality;
    }
    models->push_back(std::move(m));
  }
  std::sort(models->begin(), models->end(),
            [](const ModelSpec& a, const ModelSpec& b) { return a.id < b.id; });
  int configured = 0;
  for (const auto& m : *models) configured += m.configured && m.enabled;
  log_->info("registry: {} models, {} configured and enabled", models->size(), configured);
  std::lock_guard<std::mutex> lock(mu_);
  models_ = std::move(models);
  return absl::OkStatus();
}

std::shared_ptr<const std::vector<ModelSpec>> Router::Models() const {
  std::lock_guard<std::mutex> lock(mu_);
  return models_;
}

absl::Status Router::Validate(const CompletionRequest& r) const {
  FieldViolations v;
  if (r.messages.empty()) v.Add("messages", "at least one message is required");
  size_t bytes = 0;
  bool has_user = false;
  for (size_t i = 0; i < r.messages.size(); ++i) {
    const auto& m = r.messages[i];
    if (m.role == Role::kUnspecified) {
      v.Add(absl::StrCat("messages[", i, "].role"), "must be system, user or assistant");
    }
    if (m.content.empty()) v.Add(absl::StrCat("messages[", i, "].content"), "must not be empty");
    has_user |= m.role == Role::kUser;
    bytes += m.content.size();
  }
  if (!r.messages.empty() && !has_user) v.Add("messages", "needs at least one user message");
  if (bytes > options_.max_request_bytes) {
    v.Add("messages", absl::StrCat("at most ", options_.max_request_bytes, " bytes in total"));
  }
  if (r.max_tokens < 0) v.Add("max_tokens", "must not be negative (0: the default)");
  if (r.max_tokens > options_.max_max_tokens) {
    v.Add("max_tokens", absl::StrCat("at most ", options_.max_max_tokens));
  }
  if (r.temperature && !(*r.temperature >= 0 && *r.temperature <= 2)) {
    v.Add("temperature", "must be between 0 and 2");
  }
  if (r.constraints.max_cost_usd < 0) v.Add("constraints.max_cost_usd", "must not be negative");
  if (!r.model.empty()) {
    auto models = Models();
    if (std::none_of(models->begin(), models->end(),
                     [&](const ModelSpec& m) { return m.id == r.model; })) {
      v.Add("model", "unknown model '" + r.model + "'; ListModels shows the registry");
    }
  }
  return v.ToStatus();
}

absl::StatusOr<Selection> Router::Select(const CompletionRequest& request, const CallContext&) {
  GENESIS_RETURN_IF_ERROR(Validate(request));
  auto models = Models();
  const absl::Time now = clock_->Now();
  SelectionInputs in{models.get(), &config_.policies,
                     [&](const std::string& id) { return health_.Health(id, now); },
                     options_.default_max_tokens};
  return SelectModels(request, in);
}

absl::StatusOr<Completion> Router::Complete(const CompletionRequest& request,
                                            const CallContext& ctx) {
  return Run(request, nullptr, ctx);
}

absl::StatusOr<Completion> Router::StreamComplete(const CompletionRequest& request,
                                                  const TextSink& sink, const CallContext& ctx) {
  return Run(request, &sink, ctx);
}

absl::StatusOr<Completion> Router::Run(const CompletionRequest& request, const TextSink* sink,
                                       const CallContext& ctx) {
  const absl::Time start = clock_->Now();
  GENESIS_RETURN_IF_ERROR(Validate(request));
  auto models = Models();
  SelectionInputs in{models.get(), &config_.policies,
                     [&](const std::string& id) { return health_.Health(id, start); },
                     options_.default_max_tokens};
  Selection sel = SelectModels(request, in);
  if (absl::Status st = sel.ToStatus(); !st.ok()) {
    Account(request, sel, nullptr, st, clock_->Now() - start, sink != nullptr, false, ctx);
    return st;
  }
  const bool sandbox = Sandbox(request.subject, ctx);
  std::vector<const ModelSpec*> order;
  for (const auto& id : sel.Order()) {
    for (const auto& m : *models) {
      if (m.id == id) order.push_back(&m);
    }
  }
  // Never for sensitive requests (P0: the caller's flag or personal data).
  const bool cacheable = cache_ && !request.no_cache && !sel.sensitive;
  std::string cache_key;
  if (cacheable) {
    cache_key = ResponseCacheKey(request, sel.task, sel.max_tokens);
    if (auto hit = cache_->Get(cache_key, ctx)) {
      RouterMetrics::Inc(metrics_.cache_hits);
      return Cached(request, sel, *hit, sink, start, sandbox, ctx);
    }
    RouterMetrics::Inc(metrics_.cache_misses);
  } else {
    RouterMetrics::Inc(metrics_.cache_skipped);
  }
  if (absl::Status st = CheckBudget(request, start, ctx); !st.ok()) {
    Account(request, sel, nullptr, st, clock_->Now() - start, sink != nullptr, sandbox, ctx);
    return st;
  }
  ExecutionParams params{&request.messages, sel.max_tokens, request.temperature, ctx.deadline,
                         ctx.is_cancelled};
  // A stream's text is kept here only to fill the cache.
  std::string streamed_text;
  TextSink keeping;
  if (sink && cacheable) {
    keeping = [&](std::string_view text) {
      streamed_text.append(text);
      return (*sink)(text);
    };
  }
  Execution ex = executor_.Run(order, params, sink && cacheable ? &keeping : sink);
  const absl::Duration latency = clock_->Now() - start;
  Account(request, sel, &ex, ex.status, latency, sink != nullptr, sandbox, ctx);
  if (!ex.status.ok()) {
    if (ex.status.code() == absl::StatusCode::kUnavailable ||
        ex.status.code() == absl::StatusCode::kDeadlineExceeded) {
      RetryRecord r{ctx.request_id,
                    request.subject,
                    request.agent,
                    sel.task,
                    RequestJson(request),
                    AttemptsJson(ex.attempts),
                    MaskPii(std::string(ex.status.message()))};
      if (auto st = store_->EnqueueRetry(r, CallContext::Background(absl::Seconds(2))); !st.ok()) {
        log_->warn("could not keep the failed request in the retry queue: {}", st.message());
      }
    }
    return ex.status;
  }
  Completion c;
  c.text = sink ? "" : ex.reply.text;
  c.model_id = ex.model->id;
  c.provider = ex.model->provider;
  c.usage = ex.reply.usage;
  c.cost_usd = ex.model->Cost(c.usage.input_tokens, c.usage.output_tokens);
  c.latency = latency;
  c.attempts = std::move(ex.attempts);
  c.task = sel.task;
  c.sensitive = sel.sensitive;
  c.finish_reason = ex.reply.finish_reason;
  c.simulated = ex.model->simulated;
  c.sandbox = sandbox;
  if (cacheable) {
    cache_->Put(cache_key,
                CachedAnswer{sink ? streamed_text : ex.reply.text, c.model_id, c.provider,
                             c.finish_reason, c.simulated},
                ctx);
  }
  return c;
}

ExecutionRecord Router::Record(const CompletionRequest& request, const Selection& sel,
                               absl::Duration latency, bool streamed, bool sandbox,
                               const CallContext& ctx) const {
  ExecutionRecord r;
  r.request_id = ctx.request_id;
  r.subject = request.subject;
  r.agent = request.agent;
  r.task = sel.task;
  r.latency = latency;
  r.sensitive = sel.sensitive;
  r.streamed = streamed;
  r.sandbox = sandbox;
  r.time = clock_->Now();
  if (options_.record_content) {
    for (const auto& m : request.messages) r.prompt += MaskPii(m.content) + "\n";
  }
  return r;
}

void Router::Account(const CompletionRequest& request, const Selection& sel, const Execution* ex,
                     const absl::Status& status, absl::Duration latency, bool streamed,
                     bool sandbox, const CallContext& ctx) {
  ExecutionRecord r = Record(request, sel, latency, streamed, sandbox, ctx);
  r.outcome = status.ok() ? "ok" : (ex ? "failed" : "rejected");
  r.error = MaskPii(std::string(status.message()));
  if (ex) {
    r.attempts = static_cast<int>(ex->attempts.size());
    if (ex->model) {
      r.model_id = ex->model->id;
      r.provider = ex->model->provider;
      r.usage = ex->reply.usage;
      r.cost_usd = ex->model->Cost(r.usage.input_tokens, r.usage.output_tokens);
      r.simulated = ex->model->simulated;
    }
    if (options_.record_content) r.response = MaskPii(ex->reply.text);
  }
  Write(r);
}

void Router::Write(const ExecutionRecord& r) {
  // The answer is already paid for: a failed write must not fail the call.
  auto alerts = store_->RecordExecution(r, CallContext::Background(absl::Seconds(2)));
  if (!alerts.ok()) {
    log_->warn("could not record the execution: {}", alerts.status().message());
  } else {
    for (const auto& a : *alerts) {
      RouterMetrics::Inc(metrics_.budget_alerts);
      log_->warn(
          "budget alert: {} '{}' used {} tokens / {:.6f} USD on {}, past {:.0f}% of its day "
          "budget ({} tokens / {:.6f} USD)",
          BudgetScopeName(a.scope), a.owner, a.used_tokens, a.used_cost_usd, a.day,
          kBudgetAlertRatio * 100, a.token_limit, a.cost_limit_usd);
    }
  }
  log_->info(
      "task={} model={} outcome={} cached={} sandbox={} attempts={} tokens={}/{} cost_usd={:.6f} "
      "latency_ms={:.1f} sensitive={}",
      TaskName(r.task), r.model_id.empty() ? "-" : r.model_id, r.outcome, r.cached, r.sandbox,
      r.attempts, r.usage.input_tokens, r.usage.output_tokens, r.cost_usd,
      absl::ToDoubleMilliseconds(r.latency), r.sensitive);
}

std::vector<ModelSpec> Router::ListModels() const { return *Models(); }

absl::StatusOr<ModelSpec> Router::GetModel(const std::string& name) const {
  const std::string id = ModelId(name);
  for (const auto& m : *Models()) {
    if (m.id == id) return m;
  }
  if (id.empty()) return InvalidField("name", "is required: models/{model}");
  return absl::NotFoundError("model " + name + " not found");
}

absl::StatusOr<ModelSpec> Router::UpdateModel(const std::string& name, const ModelSpec& values,
                                              const std::vector<std::string>& mask,
                                              const CallContext& ctx) {
  GENESIS_ASSIGN_OR_RETURN(ModelSpec m, GetModel(name));
  FieldViolations v;
  if (mask.empty()) v.Add("update_mask", "names no field to update");
  for (const auto& path : mask) {
    if (path == "enabled") {
      m.enabled = values.enabled;
    } else if (path == "input_price_per_mtok" || path == "output_price_per_mtok") {
      double price = path == "input_price_per_mtok" ? values.input_price_per_mtok
                                                    : values.output_price_per_mtok;
      if (price < 0) v.Add("model." + path, "must not be negative");
      (path == "input_price_per_mtok" ? m.input_price_per_mtok : m.output_price_per_mtok) = price;
    } else if (path == "context_window") {
      if (values.context_window <= 0) v.Add("model.context_window", "must be positive");
      m.context_window = values.context_window;
    } else if (path == "capabilities") {
      m.capabilities = values.capabilities;
    } else if (path == "quality") {
      if (values.quality < 0 || values.quality > 100) v.Add("model.quality", "must be 0..100");
      m.quality = values.quality;
    } else {
      v.Add("update_mask", "cannot update '" + path +
                               "' (connection details come from the "
                               "configuration file)");
    }
  }
  GENESIS_RETURN_IF_ERROR(v.ToStatus());
  GENESIS_RETURN_IF_ERROR(store_->SaveTunables(m, ctx));
  std::lock_guard<std::mutex> lock(mu_);
  auto copy = std::make_shared<std::vector<ModelSpec>>(*models_);
  for (auto& s : *copy) {
    if (s.id == m.id) s = m;
  }
  models_ = std::move(copy);
  return m;
}

}  // namespace genesis::llmrouter
