// A fake genesis.llmrouter.v1.LlmRouterService for tests of the services'
// router clients: records the last request, its deadline and request id;
// answers `text`, fails with `status`, or hangs until the caller gives up.
#pragma once

#include <grpcpp/grpcpp.h>

#include <mutex>
#include <string>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "genesis/llmrouter/v1/llm_router.grpc.pb.h"

namespace genesis::testing {

class FakeLlmRouter final : public llmrouter::v1::LlmRouterService::Service {
 public:
  grpc::Status Complete(grpc::ServerContext* ctx, const llmrouter::v1::CompleteRequest* req,
                        llmrouter::v1::CompleteResponse* resp) override {
    std::lock_guard lock(mu);
    last_request = *req;
    last_deadline = absl::FromChrono(ctx->deadline());
    auto md = ctx->client_metadata().find("x-request-id");
    last_request_id =
        md == ctx->client_metadata().end() ? "" : std::string(md->second.data(), md->second.size());
    ++calls;
    if (hang) {
      // Until the client gives up (a poll with its own bound, not a wait for time).
      const absl::Time give_up = absl::Now() + absl::Seconds(10);
      while (!ctx->IsCancelled() && absl::Now() < give_up) absl::SleepFor(absl::Milliseconds(1));
      return grpc::Status(grpc::StatusCode::CANCELLED, "gone");
    }
    if (!status.ok()) return status;
    resp->set_text(text);
    resp->set_model("models/sim-local");
    resp->set_sensitive(req->sensitive());
    resp->set_simulated(true);
    return grpc::Status::OK;
  }

  // A GET-mapped method (retried by mesh channels): counted, fails with
  // `status` too.
  grpc::Status ListModels(grpc::ServerContext*, const llmrouter::v1::ListModelsRequest*,
                          llmrouter::v1::ListModelsResponse* resp) override {
    std::lock_guard lock(mu);
    ++list_calls;
    if (!status.ok()) return status;
    resp->add_models()->set_name("models/sim-local");
    return grpc::Status::OK;
  }

  std::mutex mu;
  llmrouter::v1::CompleteRequest last_request;
  absl::Time last_deadline;
  std::string last_request_id;
  int calls = 0;       // Complete
  int list_calls = 0;  // ListModels
  std::string text;    // the answer
  grpc::Status status;
  bool hang = false;
};

}  // namespace genesis::testing
