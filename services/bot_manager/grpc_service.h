// The bot manager's transport: genesis.bot.v1.BotManagerService and
// genesis.bot.v1.BotWebhookService on the gRPC callback API. Protos to domain
// types and back only; errors are converted once, in RpcDispatcher.
#pragma once

#include "common/rpc/rpc.h"
#include "genesis/bot/v1/bot_manager.grpc.pb.h"
#include "services/bot_manager/bot_manager.h"

namespace genesis::bot {

class BotManagerGrpcService final : public v1::BotManagerService::CallbackService {
 public:
  // Pointers must outlive the service.
  BotManagerGrpcService(BotManager* logic, RpcDispatcher* dispatcher)
      : logic_(logic), dispatcher_(dispatcher) {}

  grpc::ServerUnaryReactor* CreateBot(grpc::CallbackServerContext* ctx,
                                      const v1::CreateBotRequest* req, v1::Bot* resp) override;
  grpc::ServerUnaryReactor* GetBot(grpc::CallbackServerContext* ctx, const v1::GetBotRequest* req,
                                   v1::Bot* resp) override;
  grpc::ServerUnaryReactor* ListBots(grpc::CallbackServerContext* ctx,
                                     const v1::ListBotsRequest* req,
                                     v1::ListBotsResponse* resp) override;
  grpc::ServerUnaryReactor* UpdateBot(grpc::CallbackServerContext* ctx,
                                      const v1::UpdateBotRequest* req, v1::Bot* resp) override;
  grpc::ServerUnaryReactor* DeleteBot(grpc::CallbackServerContext* ctx,
                                      const v1::DeleteBotRequest* req,
                                      google::protobuf::Empty* resp) override;
  grpc::ServerUnaryReactor* ListConversations(grpc::CallbackServerContext* ctx,
                                              const v1::ListConversationsRequest* req,
                                              v1::ListConversationsResponse* resp) override;
  grpc::ServerUnaryReactor* GetConversation(grpc::CallbackServerContext* ctx,
                                            const v1::GetConversationRequest* req,
                                            v1::Conversation* resp) override;
  grpc::ServerUnaryReactor* ListHandoffQueue(grpc::CallbackServerContext* ctx,
                                             const v1::ListHandoffQueueRequest* req,
                                             v1::ListHandoffQueueResponse* resp) override;
  grpc::ServerUnaryReactor* ClaimConversation(grpc::CallbackServerContext* ctx,
                                              const v1::ClaimConversationRequest* req,
                                              v1::Conversation* resp) override;
  grpc::ServerUnaryReactor* ReplyToConversation(grpc::CallbackServerContext* ctx,
                                                const v1::ReplyToConversationRequest* req,
                                                v1::Message* resp) override;
  grpc::ServerUnaryReactor* ReleaseConversation(grpc::CallbackServerContext* ctx,
                                                const v1::ReleaseConversationRequest* req,
                                                v1::Conversation* resp) override;
  grpc::ServerUnaryReactor* CreateProactiveMessage(grpc::CallbackServerContext* ctx,
                                                   const v1::CreateProactiveMessageRequest* req,
                                                   v1::ProactiveMessage* resp) override;
  grpc::ServerUnaryReactor* GetProactiveMessage(grpc::CallbackServerContext* ctx,
                                                const v1::GetProactiveMessageRequest* req,
                                                v1::ProactiveMessage* resp) override;
  grpc::ServerUnaryReactor* ApproveProactiveMessage(grpc::CallbackServerContext* ctx,
                                                    const v1::ApproveProactiveMessageRequest* req,
                                                    v1::ProactiveMessage* resp) override;
  grpc::ServerUnaryReactor* EraseContact(grpc::CallbackServerContext* ctx,
                                         const v1::EraseContactRequest* req,
                                         v1::EraseContactResponse* resp) override;
  grpc::ServerUnaryReactor* ListInboxEntries(grpc::CallbackServerContext* ctx,
                                             const v1::ListInboxEntriesRequest* req,
                                             v1::ListInboxEntriesResponse* resp) override;
  grpc::ServerUnaryReactor* ListOutboxEntries(grpc::CallbackServerContext* ctx,
                                              const v1::ListOutboxEntriesRequest* req,
                                              v1::ListOutboxEntriesResponse* resp) override;

 private:
  BotManager* logic_;
  RpcDispatcher* dispatcher_;
};

class BotWebhookGrpcService final : public v1::BotWebhookService::CallbackService {
 public:
  BotWebhookGrpcService(BotManager* logic, RpcDispatcher* dispatcher)
      : logic_(logic), dispatcher_(dispatcher) {}

  grpc::ServerUnaryReactor* VerifyWhatsAppWebhook(grpc::CallbackServerContext* ctx,
                                                  const v1::VerifyWhatsAppWebhookRequest* req,
                                                  google::api::HttpBody* resp) override;
  grpc::ServerUnaryReactor* ReceiveWhatsAppWebhook(grpc::CallbackServerContext* ctx,
                                                   const v1::ReceiveWhatsAppWebhookRequest* req,
                                                   v1::WebhookAck* resp) override;
  grpc::ServerUnaryReactor* ReceiveTelegramWebhook(grpc::CallbackServerContext* ctx,
                                                   const v1::ReceiveTelegramWebhookRequest* req,
                                                   v1::WebhookAck* resp) override;
  grpc::ServerUnaryReactor* ReceiveMattermostWebhook(grpc::CallbackServerContext* ctx,
                                                     const v1::ReceiveMattermostWebhookRequest* req,
                                                     v1::WebhookAck* resp) override;
  grpc::ServerUnaryReactor* ReceiveAlexaRequest(grpc::CallbackServerContext* ctx,
                                                const v1::ReceiveAlexaRequestRequest* req,
                                                google::api::HttpBody* resp) override;

 private:
  grpc::ServerUnaryReactor* Receive(grpc::CallbackServerContext* ctx, const char* method,
                                    Channel channel, const std::string& bot,
                                    const google::api::HttpBody& body, v1::WebhookAck* resp);

  BotManager* logic_;
  RpcDispatcher* dispatcher_;
};

}  // namespace genesis::bot
