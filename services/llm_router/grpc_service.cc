#include "services/llm_router/grpc_service.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "common/base/status.h"
#include "services/llm_router/convert.h"

namespace genesis::llmrouter {

grpc::ServerUnaryReactor* LlmRouterGrpcService::Complete(grpc::CallbackServerContext* ctx,
                                                         const v1::CompleteRequest* req,
                                                         v1::CompleteResponse* resp) {
  return dispatcher_->Unary(ctx, "Complete", req, [=, this](const CallContext& call) {
    auto c = router_->Complete(FromProto(*req), call);
    if (c.ok()) *resp = ToProto(*c);
    return c.status();
  });
}

grpc::ServerWriteReactor<v1::StreamCompleteResponse>* LlmRouterGrpcService::StreamComplete(
    grpc::CallbackServerContext* ctx, const v1::StreamCompleteRequest* req) {
  return stream_dispatcher_->ServerStream<v1::StreamCompleteResponse>(
      ctx, "StreamComplete", req,
      [=, this](const CallContext& call, StreamWriter<v1::StreamCompleteResponse>& out) {
        TextSink sink = [&](std::string_view text) {
          if (text.empty()) return true;
          v1::StreamCompleteResponse chunk;
          chunk.set_text(std::string(text));
          return out.Write(chunk);  // false: the client went away, stop the model
        };
        ToolCallSink tool_sink = [&](const ToolCallDelta& delta) {
          v1::StreamCompleteResponse chunk;
          *chunk.mutable_tool_call_delta() = ToProto(delta);
          return out.Write(chunk);
        };
        auto c = router_->StreamComplete(FromProto(*req), sink, call, &tool_sink);
        if (!c.ok()) return c.status();
        v1::StreamCompleteResponse last;
        *last.mutable_summary() = ToProto(*c);
        if (!out.Write(last)) return absl::CancelledError("the client went away");
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* LlmRouterGrpcService::Select(grpc::CallbackServerContext* ctx,
                                                       const v1::SelectRequest* req,
                                                       v1::SelectResponse* resp) {
  return dispatcher_->Unary(ctx, "Select", req, [=, this](const CallContext& call) {
    auto s = router_->Select(FromProto(req->request()), call);
    if (!s.ok()) {
      // Field paths are relative to the inner request.
      auto violations = FieldViolationsOf(s.status());
      if (violations.empty()) return s.status();
      FieldViolations v;
      for (auto& [field, what] : violations) v.Add("request." + field, what);
      return v.ToStatus();
    }
    *resp = ToProto(*s);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* LlmRouterGrpcService::ListModels(grpc::CallbackServerContext* ctx,
                                                           const v1::ListModelsRequest* req,
                                                           v1::ListModelsResponse* resp) {
  return dispatcher_->Unary(ctx, "ListModels", req, [=, this](const CallContext&) {
    if (req->page_size() < 0) return InvalidField("page_size", "must not be negative");
    const int size = req->page_size() == 0 ? 100 : std::min(req->page_size(), 1000);
    // The page token is the last model id of the previous page.
    const std::string& after = req->page_token();
    int added = 0;
    std::string last;
    bool more = false;
    for (const auto& m : router_->ListModels()) {  // sorted by id
      if (!after.empty() && m.id <= after) continue;
      if (added == size) {
        more = true;
        break;
      }
      *resp->add_models() = ToProto(m);
      last = m.id;
      ++added;
    }
    if (more) resp->set_next_page_token(last);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* LlmRouterGrpcService::GetModel(grpc::CallbackServerContext* ctx,
                                                         const v1::GetModelRequest* req,
                                                         v1::Model* resp) {
  return dispatcher_->Unary(ctx, "GetModel", req, [=, this](const CallContext&) {
    auto m = router_->GetModel(req->name());
    if (m.ok()) *resp = ToProto(*m);
    return m.status();
  });
}

grpc::ServerUnaryReactor* LlmRouterGrpcService::UpdateModel(grpc::CallbackServerContext* ctx,
                                                            const v1::UpdateModelRequest* req,
                                                            v1::Model* resp) {
  return dispatcher_->Unary(ctx, "UpdateModel", req, [=, this](const CallContext& call) {
    std::vector<std::string> mask(req->update_mask().paths().begin(),
                                  req->update_mask().paths().end());
    if (mask.empty()) {  // https://google.aip.dev/134: the fields that are set
      const auto& m = req->model();
      if (m.enabled()) mask.push_back("enabled");
      if (m.input_price_per_mtok() != 0) mask.push_back("input_price_per_mtok");
      if (m.output_price_per_mtok() != 0) mask.push_back("output_price_per_mtok");
      if (m.context_window() != 0) mask.push_back("context_window");
      if (m.capabilities_size() > 0) mask.push_back("capabilities");
      if (m.quality() != 0) mask.push_back("quality");
    }
    auto m = router_->UpdateModel(req->model().name(), TunablesFromProto(req->model()), mask, call);
    if (m.ok()) *resp = ToProto(*m);
    return m.status();
  });
}

grpc::ServerUnaryReactor* LlmRouterGrpcService::SetBudget(grpc::CallbackServerContext* ctx,
                                                          const v1::SetBudgetRequest* req,
                                                          v1::Budget* resp) {
  return dispatcher_->Unary(
      ctx, "SetBudget", req, [=, this](const CallContext& call) -> absl::Status {
        GENESIS_ASSIGN_OR_RETURN(Budget b, FromProto(req->budget()));
        GENESIS_RETURN_IF_ERROR(router_->SetBudget(b, call));
        GENESIS_ASSIGN_OR_RETURN(auto all, router_->ListBudgets(b.owner, call));
        for (const auto& x : all) {
          if (x.scope == b.scope && x.period == b.period) *resp = ToProto(x);
        }
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* LlmRouterGrpcService::ListBudgets(grpc::CallbackServerContext* ctx,
                                                            const v1::ListBudgetsRequest* req,
                                                            v1::ListBudgetsResponse* resp) {
  return dispatcher_->Unary(
      ctx, "ListBudgets", req, [=, this](const CallContext& call) -> absl::Status {
        GENESIS_ASSIGN_OR_RETURN(auto all, router_->ListBudgets(req->owner(), call));
        for (const auto& b : all) *resp->add_budgets() = ToProto(b);
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* LlmRouterGrpcService::GetUsageReport(grpc::CallbackServerContext* ctx,
                                                               const v1::GetUsageReportRequest* req,
                                                               v1::UsageReport* resp) {
  return dispatcher_->Unary(ctx, "GetUsageReport", req,
                            [=, this](const CallContext& call) -> absl::Status {
                              GENESIS_ASSIGN_OR_RETURN(UsageQuery q, FromProto(*req));
                              GENESIS_ASSIGN_OR_RETURN(auto rows, router_->UsageReport(q, call));
                              for (const auto& r : rows) *resp->add_rows() = ToProto(r);
                              return absl::OkStatus();
                            });
}

namespace {

// "subjects/{subject}/settings" -> subject; INVALID_ARGUMENT naming `field`.
absl::StatusOr<std::string> SubjectOfSettings(const std::string& name, const std::string& field) {
  constexpr std::string_view kPrefix = "subjects/", kSuffix = "/settings";
  if (name.size() <= kPrefix.size() + kSuffix.size() || name.rfind(kPrefix, 0) != 0 ||
      name.compare(name.size() - kSuffix.size(), kSuffix.size(), kSuffix) != 0) {
    return InvalidField(field, "must be subjects/{subject}/settings");
  }
  std::string subject = name.substr(kPrefix.size(), name.size() - kPrefix.size() - kSuffix.size());
  if (subject.find('/') != std::string::npos) {
    return InvalidField(field, "must be subjects/{subject}/settings");
  }
  return subject;
}

}  // namespace

grpc::ServerUnaryReactor* LlmRouterGrpcService::GetSubjectSettings(
    grpc::CallbackServerContext* ctx, const v1::GetSubjectSettingsRequest* req,
    v1::SubjectSettings* resp) {
  return dispatcher_->Unary(
      ctx, "GetSubjectSettings", req, [=, this](const CallContext& call) -> absl::Status {
        GENESIS_ASSIGN_OR_RETURN(std::string subject, SubjectOfSettings(req->name(), "name"));
        GENESIS_ASSIGN_OR_RETURN(bool sandbox, router_->GetSandbox(subject, call));
        resp->set_name(req->name());
        resp->set_sandbox(sandbox);
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* LlmRouterGrpcService::UpdateSubjectSettings(
    grpc::CallbackServerContext* ctx, const v1::UpdateSubjectSettingsRequest* req,
    v1::SubjectSettings* resp) {
  return dispatcher_->Unary(
      ctx, "UpdateSubjectSettings", req, [=, this](const CallContext& call) -> absl::Status {
        GENESIS_ASSIGN_OR_RETURN(std::string subject,
                                 SubjectOfSettings(req->settings().name(), "settings.name"));
        for (const auto& path : req->update_mask().paths()) {
          if (path != "sandbox") {
            return InvalidField("update_mask", "cannot update '" + path + "' (only sandbox)");
          }
        }
        GENESIS_RETURN_IF_ERROR(router_->SetSandbox(subject, req->settings().sandbox(), call));
        resp->set_name(req->settings().name());
        resp->set_sandbox(req->settings().sandbox());
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* LlmRouterGrpcService::RecordFeedback(grpc::CallbackServerContext* ctx,
                                                               const v1::RecordFeedbackRequest* req,
                                                               v1::Feedback* resp) {
  return dispatcher_->Unary(
      ctx, "RecordFeedback", req, [=, this](const CallContext& call) -> absl::Status {
        GENESIS_ASSIGN_OR_RETURN(int64_t id, ParseExecutionName(req->execution(), "execution"));
        GENESIS_ASSIGN_OR_RETURN(Feedback f, router_->RecordFeedback(FromProto(*req, id), call));
        *resp = ToProto(f);
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* LlmRouterGrpcService::CreateExperiment(
    grpc::CallbackServerContext* ctx, const v1::CreateExperimentRequest* req,
    v1::Experiment* resp) {
  return dispatcher_->Unary(
      ctx, "CreateExperiment", req, [=, this](const CallContext& call) -> absl::Status {
        GENESIS_ASSIGN_OR_RETURN(
            Experiment e,
            router_->CreateExperiment(FromProto(req->experiment_id(), req->experiment()),
                                      req->request_id(), call));
        *resp = ToProto(e);
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* LlmRouterGrpcService::GetExperiment(grpc::CallbackServerContext* ctx,
                                                              const v1::GetExperimentRequest* req,
                                                              v1::Experiment* resp) {
  return dispatcher_->Unary(
      ctx, "GetExperiment", req, [=, this](const CallContext& call) -> absl::Status {
        GENESIS_ASSIGN_OR_RETURN(Experiment e, router_->GetExperiment(req->name(), call));
        *resp = ToProto(e);
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* LlmRouterGrpcService::ListExperiments(
    grpc::CallbackServerContext* ctx, const v1::ListExperimentsRequest* req,
    v1::ListExperimentsResponse* resp) {
  return dispatcher_->Unary(
      ctx, "ListExperiments", req, [=, this](const CallContext& call) -> absl::Status {
        GENESIS_ASSIGN_OR_RETURN(
            auto page, router_->ListExperimentsPage(TaskFromProto(req->task()), req->running_only(),
                                                    req->page_size(), req->page_token(), call));
        for (const auto& e : page.experiments) *resp->add_experiments() = ToProto(e);
        resp->set_next_page_token(page.next_page_token);
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* LlmRouterGrpcService::StopExperiment(grpc::CallbackServerContext* ctx,
                                                               const v1::StopExperimentRequest* req,
                                                               v1::Experiment* resp) {
  return dispatcher_->Unary(
      ctx, "StopExperiment", req, [=, this](const CallContext& call) -> absl::Status {
        GENESIS_ASSIGN_OR_RETURN(Experiment e, router_->StopExperiment(req->name(), call));
        *resp = ToProto(e);
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* LlmRouterGrpcService::GetExperimentReport(
    grpc::CallbackServerContext* ctx, const v1::GetExperimentReportRequest* req,
    v1::ExperimentReport* resp) {
  return dispatcher_->Unary(
      ctx, "GetExperimentReport", req, [=, this](const CallContext& call) -> absl::Status {
        GENESIS_ASSIGN_OR_RETURN(auto arms, router_->ExperimentReport(req->name(), call));
        resp->set_name(req->name());
        for (const auto& a : arms) *resp->add_arms() = ToProto(a);
        return absl::OkStatus();
      });
}

}  // namespace genesis::llmrouter
