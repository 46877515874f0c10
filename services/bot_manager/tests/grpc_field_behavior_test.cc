// The bot manager's two services over a real gRPC channel (the facade on the
// in-memory fakes of bot_manager_fixture.h): every REQUIRED field of every
// method (from the descriptors) is refused when empty, naming its path, and
// OUTPUT_ONLY fields in creates and updates are not (required_fields.h).
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "common/rpc/rpc.h"
#include "common/runtime/server.h"
#include "services/bot_manager/grpc_service.h"
#include "services/bot_manager/tests/bot_manager_fixture.h"
#include "tests/testing/operator_identity.h"
#include "tests/testing/required_fields.h"

namespace genesis::bot {
namespace {

class BotGrpcFieldBehaviorTest : public BotManagerTest {
 protected:
  void SetUp() override {
    BotManagerTest::SetUp();
    workers_ = std::make_unique<WorkerPool>("test", 4, 64);
    dispatcher_ = std::make_unique<RpcDispatcher>("genesis.bot.v1.BotManagerService",
                                                  workers_.get(), &grpc_registry_, absl::Seconds(5),
                                                  genesis::testing::TestGatewayTrust());
    service_ = std::make_unique<BotManagerGrpcService>(logic_.get(), dispatcher_.get());
    webhooks_ = std::make_unique<BotWebhookGrpcService>(logic_.get(), dispatcher_.get());
    ServerOptions options;
    options.metrics_port = -1;
    host_ = std::make_unique<ServiceHost>(options, &grpc_registry_);
    host_->AddService(service_.get(), "genesis.bot.v1.BotManagerService");
    host_->AddService(webhooks_.get(), "genesis.bot.v1.BotWebhookService");
    ASSERT_TRUE(host_->Start().ok());
    channel_ = grpc::CreateChannel("127.0.0.1:" + std::to_string(host_->grpc_port()),
                                   grpc::InsecureChannelCredentials());
  }
  void TearDown() override {
    host_->Shutdown();
    workers_->Shutdown();
  }

  MetricsRegistry grpc_registry_;
  std::unique_ptr<WorkerPool> workers_;
  std::unique_ptr<RpcDispatcher> dispatcher_;
  std::unique_ptr<BotManagerGrpcService> service_;
  std::unique_ptr<BotWebhookGrpcService> webhooks_;
  std::unique_ptr<ServiceHost> host_;
  std::shared_ptr<grpc::Channel> channel_;
};

TEST_F(BotGrpcFieldBehaviorTest, FieldBehavioursAgreeWithWhatTheServicesRefuse) {
  CreateWa();
  auto seen =
      genesis::testing::ExpectRequiredFieldsRefused(channel_, "genesis.bot.v1.BotManagerService");
  for (const char* want :
       {"CreateBotRequest:bot_id", "CreateBotRequest:bot.channel",
        "ReplyToConversationRequest:text", "CreateProactiveMessageRequest:proactive_message.text",
        "CreateBotRequest:bot.create_time (output only)"}) {
    EXPECT_TRUE(seen.count(want)) << want;
  }
  auto hooks =
      genesis::testing::ExpectRequiredFieldsRefused(channel_, "genesis.bot.v1.BotWebhookService");
  EXPECT_TRUE(hooks.count("ReceiveTelegramWebhookRequest:bot"));
}

}  // namespace
}  // namespace genesis::bot
