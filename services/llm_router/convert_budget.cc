#include <google/protobuf/util/time_util.h>

#include "common/base/status.h"
#include "services/llm_router/convert.h"

namespace genesis::llmrouter {

absl::StatusOr<Budget> FromProto(const v1::Budget& p) {
  FieldViolations v;
  Budget b;
  switch (p.scope()) {
    case v1::BUDGET_SCOPE_SUBJECT:
      b.scope = BudgetScope::kSubject;
      break;
    case v1::BUDGET_SCOPE_AGENT:
      b.scope = BudgetScope::kAgent;
      break;
    default:
      v.Add("budget.scope", "must be BUDGET_SCOPE_SUBJECT or BUDGET_SCOPE_AGENT");
  }
  switch (p.period()) {
    case v1::BUDGET_PERIOD_DAY:
      b.period = BudgetPeriod::kDay;
      break;
    case v1::BUDGET_PERIOD_MONTH:
      b.period = BudgetPeriod::kMonth;
      break;
    default:
      v.Add("budget.period", "must be BUDGET_PERIOD_DAY or BUDGET_PERIOD_MONTH");
  }
  GENESIS_RETURN_IF_ERROR(v.ToStatus());
  b.owner = p.owner();
  b.token_limit = p.token_limit();
  b.cost_limit_usd = p.cost_limit_usd();
  return b;
}

v1::Budget ToProto(const Budget& b) {
  v1::Budget p;
  p.set_scope(b.scope == BudgetScope::kAgent ? v1::BUDGET_SCOPE_AGENT : v1::BUDGET_SCOPE_SUBJECT);
  p.set_owner(b.owner);
  p.set_period(b.period == BudgetPeriod::kMonth ? v1::BUDGET_PERIOD_MONTH : v1::BUDGET_PERIOD_DAY);
  p.set_token_limit(b.token_limit);
  p.set_cost_limit_usd(b.cost_limit_usd);
  p.set_used_tokens(b.used_tokens);
  p.set_used_cost_usd(b.used_cost_usd);
  return p;
}

absl::StatusOr<UsageQuery> FromProto(const v1::GetUsageReportRequest& req) {
  using google::protobuf::util::TimeUtil;
  UsageQuery q;
  q.subject = req.subject();
  q.agent = req.agent();
  q.model_id = req.model();
  if (req.has_start_time()) {
    q.start = absl::FromUnixMicros(TimeUtil::TimestampToMicroseconds(req.start_time()));
  }
  if (req.has_end_time()) {
    q.end = absl::FromUnixMicros(TimeUtil::TimestampToMicroseconds(req.end_time()));
  }
  for (int g : req.group_by()) {
    switch (g) {
      case v1::USAGE_GROUP_BY_DAY:
        q.group_by.push_back(UsageGroupBy::kDay);
        break;
      case v1::USAGE_GROUP_BY_MODEL:
        q.group_by.push_back(UsageGroupBy::kModel);
        break;
      case v1::USAGE_GROUP_BY_SUBJECT:
        q.group_by.push_back(UsageGroupBy::kSubject);
        break;
      case v1::USAGE_GROUP_BY_AGENT:
        q.group_by.push_back(UsageGroupBy::kAgent);
        break;
      default:
        return InvalidField("group_by", "must be DAY, MODEL, SUBJECT or AGENT");
    }
  }
  return q;
}

v1::UsageRow ToProto(const UsageRow& r) {
  v1::UsageRow p;
  p.set_day(r.day);
  if (!r.model_id.empty()) p.set_model("models/" + r.model_id);
  p.set_subject(r.subject);
  p.set_agent(r.agent);
  p.set_requests(r.requests);
  p.set_cached(r.cached);
  p.set_failed(r.failed);
  p.set_input_tokens(r.input_tokens);
  p.set_output_tokens(r.output_tokens);
  p.set_cost_usd(r.cost_usd);
  return p;
}

}  // namespace genesis::llmrouter
