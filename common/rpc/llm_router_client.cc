#include "common/rpc/llm_router_client.h"

#include <grpcpp/client_context.h>

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/base/status.h"
#include "common/rpc/mesh_channel.h"
#include "common/runtime/logging.h"

namespace genesis {
namespace {

namespace llm = llmrouter::v1;

constexpr char kService[] = "LLM router";

// True when the call was carried by a connection to the router, so the
// status (and its text) is the router's. A call that never got one (refused,
// unresolved, TLS handshake failed) has no peer address: gRPC then reports
// the channel's target, never a resolved "ipv4:"/"ipv6:"/"unix:" address.
bool ReachedRouter(const grpc::ClientContext& call) {
  const std::string peer = call.peer();
  return absl::StartsWith(peer, "ipv4:") || absl::StartsWith(peer, "ipv6:") ||
         absl::StartsWith(peer, "unix:");
}

}  // namespace

absl::StatusOr<llm::CompleteResponse> GrpcLlmRouterClient::Complete(llm::CompleteRequest request,
                                                                    const CallContext& ctx) {
  const absl::Time deadline = std::min(ctx.deadline, absl::Now() + options_.max_timeout);
  if (absl::Now() >= deadline) {
    return absl::DeadlineExceededError("no time was left to ask the LLM router");
  }
  if (request.subject().empty()) request.set_subject(ctx.subject);
  grpc::ClientContext call;
  call.set_deadline(absl::ToChronoTime(deadline));
  if (!ctx.request_id.empty()) call.AddMetadata("x-request-id", ctx.request_id);
  llm::CompleteResponse response;
  const grpc::Status status = stub_->Complete(&call, request, &response);
  if (status.ok()) return response;
  switch (status.error_code()) {
    // The router's verdicts, and outcomes whose text is gRPC's own without
    // an address ("Deadline Exceeded").
    case grpc::StatusCode::FAILED_PRECONDITION:
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
    case grpc::StatusCode::CANCELLED:
      return DownstreamStatus(status, kService);
    default:
      break;
  }
  if (ReachedRouter(call)) return DownstreamStatus(status, kService);
  // gRPC's own text names the router's address: for the log only.
  Logger("llm_router_client")
      ->warn("request_id={} the LLM router was not reached: code={} {}", ctx.request_id,
             static_cast<int>(status.error_code()), status.error_message());
  return absl::UnavailableError(absl::StrCat(kService, " unavailable (gRPC code ",
                                             static_cast<int>(status.error_code()),
                                             "): not reachable"));
}

std::unique_ptr<LlmRouterClient> MakeLlmRouterClient(
    const std::string& address, std::shared_ptr<grpc::ChannelCredentials> credentials,
    LlmRouterClientOptions options) {
  MeshChannelOptions mesh;
  mesh.max_reconnect_backoff = options.max_reconnect_backoff;
  mesh.idempotent_services = {llm::LlmRouterService::service_full_name()};
  auto channel = MakeMeshChannel(address, std::move(credentials), mesh);
  return std::make_unique<GrpcLlmRouterClient>(llm::LlmRouterService::NewStub(channel), options);
}

}  // namespace genesis
