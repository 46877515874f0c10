// The Catalog's transport: genesis.catalog.v1.CatalogService on the gRPC
// callback API. It only converts protos to domain types and back and runs
// the logic on the dispatcher; errors are converted once, in RpcDispatcher.
#pragma once

#include "common/rpc/rpc.h"
#include "genesis/catalog/v1/catalog.grpc.pb.h"
#include "services/catalog/catalog.h"

namespace genesis::catalog {

class CatalogGrpcService final : public v1::CatalogService::CallbackService {
 public:
  // Pointers must outlive the service.
  CatalogGrpcService(Catalog* catalog, RpcDispatcher* dispatcher)
      : catalog_(catalog), dispatcher_(dispatcher) {}

  grpc::ServerUnaryReactor* CreateItemType(grpc::CallbackServerContext* ctx,
                                           const v1::CreateItemTypeRequest* req,
                                           v1::ItemType* resp) override;
  grpc::ServerUnaryReactor* GetItemType(grpc::CallbackServerContext* ctx,
                                        const v1::GetItemTypeRequest* req,
                                        v1::ItemType* resp) override;
  grpc::ServerUnaryReactor* ListItemTypes(grpc::CallbackServerContext* ctx,
                                          const v1::ListItemTypesRequest* req,
                                          v1::ListItemTypesResponse* resp) override;
  grpc::ServerUnaryReactor* UpdateItemType(grpc::CallbackServerContext* ctx,
                                           const v1::UpdateItemTypeRequest* req,
                                           v1::ItemType* resp) override;
  grpc::ServerUnaryReactor* DeleteItemType(grpc::CallbackServerContext* ctx,
                                           const v1::DeleteItemTypeRequest* req,
                                           google::protobuf::Empty* resp) override;
  grpc::ServerUnaryReactor* CreateItem(grpc::CallbackServerContext* ctx,
                                       const v1::CreateItemRequest* req, v1::Item* resp) override;
  grpc::ServerUnaryReactor* GetItem(grpc::CallbackServerContext* ctx, const v1::GetItemRequest* req,
                                    v1::Item* resp) override;
  grpc::ServerUnaryReactor* ListItems(grpc::CallbackServerContext* ctx,
                                      const v1::ListItemsRequest* req,
                                      v1::ListItemsResponse* resp) override;
  grpc::ServerUnaryReactor* UpdateItem(grpc::CallbackServerContext* ctx,
                                       const v1::UpdateItemRequest* req, v1::Item* resp) override;
  grpc::ServerUnaryReactor* DeleteItem(grpc::CallbackServerContext* ctx,
                                       const v1::DeleteItemRequest* req, v1::Item* resp) override;
  grpc::ServerUnaryReactor* UndeleteItem(grpc::CallbackServerContext* ctx,
                                         const v1::UndeleteItemRequest* req,
                                         v1::Item* resp) override;
  grpc::ServerUnaryReactor* SearchItems(grpc::CallbackServerContext* ctx,
                                        const v1::SearchItemsRequest* req,
                                        v1::SearchItemsResponse* resp) override;

 private:
  absl::Duration purge_window() const { return catalog_->options().undelete_window; }

  Catalog* catalog_;
  RpcDispatcher* dispatcher_;
};

}  // namespace genesis::catalog
