// The router's transport: genesis.llmrouter.v1.LlmRouterService on the gRPC
// callback API. It only converts protos to domain types and back and runs
// the logic on the dispatcher; errors are converted once, in RpcDispatcher.
// StreamComplete is not served yet (UNIMPLEMENTED): common/rpc.h handles
// unary calls only; see README.md.
#pragma once

#include "common/rpc.h"
#include "genesis/llmrouter/v1/llm_router.grpc.pb.h"
#include "services/llm_router/router.h"

namespace genesis::llmrouter {

class LlmRouterGrpcService final : public v1::LlmRouterService::CallbackService {
 public:
  // Pointers must outlive the service.
  LlmRouterGrpcService(Router* router, RpcDispatcher* dispatcher)
      : router_(router), dispatcher_(dispatcher) {}

  grpc::ServerUnaryReactor* Complete(grpc::CallbackServerContext* ctx,
                                     const v1::CompleteRequest* req,
                                     v1::CompleteResponse* resp) override;
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

 private:
  Router* router_;
  RpcDispatcher* dispatcher_;
};

}  // namespace genesis::llmrouter
