#include "services/reasoning/reasoning.h"

#include <cmath>
#include <random>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "common/base/paging.h"
#include "common/base/status.h"
#include "common/base/text.h"
#include "services/reasoning/events.h"
#include "services/reasoning/reasons.h"
#include "services/reasoning/validation.h"

namespace genesis::reasoning {
namespace {

// A page token's position: a non-negative sequence number.
absl::StatusOr<int64_t> PagePosition(const std::string& token, absl::string_view kind,
                                     absl::string_view scope) {
  GENESIS_ASSIGN_OR_RETURN(std::string raw, DecodePageToken(token, kind, scope));
  int64_t position = 0;
  if (!absl::SimpleAtoi(raw, &position) || position < 0) {
    return InvalidField("page_token", "is not a token this service issued for this list");
  }
  return position;
}

absl::StatusOr<std::string> CaseIdFromName(const std::string& name, const std::string& field) {
  if (name.empty()) return InvalidField(field, "is required, e.g. \"cases/0193a...\"");
  auto id = ParseCaseName(name);
  if (!id)
    return InvalidField(field, absl::StrCat("'", name, "' is not a case name like cases/{id}"));
  return *id;
}

absl::Status RequireOpen(const Case& c, absl::string_view action) {
  if (c.state == CaseState::kOpen) return absl::OkStatus();
  return WithReason(absl::FailedPreconditionError(absl::StrCat(
                        "case '", CaseName(c.id), "' is ", CaseStateName(c.state), ": ", action,
                        " needs an OPEN case; reopen it first (ReopenCase with a reason)")),
                    reasons::kCaseNotOpen, {{"case", CaseName(c.id)}});
}

// Event times are kept to the microsecond, as PostgreSQL and the API store them.
absl::Time Micros(absl::Time t) { return absl::FromUnixMicros(absl::ToUnixMicros(t)); }

std::string Actor(const CallContext& ctx) {
  return ctx.subject.empty() ? "anonymous" : ctx.subject;
}

}  // namespace

std::string EtagOf(int64_t version) { return absl::StrCat(version); }

InferenceInput InferenceInputOf(const Case& c) {
  InferenceInput in;
  const size_t H = c.hypotheses.size();
  in.priors.reserve(H);
  for (const auto& h : c.hypotheses) in.priors.push_back(h.prior);
  in.evidence.reserve(c.evidence.size());
  in.evidence_labels.reserve(c.evidence.size());
  for (const auto& e : c.evidence) {
    InferenceInput::Item item;
    item.reliability = e.reliability;
    item.likelihoods.assign(H, kUnratedLikelihood);
    for (size_t i = 0; i < e.ratings.size(); ++i) {
      const Rating& r = e.ratings[i];
      // Ratings usually follow the hypotheses' order: try the same position first.
      size_t h = i < H && c.hypotheses[i].id == r.hypothesis_id ? i : H;
      for (size_t j = 0; h == H && j < H; ++j) {
        if (c.hypotheses[j].id == r.hypothesis_id) h = j;
      }
      if (h == H) continue;  // validated on input; never happens
      item.likelihoods[h] = r.likelihood ? *r.likelihood : AchLikelihood(r.ach);
    }
    in.evidence.push_back(std::move(item));
    in.evidence_labels.push_back(absl::StrCat("'", EvidenceName(c.id, e.id), "'"));
  }
  return in;
}

Reasoning::Reasoning(std::unique_ptr<ReasoningStore> store,
                     std::unique_ptr<SuggestionClient> suggestions, ReasoningOptions options,
                     ReasoningMetrics metrics)
    : store_(std::move(store)),
      suggestions_(suggestions ? std::move(suggestions)
                               : std::make_unique<UnconfiguredSuggestionClient>()),
      options_(std::move(options)),
      metrics_(metrics) {}

std::string Reasoning::NewCaseId() {
  // Time-ordered (UUIDv7 layout) so new rows land at the end of the index.
  thread_local std::mt19937_64 rng(std::random_device{}());
  const uint64_t ms = static_cast<uint64_t>(absl::ToUnixMillis(options_.clock->Now()));
  const uint64_t r1 = rng(), r2 = rng();
  return absl::StrFormat("%08x-%04x-7%03x-%04x-%012x", (ms >> 16) & 0xffffffff, ms & 0xffff,
                         r1 & 0xfff, 0x8000 | ((r1 >> 12) & 0x3fff), r2 & 0xffffffffffff);
}

std::optional<absl::StatusOr<Case>> Reasoning::EarlierAttempt(const std::string& case_id,
                                                              const RequestKey& key, EventType type,
                                                              absl::string_view resource,
                                                              const CallContext& ctx) {
  auto prior = store_->FindRequest(case_id, key.request_id, ctx);
  if (!prior.ok()) return absl::StatusOr<Case>(prior.status());
  if (!prior->has_value()) return std::nullopt;
  const Event& e = **prior;
  if (e.type != type || e.request_hash != key.request_hash) {
    return absl::StatusOr<Case>(RequestIdReused(key.request_id, resource));
  }
  return ReplayToVersion(e.case_id, e.version, ctx);
}

absl::StatusOr<Case> Reasoning::ReplayToVersion(const std::string& id, int64_t version,
                                                const CallContext& ctx) {
  Case c;
  while (c.version < version) {
    GENESIS_ASSIGN_OR_RETURN(EventPage page,
                             store_->ListEvents(id, c.version, std::nullopt, 1000, ctx));
    for (const auto& e : page.events) {
      if (e.version > version) break;
      GENESIS_RETURN_IF_ERROR(Apply(e, &c));
    }
    if (!page.more) break;
  }
  if (c.version != version) {
    return absl::InternalError(absl::StrCat("case '", CaseName(id), "' has no event ", version));
  }
  return c;
}

absl::StatusOr<Case> Reasoning::Mutate(
    const std::string& id, const std::string& etag, EventType type,
    const std::optional<RequestKey>& key, const CallContext& ctx,
    const std::function<absl::Status(const Case&, Event*)>& build) {
  const absl::string_view resource = type == EventType::kEvidenceAdded ? "evidence" : "hypothesis";
  if (key) {
    if (auto earlier = EarlierAttempt(id, *key, type, resource, ctx)) return *std::move(earlier);
  }
  GENESIS_ASSIGN_OR_RETURN(Case current,
                           WithReasonFor(store_->GetCase(id, ctx), absl::StatusCode::kNotFound,
                                         reasons::kCaseNotFound, {{"case", CaseName(id)}}));
  if (!etag.empty() && etag != EtagOf(current.version)) {
    return WithReason(
        absl::AbortedError(absl::StrCat("etag '", etag, "' is stale: case '", CaseName(id),
                                        "' changed (current etag '", EtagOf(current.version),
                                        "'); read it again and retry")),
        reasons::kEtagMismatch, {{"case", CaseName(id)}});
  }
  Event event;
  event.case_id = id;
  event.version = current.version + 1;
  event.type = type;
  event.actor = Actor(ctx);
  // Never before the previous event, so replaying "as of" a time is monotonic.
  event.time = std::max(Micros(options_.clock->Now()), current.update_time);
  if (key) {
    event.request_id = key->request_id;
    event.request_hash = key->request_hash;
  }
  GENESIS_RETURN_IF_ERROR(build(current, &event));
  Case after = std::move(current);
  GENESIS_RETURN_IF_ERROR(Apply(event, &after));
  if (absl::Status appended = store_->Append(event, after, ctx); !appended.ok()) {
    // A concurrent attempt with the same key got there first: its result.
    if (key && appended.code() == absl::StatusCode::kAlreadyExists) {
      if (auto earlier = EarlierAttempt(id, *key, type, resource, ctx)) return *std::move(earlier);
    }
    return appended;
  }
  if (metrics_.events) metrics_.events->Inc();
  return after;
}

absl::StatusOr<Case> Reasoning::CreateCase(const Case& c, const std::string& request_id,
                                           const CallContext& ctx) {
  FieldViolations v;
  ValidateCaseFields(c, "case", options_.max_text_bytes, &v);
  CheckRequestId("request_id", request_id, &v);
  GENESIS_RETURN_IF_ERROR(v.ToStatus());
  const std::optional<RequestKey> key =
      MakeRequestKey(request_id, {c.question, c.context, c.owner});
  if (key) {
    if (auto earlier = EarlierAttempt("", *key, EventType::kCaseCreated, "case", ctx)) {
      return *std::move(earlier);
    }
  }
  Event event;
  event.case_id = NewCaseId();
  event.version = 1;
  event.type = EventType::kCaseCreated;
  event.actor = Actor(ctx);
  event.time = Micros(options_.clock->Now());
  event.data = {{"question", c.question}, {"context", c.context}, {"owner", c.owner}};
  if (key) {
    event.request_id = key->request_id;
    event.request_hash = key->request_hash;
  }
  Case created;
  GENESIS_RETURN_IF_ERROR(Apply(event, &created));
  if (absl::Status appended = store_->Append(event, created, ctx); !appended.ok()) {
    if (key && appended.code() == absl::StatusCode::kAlreadyExists) {
      if (auto earlier = EarlierAttempt("", *key, EventType::kCaseCreated, "case", ctx)) {
        return *std::move(earlier);
      }
    }
    return appended;
  }
  if (metrics_.events) metrics_.events->Inc();
  return created;
}

absl::StatusOr<Case> Reasoning::Replay(const std::string& id, absl::Time as_of,
                                       const CallContext& ctx) {
  Case c;
  int64_t after = 0;
  while (true) {
    GENESIS_ASSIGN_OR_RETURN(EventPage page, store_->ListEvents(id, after, as_of, 1000, ctx));
    for (const auto& e : page.events) GENESIS_RETURN_IF_ERROR(Apply(e, &c));
    if (!page.more) break;
    after = c.version;
  }
  if (c.version == 0) {
    return WithReason(
        absl::NotFoundError(absl::StrCat("case '", CaseName(id), "' did not exist yet at ",
                                         absl::FormatTime(as_of, absl::UTCTimeZone()))),
        reasons::kCaseNotFound, {{"case", CaseName(id)}});
  }
  return c;
}

absl::StatusOr<Case> Reasoning::GetCase(const std::string& name, std::optional<absl::Time> as_of,
                                        const CallContext& ctx) {
  GENESIS_ASSIGN_OR_RETURN(std::string id, CaseIdFromName(name, "name"));
  if (as_of) return Replay(id, *as_of, ctx);
  return WithReasonFor(store_->GetCase(id, ctx), absl::StatusCode::kNotFound,
                       reasons::kCaseNotFound, {{"case", CaseName(id)}});
}

absl::StatusOr<Page<Case>> Reasoning::ListCases(int page_size, const std::string& page_token,
                                                const CallContext& ctx) {
  GENESIS_ASSIGN_OR_RETURN(int limit,
                           PageSize(page_size, options_.default_page_size, options_.max_page_size));
  int64_t after = 0;
  if (!page_token.empty()) {
    GENESIS_ASSIGN_OR_RETURN(after, PagePosition(page_token, "cases", "-"));
  }
  GENESIS_ASSIGN_OR_RETURN(CaseSummaryPage page, store_->ListCases(after, limit, ctx));
  Page<Case> out;
  out.values = std::move(page.cases);
  if (page.more) out.next_page_token = EncodePageToken("cases", "-", absl::StrCat(page.last_seq));
  return out;
}

absl::StatusOr<Case> Reasoning::UpdateCase(const std::string& name, const Case& fields,
                                           const std::vector<std::string>& mask,
                                           const std::string& etag, const CallContext& ctx) {
  GENESIS_ASSIGN_OR_RETURN(std::string id, CaseIdFromName(name, "case.name"));
  if (mask.empty()) return InvalidField("update_mask", "names no field to update");
  for (const auto& path : mask) {
    if (path != "question" && path != "context" && path != "owner") {
      return InvalidField("update_mask", absl::StrCat("'", path,
                                                      "' cannot be updated; use question, "
                                                      "context and/or owner"));
    }
  }
  return Mutate(id, etag, EventType::kCaseUpdated, std::nullopt, ctx, [&](const Case& c, Event* e) {
    GENESIS_RETURN_IF_ERROR(RequireOpen(c, "UpdateCase"));
    Case updated = c;
    for (const auto& path : mask) {
      const std::string& value = path == "question"  ? fields.question
                                 : path == "context" ? fields.context
                                                     : fields.owner;
      e->data[path] = value;
      (path == "question"  ? updated.question
       : path == "context" ? updated.context
                           : updated.owner) = value;
    }
    FieldViolations v;
    ValidateCaseFields(updated, "case", options_.max_text_bytes, &v);
    return v.ToStatus();
  });
}

absl::StatusOr<Case> Reasoning::CreateHypothesis(const std::string& parent, const Hypothesis& h,
                                                 const std::string& etag,
                                                 const std::string& request_id,
                                                 const CallContext& ctx) {
  GENESIS_ASSIGN_OR_RETURN(std::string id, CaseIdFromName(parent, "parent"));
  FieldViolations v;
  ValidateHypothesis(h, options_.max_text_bytes, &v);
  CheckRequestId("request_id", request_id, &v);
  GENESIS_RETURN_IF_ERROR(v.ToStatus());
  const std::optional<RequestKey> key = MakeRequestKey(request_id, HypothesisData(h));
  return Mutate(id, etag, EventType::kHypothesisAdded, key, ctx, [&](const Case& c, Event* e) {
    GENESIS_RETURN_IF_ERROR(RequireOpen(c, "CreateHypothesis"));
    if (static_cast<int>(c.hypotheses.size()) >= options_.max_hypotheses) {
      return WithReason(
          absl::FailedPreconditionError(absl::StrCat("case '", CaseName(c.id), "' already has ",
                                                     c.hypotheses.size(),
                                                     " hypotheses, the limit")),
          reasons::kHypothesisLimit,
          {{"case", CaseName(c.id)}, {"limit", absl::StrCat(options_.max_hypotheses)}});
    }
    for (const auto& other : c.hypotheses) {
      if (h.none_of_these && other.none_of_these) {
        return InvalidField(
            "hypothesis.none_of_these",
            absl::StrCat("the case already has one: '", HypothesisName(c.id, other.id), "'"));
      }
    }
    Hypothesis added = h;
    added.id = absl::StrCat("h", c.hypotheses.size() + 1);
    if (added.statement.empty()) added.statement = "None of these";
    e->data = HypothesisData(added);
    return absl::OkStatus();
  });
}

absl::StatusOr<Case> Reasoning::CreateEvidence(const std::string& parent, const Evidence& e,
                                               const std::string& etag,
                                               const std::string& request_id,
                                               const CallContext& ctx) {
  GENESIS_ASSIGN_OR_RETURN(std::string id, CaseIdFromName(parent, "parent"));
  {
    FieldViolations v;
    CheckRequestId("request_id", request_id, &v);
    GENESIS_RETURN_IF_ERROR(v.ToStatus());
  }
  const std::optional<RequestKey> key = MakeRequestKey(request_id, EvidenceData(e));
  return Mutate(id, etag, EventType::kEvidenceAdded, key, ctx, [&](const Case& c, Event* ev) {
    Evidence added = e;
    FieldViolations v;
    ValidateEvidence(c, &added, options_.max_text_bytes, &v);
    GENESIS_RETURN_IF_ERROR(v.ToStatus());
    GENESIS_RETURN_IF_ERROR(RequireOpen(c, "CreateEvidence"));
    if (static_cast<int>(c.evidence.size()) >= options_.max_evidence) {
      return WithReason(absl::FailedPreconditionError(
                            absl::StrCat("case '", CaseName(c.id), "' already has ",
                                         c.evidence.size(), " evidence items, the limit")),
                        reasons::kEvidenceLimit,
                        {{"case", CaseName(c.id)}, {"limit", absl::StrCat(options_.max_evidence)}});
    }
    added.id = absl::StrCat("e", c.evidence.size() + 1);
    added.observe_time =
        added.observe_time == absl::InfinitePast() ? ev->time : Micros(added.observe_time);
    ev->data = EvidenceData(added);
    return absl::OkStatus();
  });
}

absl::StatusOr<InferenceResult> Reasoning::Compute(const Case& c) {
  const absl::Time start = absl::Now();
  auto result = Infer(InferenceInputOf(c));
  if (metrics_.inference_seconds) {
    metrics_.inference_seconds->Observe(absl::ToDoubleSeconds(absl::Now() - start));
  }
  return result;
}

absl::StatusOr<CaseInference> Reasoning::InferCase(const std::string& name,
                                                   std::optional<absl::Time> as_of,
                                                   const CallContext& ctx) {
  GENESIS_ASSIGN_OR_RETURN(std::string id, CaseIdFromName(name, "name"));
  // The current state comes from the lean projection read; a past one from replay.
  GENESIS_ASSIGN_OR_RETURN(
      Case c,
      WithReasonFor(as_of ? Replay(id, *as_of, ctx) : store_->GetCaseForInference(id, ctx),
                    absl::StatusCode::kNotFound, reasons::kCaseNotFound, {{"case", CaseName(id)}}));
  GENESIS_ASSIGN_OR_RETURN(InferenceResult result, Compute(c));
  return CaseInference{std::move(c), std::move(result)};
}

absl::StatusOr<Case> Reasoning::DecideCase(const std::string& name, const DecideParams& p,
                                           const CallContext& ctx) {
  GENESIS_ASSIGN_OR_RETURN(std::string id, CaseIdFromName(name, "name"));
  FieldViolations v;
  if (p.hypothesis.empty()) v.Add("hypothesis", "is required");
  CheckText("rationale", p.rationale, true, options_.max_text_bytes, &v);
  CheckText("override_reason", p.override_reason, false, options_.max_text_bytes, &v);
  if (p.confidence && !(*p.confidence >= 0 && *p.confidence <= 1)) {
    v.Add("confidence", absl::StrCat(*p.confidence, " is outside [0, 1]"));
  }
  GENESIS_RETURN_IF_ERROR(v.ToStatus());
  bool overridden = false;
  auto after =
      Mutate(id, p.etag, EventType::kDecided, std::nullopt, ctx, [&](const Case& c, Event* e) {
        GENESIS_RETURN_IF_ERROR(RequireOpen(c, "DecideCase"));
        auto hid = ParseHypothesisRef(p.hypothesis, c.id);
        size_t chosen = c.hypotheses.size();
        for (size_t i = 0; hid && i < c.hypotheses.size(); ++i) {
          if (c.hypotheses[i].id == *hid) chosen = i;
        }
        if (chosen == c.hypotheses.size()) {
          return InvalidField(
              "hypothesis",
              absl::StrCat("'", p.hypothesis, "' is not a hypothesis of ", CaseName(c.id)));
        }
        Decision d;
        d.hypothesis_id = c.hypotheses[chosen].id;
        d.rationale = p.rationale;
        d.override_reason = p.override_reason;
        auto result = Compute(c);
        if (result.ok()) {
          d.leading_hypothesis_id = c.hypotheses[result->leading].id;
          d.posterior = result->posterior[chosen];
          // A hypothesis tied with the leader counts as leading.
          overridden = result->log_posterior[chosen] < result->log_posterior[result->leading];
          if (overridden && p.override_reason.empty()) {
            return WithReason(
                absl::FailedPreconditionError(absl::StrFormat(
                    "hypothesis: '%s' is not the leading hypothesis ('%s', posterior %.4g against "
                    "%.4g); give override_reason to choose it anyway",
                    HypothesisName(c.id, d.hypothesis_id),
                    HypothesisName(c.id, d.leading_hypothesis_id),
                    result->posterior[result->leading], d.posterior)),
                reasons::kOverrideReasonRequired,
                {{"leading_hypothesis", HypothesisName(c.id, d.leading_hypothesis_id)}});
          }
        } else if (result.status().code() == absl::StatusCode::kFailedPrecondition) {
          if (p.override_reason.empty()) {
            return WithReason(
                absl::FailedPreconditionError(absl::StrCat(
                    "hypothesis: the leading hypothesis cannot be computed (",
                    result.status().message(), "); give override_reason to decide anyway")),
                reasons::kOverrideReasonRequired);
          }
          overridden = true;
        } else {
          return result.status();
        }
        d.confidence = p.confidence.value_or(d.posterior);
        e->data = DecisionData(d);
        return absl::OkStatus();
      });
  if (after.ok()) {
    Counter* counter = overridden ? metrics_.overridden_decisions : metrics_.decisions;
    if (counter) counter->Inc();
  }
  return after;
}

absl::StatusOr<Case> Reasoning::CloseCase(const std::string& name, const std::string& etag,
                                          const CallContext& ctx) {
  GENESIS_ASSIGN_OR_RETURN(std::string id, CaseIdFromName(name, "name"));
  return Mutate(id, etag, EventType::kClosed, std::nullopt, ctx, [&](const Case& c, Event*) {
    if (c.state == CaseState::kDecided) return absl::OkStatus();
    return WithReason(absl::FailedPreconditionError(
                          c.state == CaseState::kOpen
                              ? absl::StrCat("case '", CaseName(id),
                                             "' is OPEN: decide it (DecideCase) before closing")
                              : absl::StrCat("case '", CaseName(id), "' is already CLOSED")),
                      reasons::kCaseStateConflict,
                      {{"case", CaseName(id)}, {"state", std::string(CaseStateName(c.state))}});
  });
}

absl::StatusOr<Case> Reasoning::ReopenCase(const std::string& name, const std::string& reason,
                                           const std::string& etag, const CallContext& ctx) {
  GENESIS_ASSIGN_OR_RETURN(std::string id, CaseIdFromName(name, "name"));
  FieldViolations v;
  CheckText("reason", reason, true, options_.max_text_bytes, &v);
  GENESIS_RETURN_IF_ERROR(v.ToStatus());
  return Mutate(id, etag, EventType::kReopened, std::nullopt, ctx, [&](const Case& c, Event* e) {
    if (c.state == CaseState::kOpen) {
      return WithReason(
          absl::FailedPreconditionError(absl::StrCat("case '", CaseName(id), "' is already OPEN")),
          reasons::kCaseStateConflict, {{"case", CaseName(id)}, {"state", "OPEN"}});
    }
    e->data = {{"reason", reason}};
    return absl::OkStatus();
  });
}

absl::StatusOr<Page<Event>> Reasoning::ListCaseEvents(const std::string& parent, int page_size,
                                                      const std::string& page_token,
                                                      const CallContext& ctx) {
  GENESIS_ASSIGN_OR_RETURN(std::string id, CaseIdFromName(parent, "parent"));
  GENESIS_ASSIGN_OR_RETURN(int limit, PageSize(page_size, options_.default_event_page_size,
                                               options_.max_event_page_size));
  int64_t after = 0;
  if (!page_token.empty()) {
    GENESIS_ASSIGN_OR_RETURN(after, PagePosition(page_token, "events", id));
  }
  GENESIS_ASSIGN_OR_RETURN(EventPage page, store_->ListEvents(id, after, std::nullopt, limit, ctx));
  Page<Event> out;
  out.values = std::move(page.events);
  if (page.more && !out.values.empty()) {
    out.next_page_token = EncodePageToken("events", id, absl::StrCat(out.values.back().version));
  }
  return out;
}

absl::StatusOr<HypothesisSuggestions> Reasoning::SuggestHypotheses(const std::string& name,
                                                                   int max_suggestions,
                                                                   const AssistOptions& options,
                                                                   const CallContext& ctx) {
  if (max_suggestions < 0 || max_suggestions > 20) {
    return InvalidField("max_suggestions", "must be from 0 (default 5) to 20");
  }
  GENESIS_ASSIGN_OR_RETURN(Case c, GetCase(name, std::nullopt, ctx));
  const int max = max_suggestions == 0 ? 5 : max_suggestions;
  GENESIS_ASSIGN_OR_RETURN(HypothesisSuggestions answer,
                           suggestions_->ProposeHypotheses(c, max, options, ctx));
  HypothesisSuggestions out;
  out.model = std::move(answer.model);
  out.dropped = answer.dropped;
  for (auto& s : answer.suggestions) {
    if (static_cast<int>(out.suggestions.size()) == max) break;  // surplus: not "dropped"
    if (s.statement.empty() || !(s.prior >= 0) || !std::isfinite(s.prior)) {
      ++out.dropped;
      continue;
    }
    out.suggestions.push_back(std::move(s));
  }
  return out;
}

absl::StatusOr<RatingSuggestions> Reasoning::SuggestRatings(const std::string& name,
                                                            const Evidence& draft,
                                                            const AssistOptions& options,
                                                            const CallContext& ctx) {
  FieldViolations v;
  CheckText("evidence.description", draft.description, true, options_.max_text_bytes, &v);
  GENESIS_RETURN_IF_ERROR(v.ToStatus());
  GENESIS_ASSIGN_OR_RETURN(Case c, GetCase(name, std::nullopt, ctx));
  if (c.hypotheses.empty()) {
    return WithReason(
        absl::FailedPreconditionError(
            absl::StrCat("case '", CaseName(c.id), "' has no hypotheses to rate evidence against")),
        reasons::kNoHypotheses, {{"case", CaseName(c.id)}});
  }
  GENESIS_ASSIGN_OR_RETURN(RatingSuggestions answer,
                           suggestions_->RateEvidence(c, draft, options, ctx));
  RatingSuggestions out;
  out.model = std::move(answer.model);
  out.dropped = answer.dropped;
  for (auto& s : answer.suggestions) {
    Evidence probe;
    probe.description = "-";
    probe.reliability = 1;
    probe.ratings = {s.rating};
    FieldViolations checked;
    ValidateEvidence(c, &probe, options_.max_text_bytes, &checked);
    if (!checked.empty()) {  // the model named no hypothesis of the case, or a bad number
      ++out.dropped;
      continue;
    }
    s.rating = probe.ratings[0];
    out.suggestions.push_back(std::move(s));
  }
  return out;
}

}  // namespace genesis::reasoning
