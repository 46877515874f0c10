// The router's transport: genesis.llmrouter.v1.LlmRouterService on the gRPC
// callback API. It only converts protos to domain types and back and runs
// the logic on the dispatchers (unary: common/rpc/rpc.h; StreamComplete:
// common/rpc/stream_rpc.h); errors are converted once, in the dispatchers.
#pragma once

#include "common/rpc/rpc.h"
#include "common/rpc/stream_rpc.h"
#include "genesis/llmrouter/v1/llm_router.grpc.pb.h"
#include "services/llm_router/router.h"

namespace genesis::llmrouter {

class LlmRouterGrpcService final : public v1::LlmRouterService::CallbackService {
 public:
  // Pointers must outlive the service.
  LlmRouterGrpcService(Router* router, RpcDispatcher* dispatcher,
                       ServerStreamDispatcher* stream_dispatcher)
      : router_(router), dispatcher_(dispatcher), stream_dispatcher_(stream_dispatcher) {}

  grpc::ServerUnaryReactor* Complete(grpc::CallbackServerContext* ctx,
                                     const v1::CompleteRequest* req,
                                     v1::CompleteResponse* resp) override;
  // Text messages as the model produces them, then one message with the
  // summary. A client that goes away stops the model's stream.
  grpc::ServerWriteReactor<v1::StreamCompleteResponse>* StreamComplete(
      grpc::CallbackServerContext* ctx, const v1::StreamCompleteRequest* req) override;
  grpc::ServerUnaryReactor* Select(grpc::CallbackServerContext* ctx, const v1::SelectRequest* req,
                                   v1::SelectResponse* resp) override;
  grpc::ServerUnaryReactor* ListModels(grpc::CallbackServerContext* ctx,
                                       const v1::ListModelsRequest* req,
                                       v1::ListModelsResponse* resp) override;
  grpc::ServerUnaryReactor* GetModel(grpc::CallbackServerContext* ctx,
                                     const v1::GetModelRequest* req, v1::Model* resp) override;
  grpc::ServerUnaryReactor* UpdateModel(grpc::CallbackServerContext* ctx,
                                        const v1::UpdateModelRequest* req,
                                        v1::Model* resp) override;
  grpc::ServerUnaryReactor* SetBudget(grpc::CallbackServerContext* ctx,
                                      const v1::SetBudgetRequest* req, v1::Budget* resp) override;
  grpc::ServerUnaryReactor* ListBudgets(grpc::CallbackServerContext* ctx,
                                        const v1::ListBudgetsRequest* req,
                                        v1::ListBudgetsResponse* resp) override;
  grpc::ServerUnaryReactor* GetSubjectSettings(grpc::CallbackServerContext* ctx,
                                               const v1::GetSubjectSettingsRequest* req,
                                               v1::SubjectSettings* resp) override;
  grpc::ServerUnaryReactor* UpdateSubjectSettings(grpc::CallbackServerContext* ctx,
                                                  const v1::UpdateSubjectSettingsRequest* req,
                                                  v1::SubjectSettings* resp) override;
  grpc::ServerUnaryReactor* GetUsageReport(grpc::CallbackServerContext* ctx,
                                           const v1::GetUsageReportRequest* req,
                                           v1::UsageReport* resp) override;

  grpc::ServerUnaryReactor* RecordFeedback(grpc::CallbackServerContext* ctx,
                                           const v1::RecordFeedbackRequest* req,
                                           v1::Feedback* resp) override;
  grpc::ServerUnaryReactor* CreateExperiment(grpc::CallbackServerContext* ctx,
                                             const v1::CreateExperimentRequest* req,
                                             v1::Experiment* resp) override;
  grpc::ServerUnaryReactor* GetExperiment(grpc::CallbackServerContext* ctx,
                                          const v1::GetExperimentRequest* req,
                                          v1::Experiment* resp) override;
  grpc::ServerUnaryReactor* ListExperiments(grpc::CallbackServerContext* ctx,
                                            const v1::ListExperimentsRequest* req,
                                            v1::ListExperimentsResponse* resp) override;
  grpc::ServerUnaryReactor* StopExperiment(grpc::CallbackServerContext* ctx,
                                           const v1::StopExperimentRequest* req,
                                           v1::Experiment* resp) override;
  grpc::ServerUnaryReactor* GetExperimentReport(grpc::CallbackServerContext* ctx,
                                                const v1::GetExperimentReportRequest* req,
                                                v1::ExperimentReport* resp) override;

 private:
  Router* router_;
  RpcDispatcher* dispatcher_;
  ServerStreamDispatcher* stream_dispatcher_;
};

}  // namespace genesis::llmrouter
