// The Catalog's logic: item types, items, filters, search and the item cache.
//
// Plain domain types in, absl::Status out; no gRPC here (grpc_service.h is
// the transport). Storage, cache and clock are injected. Errors:
//   INVALID_ARGUMENT with field violations for bad input (names, sizes,
//     attributes that do not match the type, bad filters or page tokens);
//   NOT_FOUND for an unknown type or item (deleted items included);
//   ALREADY_EXISTS for a taken type id or a reused request id;
//   ABORTED for a stale etag; FAILED_PRECONDITION when the state forbids a
//   change (deleting a type with items, undeleting a live item);
//   UNAVAILABLE / DEADLINE_EXCEEDED from storage. The cache never fails a call.
// Thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/base/clock.h"
#include "common/base/paging.h"
#include "common/rpc/call_context.h"
#include "services/catalog/cache.h"
#include "services/catalog/index_sync.h"
#include "services/catalog/metrics.h"
#include "services/catalog/model.h"
#include "services/catalog/search_index.h"
#include "services/catalog/store.h"

namespace genesis::catalog {

struct CatalogOptions {
  size_t max_item_bytes = 1 << 20;
  absl::Duration undelete_window = absl::Hours(24 * 30);
  absl::Duration request_id_retention = absl::Hours(24 * 7);
  int default_page_size = 50;
  int max_page_size = 1000;
  int default_search_page_size = 20;
  int max_search_page_size = 100;
  // Searches rank at most this many matching items (0: all); see SearchItems.
  int search_rank_window = 10000;
  Clock* clock = Clock::Real();  // time of soft deletes, purges and etags
  // With a search index: how long a search waits for it to apply this
  // replica's own earlier writes before answering from PostgreSQL instead.
  absl::Duration search_index_wait = absl::Seconds(1);
  // How long the search index's change log is kept (PurgeExpired trims it).
  absl::Duration index_log_retention = absl::Hours(24);
  IndexSyncOptions index_sync;
};

struct ListItemsParams {
  std::string type;    // "types/x", "x" or empty
  std::string filter;  // see filter.h
  int page_size = 0;
  std::string page_token;
  bool show_deleted = false;
};

struct SearchParams {
  std::string query;  // see search_query.h
  std::string type;
  std::string filter;
  int page_size = 0;
  std::string page_token;
};

class Catalog {
 public:
  // Without `index`, SearchItems uses PostgreSQL's full-text index. With one,
  // it ranks with the index (kept in step by index_sync()) and reads the items
  // from the store; until the index is built, when it lags behind this
  // replica's writes for longer than `search_index_wait`, or when it fails,
  // the search is answered from PostgreSQL (same query language and filters).
  Catalog(std::unique_ptr<CatalogStore> store, std::unique_ptr<ItemCache> cache,
          CatalogOptions options, CatalogMetrics metrics = {},
          std::unique_ptr<SearchIndex> index = nullptr);

  // `request_id` may be empty (see CreateItemTypeRequest.request_id).
  absl::StatusOr<ItemType> CreateItemType(const std::string& type_id, ItemType type,
                                          const std::string& request_id, const CallContext& ctx);
  absl::StatusOr<ItemType> CreateItemType(const std::string& type_id, ItemType type,
                                          const CallContext& ctx) {
    return CreateItemType(type_id, std::move(type), "", ctx);
  }
  absl::StatusOr<ItemType> GetItemType(const std::string& name, const CallContext& ctx);
  absl::StatusOr<Page<ItemType>> ListItemTypes(int page_size, const std::string& page_token,
                                               const CallContext& ctx);
  // `type.id` is ignored; `name` says which. `mask` paths: display_name,
  // attributes (the caller resolves an empty mask). A non-empty `etag` must match.
  absl::StatusOr<ItemType> UpdateItemType(const std::string& name, const ItemType& type,
                                          const std::vector<std::string>& mask,
                                          const std::string& etag, const CallContext& ctx);
  absl::Status DeleteItemType(const std::string& name, const CallContext& ctx);

  // `item.type_id` may be "types/x" or "x". `request_id` may be empty.
  absl::StatusOr<Item> CreateItem(Item item, const std::string& request_id, const CallContext& ctx);
  absl::StatusOr<Item> GetItem(const std::string& name, const CallContext& ctx);
  // GetItem answered from this process' memory alone (ItemCache::Peek): the
  // item, or null when it is not held there or `name` is not an item name
  // (GetItem then gives the answer or the error). Never blocks on I/O, so the
  // transport may call it on a thread that must not wait.
  std::shared_ptr<const Item> PeekItem(const std::string& name);
  absl::StatusOr<Page<Item>> ListItems(const ListItemsParams& params, const CallContext& ctx);
  // `mask` paths: title, body, attributes, labels (the caller resolves an
  // empty mask). `item.type_id`, if set, must equal the stored type.
  absl::StatusOr<Item> UpdateItem(const std::string& name, Item item,
                                  const std::vector<std::string>& mask, const std::string& etag,
                                  const CallContext& ctx);
  absl::StatusOr<Item> DeleteItem(const std::string& name, const std::string& etag,
                                  const CallContext& ctx);
  absl::StatusOr<Item> UndeleteItem(const std::string& name, const CallContext& ctx);
  absl::StatusOr<Page<SearchHit>> SearchItems(const SearchParams& params, const CallContext& ctx);

  // Removes items whose undelete window has passed; returns how many.
  absl::StatusOr<int64_t> PurgeExpired(const CallContext& ctx);
  // The search index's synchroniser; null without an index.
  [[nodiscard]] IndexSync* index_sync() { return sync_.get(); }

  // OK when storage answers (readiness).
  absl::Status Ready(const CallContext& ctx) { return store_->Ping(ctx); }

  // When a soft-deleted item is purged.
  [[nodiscard]] absl::Time PurgeTime(absl::Time delete_time) const {
    return delete_time + options_.undelete_window;
  }
  [[nodiscard]] const CatalogOptions& options() const { return options_; }

 private:
  absl::StatusOr<std::string> TypeIdFromName(const std::string& name, const std::string& field,
                                             bool allow_bare);
  absl::StatusOr<std::string> ItemIdFromName(const std::string& name, const std::string& field);
  absl::Status CheckEtag(const std::string& etag, int64_t version, const std::string& field);
  std::string NewItemId();
  // A write through this replica committed: the search index will wait for it.
  void NoteWrite(const absl::StatusOr<Item>& written);
  absl::StatusOr<SearchPage> SearchIndexed(const SearchQuery& q, const ParsedSearch& parsed,
                                           const CallContext& ctx);

  std::unique_ptr<CatalogStore> store_;
  std::unique_ptr<ItemCache> cache_;
  const CatalogOptions options_;
  CatalogMetrics metrics_;
  std::unique_ptr<SearchIndex> index_;
  std::unique_ptr<IndexSync> sync_;  // after index_ and store_: destroyed first
};

// The etag of a version, and back.
std::string EtagOf(int64_t version);

}  // namespace genesis::catalog
