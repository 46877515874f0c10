// Calling administrative methods (proto/genesis/api/v1/access.proto) in tests
// over a plaintext gRPC server, as the gateway does: the server trusts
// TestGatewayTrust() and the client sends an operator's identity with the
// shared secret (AsOperator).
#pragma once

#include <string>

#include <grpcpp/client_context.h>

#include "common/rpc/call_path.h"

namespace genesis::testing {

inline constexpr char kTestGatewaySecret[] = "test-gateway-secret";

// The trust of a service started with --gateway_secret=kTestGatewaySecret.
inline IdentityTrust TestGatewayTrust() { return IdentityTrust{kTestGatewaySecret, {}, {}}; }

// Makes the call `ctx` an operator's, forwarded by the gateway.
inline void AsOperator(grpc::ClientContext* ctx, const std::string& subject = "test-operator",
                       const std::string& roles = "admin") {
  ctx->AddMetadata("x-genesis-gateway-auth", kTestGatewaySecret);
  ctx->AddMetadata("x-genesis-subject", subject);
  ctx->AddMetadata("x-genesis-roles", roles);
}

}  // namespace genesis::testing
