// The caller identity the gateway forwards is trusted only with its secret.
#include <gtest/gtest.h>

#include "common/rpc/call_path.h"

namespace genesis {
namespace {

using Md = std::multimap<grpc::string_ref, grpc::string_ref>;

TEST(ForwardedIdentityTest, TrustedOnlyWithTheGatewaySecret) {
  Md md{{"x-genesis-gateway-auth", "s3cret"},
        {"x-genesis-subject", "alice"},
        {"x-genesis-roles", "bot,viewer"}};
  CallContext call;
  EXPECT_TRUE(ReadForwardedIdentity(md, "s3cret", &call));
  EXPECT_EQ(call.subject, "alice");
  EXPECT_EQ(call.roles, (std::vector<std::string>{"bot", "viewer"}));

  for (const std::string& configured :
       {std::string("other!"), std::string("s3cre"), std::string("")}) {
    CallContext ignored;
    EXPECT_FALSE(ReadForwardedIdentity(md, configured, &ignored)) << configured;
    EXPECT_EQ(ignored.subject, "");
    EXPECT_TRUE(ignored.roles.empty());
  }
  Md no_secret{{"x-genesis-subject", "mallory"}, {"x-genesis-roles", "admin"}};
  CallContext forged;
  EXPECT_FALSE(ReadForwardedIdentity(no_secret, "s3cret", &forged));
  EXPECT_EQ(forged.subject, "");
}

}  // namespace
}  // namespace genesis
