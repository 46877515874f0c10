// The storage the Catalog logic needs. PgCatalogStore (pg_store.h) is the
// real one; tests use FakeCatalogStore (tests/fake_store.h).
//
// Every method runs in one transaction and returns the most specific status:
// NOT_FOUND for a missing row, ALREADY_EXISTS for a taken id, ABORTED when an
// expected version no longer matches (someone else wrote first),
// FAILED_PRECONDITION when the state forbids the change, UNAVAILABLE or
// DEADLINE_EXCEEDED when the database cannot answer in time. Implementations
// are thread-safe.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/rpc/call_context.h"
#include "services/catalog/model.h"
#include "services/catalog/search_index.h"

namespace genesis::catalog {

struct TypePage {
  std::vector<ItemType> types;
  bool more = false;
};

struct ListItemsQuery {
  std::optional<std::string> type_id;
  std::vector<Condition> filter;
  bool show_deleted = false;
  int64_t after_seq = 0;  // keyset position: items with seq > after_seq
  int limit = 50;
};

struct ItemPage {
  std::vector<Item> items;
  int64_t last_seq = 0;  // seq of the last item returned
  bool more = false;
};

struct SearchQuery {
  std::string tsquery;  // from BuildTsQuery()
  std::optional<std::string> type_id;
  std::vector<Condition> filter;
  int offset = 0;
  int limit = 20;
  // At most this many matches are ranked (0: all). Bounds the cost of words
  // that match a large share of the catalog.
  int rank_window = 0;
};

struct SearchHit {
  Item item;
  double score = 0;
  std::string snippet;  // matches between <mark> and </mark>
};

struct SearchPage {
  std::vector<SearchHit> hits;
  bool more = false;
};

// Changes for the search index, read from its change log (see ReadIndexChanges).
struct IndexChangeBatch {
  std::vector<IndexChange> changes;  // one per item, its state now
  // Every change of a transaction below this position is in `changes` or was
  // in an earlier batch; the next batch starts here.
  int64_t applied_through = 0;
  bool more = false;  // the next batch is already readable
};

// How CreateItem and CreateType treat a client request id.
struct IdempotencyKey {
  std::string request_id;
  std::string request_hash;  // fingerprint of the request's content
};

class CatalogStore {
 public:
  virtual ~CatalogStore() = default;

  // ALREADY_EXISTS when the id is taken. With a key: when a type still
  // stored was created with the key and the same hash, returns it instead;
  // with another hash, ALREADY_EXISTS (REQUEST_ID_REUSED).
  virtual absl::StatusOr<ItemType> CreateType(const ItemType& type,
                                              const std::optional<IdempotencyKey>& key,
                                              const CallContext& ctx) = 0;
  virtual absl::StatusOr<ItemType> GetType(const std::string& id, const CallContext& ctx) = 0;
  // Types with id > after_id, in id order.
  virtual absl::StatusOr<TypePage> ListTypes(const std::string& after_id, int limit,
                                             const CallContext& ctx) = 0;
  // Replaces display name and attributes when the stored version is
  // `expected_version` (else ABORTED). With `require_no_items`, FAILED_PRECONDITION
  // if the type has any item (deleted ones included).
  virtual absl::StatusOr<ItemType> UpdateType(const ItemType& type, int64_t expected_version,
                                              bool require_no_items, const CallContext& ctx) = 0;
  // FAILED_PRECONDITION while items (deleted ones included) reference it.
  virtual absl::Status DeleteType(const std::string& id, const CallContext& ctx) = 0;

  // Inserts `item` (id, type, title, body, attributes, labels) if the type's
  // version is still `type_version` (else ABORTED). With a key: when the key
  // was used before with the same hash, returns that item instead; with
  // another hash, ALREADY_EXISTS.
  virtual absl::StatusOr<Item> CreateItem(const Item& item, int64_t type_version,
                                          const std::optional<IdempotencyKey>& key,
                                          const CallContext& ctx) = 0;
  // Deleted items too (delete_time set).
  virtual absl::StatusOr<Item> GetItem(const std::string& id, const CallContext& ctx) = 0;
  // Replaces title, body, attributes and labels of a live item whose version
  // is `expected_version` (ABORTED otherwise), checking the type's version too.
  virtual absl::StatusOr<Item> UpdateItem(const Item& item, int64_t expected_version,
                                          int64_t type_version, const CallContext& ctx) = 0;
  // Sets (delete) or clears (undelete, nullopt) delete_time when the item's
  // version is `expected_version`; bumps the version.
  virtual absl::StatusOr<Item> SetDeleteTime(const std::string& id,
                                             std::optional<absl::Time> delete_time,
                                             int64_t expected_version, const CallContext& ctx) = 0;
  virtual absl::StatusOr<ItemPage> ListItems(const ListItemsQuery& query,
                                             const CallContext& ctx) = 0;
  virtual absl::StatusOr<SearchPage> SearchItems(const SearchQuery& query,
                                                 const CallContext& ctx) = 0;
  // Items by id, deleted ones too; ids not found are left out (any order).
  virtual absl::StatusOr<std::vector<Item>> GetItems(const std::vector<std::string>& ids,
                                                     const CallContext& ctx) = 0;

  // The search index's change log. Positions are transaction ids: a batch
  // holds the changes of transactions at or above `from` and below the oldest
  // transaction still running (so one that commits late is never skipped), at
  // most `max_transactions` of them, each as the item's current state (nullopt
  // when it is deleted or gone). FAILED_PRECONDITION when the log was trimmed
  // past `from`: the index must be rebuilt (ScanLiveItems).
  virtual absl::StatusOr<IndexChangeBatch> ReadIndexChanges(int64_t from, int max_transactions,
                                                            const CallContext& ctx) = 0;
  // Every live item as of one moment, in batches to `sink` (which may fail the
  // scan); returns the position to read changes from afterwards.
  virtual absl::StatusOr<int64_t> ScanLiveItems(
      const std::function<absl::Status(std::vector<Item>)>& sink, const CallContext& ctx) = 0;
  // Drops the change log of transactions that started before `cutoff`
  // (indexes that had not applied them rebuild); returns how many rows went.
  virtual absl::StatusOr<int64_t> TrimIndexChanges(absl::Time cutoff, const CallContext& ctx) = 0;

  // Hard-deletes items deleted before `cutoff` and idempotency keys older
  // than `keys_cutoff`; returns how many items went.
  virtual absl::StatusOr<int64_t> Purge(absl::Time cutoff, absl::Time keys_cutoff,
                                        const CallContext& ctx) = 0;
  // OK when the store can serve.
  virtual absl::Status Ping(const CallContext& ctx) = 0;
};

}  // namespace genesis::catalog
