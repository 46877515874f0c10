#include "services/reasoning/grpc_service.h"

#include "services/reasoning/convert.h"
#include "services/reasoning/events.h"

namespace genesis::reasoning {
namespace {

std::optional<absl::Time> AsOf(bool has, const google::protobuf::Timestamp& t) {
  if (!has) return std::nullopt;
  return TimeFromProto(t);
}

// https://google.aip.dev/134: a mask without paths means the fields the caller set.
std::vector<std::string> CaseMaskOrPopulated(const v1::UpdateCaseRequest& req) {
  if (req.update_mask().paths_size() > 0) {
    return {req.update_mask().paths().begin(), req.update_mask().paths().end()};
  }
  std::vector<std::string> paths;
  if (!req.case_().question().empty()) paths.push_back("question");
  if (!req.case_().context().empty()) paths.push_back("context");
  if (!req.case_().owner().empty()) paths.push_back("owner");
  return paths;
}

}  // namespace

grpc::ServerUnaryReactor* ReasoningGrpcService::CreateCase(Ctx* ctx,
                                                           const v1::CreateCaseRequest* req,
                                                           v1::Case* resp) {
  return dispatcher_->Unary(ctx, "CreateCase", req, [=, this](const CallContext& call) {
    auto c = logic_->CreateCase(FromProto(req->case_()), req->request_id(), call);
    if (c.ok()) *resp = ToProto(*c);
    return c.status();
  });
}

grpc::ServerUnaryReactor* ReasoningGrpcService::GetCase(Ctx* ctx, const v1::GetCaseRequest* req,
                                                        v1::Case* resp) {
  return dispatcher_->Unary(ctx, "GetCase", req, [=, this](const CallContext& call) {
    auto c = logic_->GetCase(req->name(), AsOf(req->has_as_of(), req->as_of()), call);
    if (c.ok()) *resp = ToProto(*c);
    return c.status();
  });
}

grpc::ServerUnaryReactor* ReasoningGrpcService::ListCases(Ctx* ctx, const v1::ListCasesRequest* req,
                                                          v1::ListCasesResponse* resp) {
  return dispatcher_->Unary(ctx, "ListCases", req, [=, this](const CallContext& call) {
    auto page = logic_->ListCases(req->page_size(), req->page_token(), call);
    if (!page.ok()) return page.status();
    for (const auto& c : page->values) *resp->add_cases() = ToProto(c, /*full=*/false);
    resp->set_next_page_token(page->next_page_token);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* ReasoningGrpcService::UpdateCase(Ctx* ctx,
                                                           const v1::UpdateCaseRequest* req,
                                                           v1::Case* resp) {
  return dispatcher_->Unary(ctx, "UpdateCase", req, [=, this](const CallContext& call) {
    auto c = logic_->UpdateCase(req->case_().name(), FromProto(req->case_()),
                                CaseMaskOrPopulated(*req), req->case_().etag(), call);
    if (c.ok()) *resp = ToProto(*c);
    return c.status();
  });
}

grpc::ServerUnaryReactor* ReasoningGrpcService::CreateHypothesis(
    Ctx* ctx, const v1::CreateHypothesisRequest* req, v1::Hypothesis* resp) {
  return dispatcher_->Unary(ctx, "CreateHypothesis", req, [=, this](const CallContext& call) {
    auto c = logic_->CreateHypothesis(req->parent(), FromProto(req->hypothesis()), req->etag(),
                                      req->request_id(), call);
    if (c.ok()) *resp = ToProto(*c, c->hypotheses.back());
    return c.status();
  });
}

grpc::ServerUnaryReactor* ReasoningGrpcService::CreateEvidence(Ctx* ctx,
                                                               const v1::CreateEvidenceRequest* req,
                                                               v1::Evidence* resp) {
  return dispatcher_->Unary(ctx, "CreateEvidence", req, [=, this](const CallContext& call) {
    auto c = logic_->CreateEvidence(req->parent(), FromProto(req->evidence()), req->etag(),
                                    req->request_id(), call);
    if (c.ok()) *resp = ToProto(c->id, c->evidence.back());
    return c.status();
  });
}

grpc::ServerUnaryReactor* ReasoningGrpcService::InferCase(Ctx* ctx, const v1::InferCaseRequest* req,
                                                          v1::Inference* resp) {
  return dispatcher_->Unary(ctx, "InferCase", req, [=, this](const CallContext& call) {
    auto inference = logic_->InferCase(req->name(), AsOf(req->has_as_of(), req->as_of()), call);
    if (inference.ok()) *resp = ToProto(*inference);
    return inference.status();
  });
}

grpc::ServerUnaryReactor* ReasoningGrpcService::DecideCase(Ctx* ctx,
                                                           const v1::DecideCaseRequest* req,
                                                           v1::Case* resp) {
  return dispatcher_->Unary(ctx, "DecideCase", req, [=, this](const CallContext& call) {
    DecideParams params;
    params.hypothesis = req->hypothesis();
    params.rationale = req->rationale();
    if (req->has_confidence()) params.confidence = req->confidence();
    params.override_reason = req->override_reason();
    params.etag = req->etag();
    auto c = logic_->DecideCase(req->name(), params, call);
    if (c.ok()) *resp = ToProto(*c);
    return c.status();
  });
}

grpc::ServerUnaryReactor* ReasoningGrpcService::CloseCase(Ctx* ctx, const v1::CloseCaseRequest* req,
                                                          v1::Case* resp) {
  return dispatcher_->Unary(ctx, "CloseCase", req, [=, this](const CallContext& call) {
    auto c = logic_->CloseCase(req->name(), req->etag(), call);
    if (c.ok()) *resp = ToProto(*c);
    return c.status();
  });
}

grpc::ServerUnaryReactor* ReasoningGrpcService::ReopenCase(Ctx* ctx,
                                                           const v1::ReopenCaseRequest* req,
                                                           v1::Case* resp) {
  return dispatcher_->Unary(ctx, "ReopenCase", req, [=, this](const CallContext& call) {
    auto c = logic_->ReopenCase(req->name(), req->reason(), req->etag(), call);
    if (c.ok()) *resp = ToProto(*c);
    return c.status();
  });
}

grpc::ServerUnaryReactor* ReasoningGrpcService::ListCaseEvents(Ctx* ctx,
                                                               const v1::ListCaseEventsRequest* req,
                                                               v1::ListCaseEventsResponse* resp) {
  return dispatcher_->Unary(ctx, "ListCaseEvents", req, [=, this](const CallContext& call) {
    auto page = logic_->ListCaseEvents(req->parent(), req->page_size(), req->page_token(), call);
    if (!page.ok()) return page.status();
    for (const auto& e : page->values) *resp->add_events() = ToProto(e);
    resp->set_next_page_token(page->next_page_token);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* ReasoningGrpcService::SuggestHypotheses(
    Ctx* ctx, const v1::SuggestHypothesesRequest* req, v1::SuggestHypothesesResponse* resp) {
  return dispatcher_->Unary(ctx, "SuggestHypotheses", req, [=, this](const CallContext& call) {
    AssistOptions options;
    options.sensitive = req->sensitive();
    auto answer = logic_->SuggestHypotheses(req->name(), req->max_suggestions(), options, call);
    if (!answer.ok()) return answer.status();
    for (const auto& s : answer->suggestions) {
      auto* p = resp->add_suggestions();
      p->set_statement(s.statement);
      p->set_prior(s.prior);
      p->set_explanation(s.explanation);
    }
    resp->set_dropped_suggestions(answer->dropped);
    resp->set_model(answer->model);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* ReasoningGrpcService::SuggestRatings(Ctx* ctx,
                                                               const v1::SuggestRatingsRequest* req,
                                                               v1::SuggestRatingsResponse* resp) {
  return dispatcher_->Unary(ctx, "SuggestRatings", req, [=, this](const CallContext& call) {
    AssistOptions options;
    options.sensitive = req->sensitive();
    auto answer = logic_->SuggestRatings(req->name(), FromProto(req->evidence()), options, call);
    if (!answer.ok()) return answer.status();
    auto id = ParseCaseName(req->name());
    for (const auto& s : answer->suggestions) {
      auto* p = resp->add_suggestions();
      *p->mutable_rating() = ToProto(id.value_or(""), s.rating);
      p->set_explanation(s.explanation);
    }
    resp->set_dropped_suggestions(answer->dropped);
    resp->set_model(answer->model);
    return absl::OkStatus();
  });
}

}  // namespace genesis::reasoning
