// The one client of the LLM router (genesis.llmrouter.v1.LlmRouterService/
// Complete) for the services that ask it: reasoning's LLM assist, voice's
// spoken replies and the bot manager's replies. The caller builds the
// CompleteRequest (messages, task, agent, sizes, flags); the client adds what
// every call to another service needs:
//   deadline    the caller's (ctx.deadline), capped at `max_timeout` from now;
//               DEADLINE_EXCEEDED without calling when no time is left
//   request id  ctx.request_id as `x-request-id`, so the router's log lines
//               of the call carry the caller's id
//   identity    ctx.subject as the request's `subject` (accounting and
//               budgets on whose behalf) when the caller set none
//
// Errors (DownstreamStatus in common/base/status.h):
//   FAILED_PRECONDITION  the router's verdict, with its message (rule P0 left
//                        no model, e.g. no local model for a sensitive request)
//   RESOURCE_EXHAUSTED   the router's verdict (a budget is spent)
//   DEADLINE_EXCEEDED    the deadline passed first
//   CANCELLED            the call was cancelled
//   INTERNAL             the router refused the request as invalid (a bug in
//                        the caller)
//   UNAVAILABLE          the router is unreachable, every model failed, or
//                        any other error of the router
// Messages never name the router's address: when the call did not reach the
// router (no connection, TLS refused, the name did not resolve) the message
// is "LLM router unavailable (gRPC code N): not reachable" and gRPC's own
// text, which holds the address, is only logged (logger "llm_router_client",
// with the request id). Thread-safe.
#pragma once

#include <memory>
#include <string>

#include <grpcpp/security/credentials.h>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/rpc/call_context.h"
#include "genesis/llmrouter/v1/llm_router.grpc.pb.h"

namespace genesis {

class LlmRouterClient {
 public:
  virtual ~LlmRouterClient() = default;
  // Asks the router to complete `request` for the call `ctx` (see above).
  virtual absl::StatusOr<llmrouter::v1::CompleteResponse> Complete(
      llmrouter::v1::CompleteRequest request, const CallContext& ctx) = 0;
};

struct LlmRouterClientOptions {
  // Each call ends by the caller's deadline or after this long, whichever is first.
  absl::Duration max_timeout = absl::Seconds(60);
  // gRPC's reconnect backoff grows to 120 s by default: after a long router
  // outage the channel would stay failed well after the router is back. This
  // bounds what the outage costs beyond itself.
  absl::Duration max_reconnect_backoff = absl::Seconds(5);
};

// LlmRouterClient over a gRPC stub (a real one from MakeLlmRouterClient, or a
// mock stub in tests).
class GrpcLlmRouterClient final : public LlmRouterClient {
 public:
  GrpcLlmRouterClient(std::unique_ptr<llmrouter::v1::LlmRouterService::StubInterface> stub,
                      LlmRouterClientOptions options)
      : stub_(std::move(stub)), options_(options) {}

  absl::StatusOr<llmrouter::v1::CompleteResponse> Complete(llmrouter::v1::CompleteRequest request,
                                                           const CallContext& ctx) override;

 private:
  std::unique_ptr<llmrouter::v1::LlmRouterService::StubInterface> stub_;
  const LlmRouterClientOptions options_;
};

// Over a mesh channel (common/rpc/mesh_channel.h: round_robin over every
// address of `address`, e.g. dns:///llm-router:50051, keepalive) with
// `credentials`, which main() builds with MeshChannelCredentials(tls)
// (common/rpc/tls.h). The channel connects lazily: an unreachable router
// shows up as UNAVAILABLE per call.
[[nodiscard]] std::unique_ptr<LlmRouterClient> MakeLlmRouterClient(
    const std::string& address, std::shared_ptr<grpc::ChannelCredentials> credentials,
    LlmRouterClientOptions options = {});

}  // namespace genesis
