// CatalogStore on PostgreSQL (schema `catalog`, migrations/). All of the
// Catalog's SQL lives in pg_store.cc.
#pragma once

#include "common/storage/pg_pool.h"
#include "services/catalog/store.h"

namespace genesis::catalog {

class PgCatalogStore final : public CatalogStore {
 public:
  // `pool` must outlive the store.
  explicit PgCatalogStore(PgPool* pool) : pool_(pool) {}

  absl::StatusOr<ItemType> CreateType(const ItemType& type,
                                      const std::optional<IdempotencyKey>& key,
                                      const CallContext& ctx) override;
  absl::StatusOr<ItemType> GetType(const std::string& id, const CallContext& ctx) override;
  absl::StatusOr<TypePage> ListTypes(const std::string& after_id, int limit,
                                     const CallContext& ctx) override;
  absl::StatusOr<ItemType> UpdateType(const ItemType& type, int64_t expected_version,
                                      bool require_no_items, const CallContext& ctx) override;
  absl::Status DeleteType(const std::string& id, const CallContext& ctx) override;
  absl::StatusOr<Item> CreateItem(const Item& item, int64_t type_version,
                                  const std::optional<IdempotencyKey>& key,
                                  const CallContext& ctx) override;
  absl::StatusOr<Item> GetItem(const std::string& id, const CallContext& ctx) override;
  absl::StatusOr<Item> UpdateItem(const Item& item, int64_t expected_version, int64_t type_version,
                                  const CallContext& ctx) override;
  absl::StatusOr<Item> SetDeleteTime(const std::string& id, std::optional<absl::Time> delete_time,
                                     int64_t expected_version, const CallContext& ctx) override;
  absl::StatusOr<ItemPage> ListItems(const ListItemsQuery& query, const CallContext& ctx) override;
  absl::StatusOr<SearchPage> SearchItems(const SearchQuery& query, const CallContext& ctx) override;
  absl::StatusOr<std::vector<Item>> GetItems(const std::vector<std::string>& ids,
                                             const CallContext& ctx) override;
  absl::StatusOr<IndexChangeBatch> ReadIndexChanges(int64_t from, int max_transactions,
                                                    const CallContext& ctx) override;
  absl::StatusOr<int64_t> ScanLiveItems(const std::function<absl::Status(std::vector<Item>)>& sink,
                                        const CallContext& ctx) override;
  absl::StatusOr<int64_t> TrimIndexChanges(absl::Time cutoff, const CallContext& ctx) override;
  absl::StatusOr<int64_t> Purge(absl::Time cutoff, absl::Time keys_cutoff,
                                const CallContext& ctx) override;
  absl::Status Ping(const CallContext& ctx) override { return pool_->Ping(ctx.deadline); }

  // Bulk load for benchmarks and imports: inserts items (ids set by the
  // caller, types must exist) with COPY, without validation.
  absl::Status BulkInsert(const std::vector<Item>& items, absl::Time deadline);

 private:
  PgPool* pool_;
};

}  // namespace genesis::catalog
