#include "services/catalog/grpc_service.h"

#include "common/base/status.h"
#include "services/catalog/convert.h"

namespace genesis::catalog {
namespace {

std::vector<std::string> MaskPaths(const google::protobuf::FieldMask& mask) {
  return {mask.paths().begin(), mask.paths().end()};
}

// https://google.aip.dev/134: a mask without paths (or none) means the fields
// the caller set.
std::vector<std::string> ItemMaskOrPopulated(const v1::UpdateItemRequest& req) {
  if (req.update_mask().paths_size() > 0) return MaskPaths(req.update_mask());
  std::vector<std::string> paths;
  const auto& item = req.item();
  if (!item.title().empty()) paths.push_back("title");
  if (!item.body().empty()) paths.push_back("body");
  if (item.has_attributes()) paths.push_back("attributes");
  if (!item.labels().empty()) paths.push_back("labels");
  return paths;
}

std::vector<std::string> TypeMaskOrPopulated(const v1::UpdateItemTypeRequest& req) {
  if (req.update_mask().paths_size() > 0) return MaskPaths(req.update_mask());
  std::vector<std::string> paths;
  if (!req.item_type().display_name().empty()) paths.push_back("display_name");
  if (req.item_type().attributes_size() > 0) paths.push_back("attributes");
  return paths;
}

}  // namespace

grpc::ServerUnaryReactor* CatalogGrpcService::CreateItemType(grpc::CallbackServerContext* ctx,
                                                             const v1::CreateItemTypeRequest* req,
                                                             v1::ItemType* resp) {
  return dispatcher_->Unary(ctx, "CreateItemType", req, [=, this](const CallContext& call) {
    auto type = catalog_->CreateItemType(req->item_type_id(), FromProto(req->item_type()),
                                         req->request_id(), call);
    if (type.ok()) *resp = ToProto(*type);
    return type.status();
  });
}

grpc::ServerUnaryReactor* CatalogGrpcService::GetItemType(grpc::CallbackServerContext* ctx,
                                                          const v1::GetItemTypeRequest* req,
                                                          v1::ItemType* resp) {
  return dispatcher_->Unary(ctx, "GetItemType", req, [=, this](const CallContext& call) {
    auto type = catalog_->GetItemType(req->name(), call);
    if (type.ok()) *resp = ToProto(*type);
    return type.status();
  });
}

grpc::ServerUnaryReactor* CatalogGrpcService::ListItemTypes(grpc::CallbackServerContext* ctx,
                                                            const v1::ListItemTypesRequest* req,
                                                            v1::ListItemTypesResponse* resp) {
  return dispatcher_->Unary(ctx, "ListItemTypes", req, [=, this](const CallContext& call) {
    auto page = catalog_->ListItemTypes(req->page_size(), req->page_token(), call);
    if (!page.ok()) return page.status();
    for (const auto& t : page->values) *resp->add_item_types() = ToProto(t);
    resp->set_next_page_token(page->next_page_token);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* CatalogGrpcService::UpdateItemType(grpc::CallbackServerContext* ctx,
                                                             const v1::UpdateItemTypeRequest* req,
                                                             v1::ItemType* resp) {
  return dispatcher_->Unary(ctx, "UpdateItemType", req, [=, this](const CallContext& call) {
    auto type = catalog_->UpdateItemType(req->item_type().name(), FromProto(req->item_type()),
                                         TypeMaskOrPopulated(*req), req->item_type().etag(), call);
    if (type.ok()) *resp = ToProto(*type);
    return type.status();
  });
}

grpc::ServerUnaryReactor* CatalogGrpcService::DeleteItemType(grpc::CallbackServerContext* ctx,
                                                             const v1::DeleteItemTypeRequest* req,
                                                             google::protobuf::Empty*) {
  return dispatcher_->Unary(ctx, "DeleteItemType", req, [=, this](const CallContext& call) {
    return catalog_->DeleteItemType(req->name(), call);
  });
}

grpc::ServerUnaryReactor* CatalogGrpcService::CreateItem(grpc::CallbackServerContext* ctx,
                                                         const v1::CreateItemRequest* req,
                                                         v1::Item* resp) {
  return dispatcher_->Unary(ctx, "CreateItem", req, [=, this](const CallContext& call) {
    auto item = catalog_->CreateItem(FromProto(req->item()), req->request_id(), call);
    if (item.ok()) *resp = ToProto(*item, purge_window());
    return item.status();
  });
}

grpc::ServerUnaryReactor* CatalogGrpcService::GetItem(grpc::CallbackServerContext* ctx,
                                                      const v1::GetItemRequest* req,
                                                      v1::Item* resp) {
  // An item held in this process' memory is answered on the gRPC thread, with
  // no hop to the worker pool; anything else (Redis, PostgreSQL) goes there.
  return dispatcher_->Unary(
      ctx, "GetItem", req,
      [=, this](const CallContext&) -> std::optional<absl::Status> {
        auto item = catalog_->PeekItem(req->name());
        if (item == nullptr) return std::nullopt;
        *resp = ToProto(*item, purge_window());
        return absl::OkStatus();
      },
      [=, this](const CallContext& call) {
        auto item = catalog_->GetItem(req->name(), call);
        if (item.ok()) *resp = ToProto(*item, purge_window());
        return item.status();
      });
}

grpc::ServerUnaryReactor* CatalogGrpcService::ListItems(grpc::CallbackServerContext* ctx,
                                                        const v1::ListItemsRequest* req,
                                                        v1::ListItemsResponse* resp) {
  return dispatcher_->Unary(ctx, "ListItems", req, [=, this](const CallContext& call) {
    ListItemsParams params{req->type(), req->filter(), req->page_size(), req->page_token(),
                           req->show_deleted()};
    auto page = catalog_->ListItems(params, call);
    if (!page.ok()) return page.status();
    for (const auto& item : page->values) *resp->add_items() = ToProto(item, purge_window());
    resp->set_next_page_token(page->next_page_token);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* CatalogGrpcService::UpdateItem(grpc::CallbackServerContext* ctx,
                                                         const v1::UpdateItemRequest* req,
                                                         v1::Item* resp) {
  return dispatcher_->Unary(ctx, "UpdateItem", req, [=, this](const CallContext& call) {
    auto item = catalog_->UpdateItem(req->item().name(), FromProto(req->item()),
                                     ItemMaskOrPopulated(*req), req->item().etag(), call);
    if (item.ok()) *resp = ToProto(*item, purge_window());
    return item.status();
  });
}

grpc::ServerUnaryReactor* CatalogGrpcService::DeleteItem(grpc::CallbackServerContext* ctx,
                                                         const v1::DeleteItemRequest* req,
                                                         v1::Item* resp) {
  return dispatcher_->Unary(ctx, "DeleteItem", req, [=, this](const CallContext& call) {
    auto item = catalog_->DeleteItem(req->name(), req->etag(), call);
    if (item.ok()) *resp = ToProto(*item, purge_window());
    return item.status();
  });
}

grpc::ServerUnaryReactor* CatalogGrpcService::UndeleteItem(grpc::CallbackServerContext* ctx,
                                                           const v1::UndeleteItemRequest* req,
                                                           v1::Item* resp) {
  return dispatcher_->Unary(ctx, "UndeleteItem", req, [=, this](const CallContext& call) {
    auto item = catalog_->UndeleteItem(req->name(), call);
    if (item.ok()) *resp = ToProto(*item, purge_window());
    return item.status();
  });
}

grpc::ServerUnaryReactor* CatalogGrpcService::SearchItems(grpc::CallbackServerContext* ctx,
                                                          const v1::SearchItemsRequest* req,
                                                          v1::SearchItemsResponse* resp) {
  return dispatcher_->Unary(ctx, "SearchItems", req, [=, this](const CallContext& call) {
    SearchParams params{req->query(), req->type(), req->filter(), req->page_size(),
                        req->page_token()};
    auto page = catalog_->SearchItems(params, call);
    if (!page.ok()) return page.status();
    for (const auto& hit : page->values) {
      auto* r = resp->add_results();
      *r->mutable_item() = ToProto(hit.item, purge_window());
      r->set_score(hit.score);
      r->set_snippet(hit.snippet);
    }
    resp->set_next_page_token(page->next_page_token);
    return absl::OkStatus();
  });
}

}  // namespace genesis::catalog
