// The Reasoning service's transport: genesis.reasoning.v1.ReasoningService on
// the gRPC callback API. It only converts protos to domain types and back and
// runs the logic on the dispatcher; errors are converted once, in RpcDispatcher.
#pragma once

#include "common/rpc/rpc.h"
#include "genesis/reasoning/v1/reasoning.grpc.pb.h"
#include "services/reasoning/reasoning.h"

namespace genesis::reasoning {

class ReasoningGrpcService final : public v1::ReasoningService::CallbackService {
 public:
  // Pointers must outlive the service.
  ReasoningGrpcService(Reasoning* logic, RpcDispatcher* dispatcher)
      : logic_(logic), dispatcher_(dispatcher) {}

  using Reactor = grpc::ServerUnaryReactor;
  using Ctx = grpc::CallbackServerContext;

  Reactor* CreateCase(Ctx* ctx, const v1::CreateCaseRequest* req, v1::Case* resp) override;
  Reactor* GetCase(Ctx* ctx, const v1::GetCaseRequest* req, v1::Case* resp) override;
  Reactor* ListCases(Ctx* ctx, const v1::ListCasesRequest* req,
                     v1::ListCasesResponse* resp) override;
  Reactor* UpdateCase(Ctx* ctx, const v1::UpdateCaseRequest* req, v1::Case* resp) override;
  Reactor* CreateHypothesis(Ctx* ctx, const v1::CreateHypothesisRequest* req,
                            v1::Hypothesis* resp) override;
  Reactor* CreateEvidence(Ctx* ctx, const v1::CreateEvidenceRequest* req,
                          v1::Evidence* resp) override;
  Reactor* InferCase(Ctx* ctx, const v1::InferCaseRequest* req, v1::Inference* resp) override;
  Reactor* DecideCase(Ctx* ctx, const v1::DecideCaseRequest* req, v1::Case* resp) override;
  Reactor* CloseCase(Ctx* ctx, const v1::CloseCaseRequest* req, v1::Case* resp) override;
  Reactor* ReopenCase(Ctx* ctx, const v1::ReopenCaseRequest* req, v1::Case* resp) override;
  Reactor* ListCaseEvents(Ctx* ctx, const v1::ListCaseEventsRequest* req,
                          v1::ListCaseEventsResponse* resp) override;
  Reactor* SuggestHypotheses(Ctx* ctx, const v1::SuggestHypothesesRequest* req,
                             v1::SuggestHypothesesResponse* resp) override;
  Reactor* SuggestRatings(Ctx* ctx, const v1::SuggestRatingsRequest* req,
                          v1::SuggestRatingsResponse* resp) override;

 private:
  Reasoning* logic_;
  RpcDispatcher* dispatcher_;
};

}  // namespace genesis::reasoning
