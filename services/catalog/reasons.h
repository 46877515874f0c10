// The google.rpc.ErrorInfo reasons of the catalog (domain catalog.genesis.dev),
// each listed in README.md ("Error reasons"), and the errors the logic, the
// PostgreSQL store and the test fake share so their reasons cannot drift.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/base/status.h"

namespace genesis::catalog::reasons {

// The item does not exist (metadata item).
inline constexpr char kItemNotFound[] = "ITEM_NOT_FOUND";
// The item is soft-deleted: UndeleteItem restores it within the undelete window.
inline constexpr char kItemDeleted[] = "ITEM_DELETED";
// UndeleteItem of an item that is not deleted.
inline constexpr char kItemNotDeleted[] = "ITEM_NOT_DELETED";
// The item was deleted longer ago than the undelete window.
inline constexpr char kUndeleteWindowPassed[] = "UNDELETE_WINDOW_PASSED";
// The item type does not exist (metadata item_type).
inline constexpr char kItemTypeNotFound[] = "ITEM_TYPE_NOT_FOUND";
// CreateItemType of a type id already taken.
inline constexpr char kItemTypeAlreadyExists[] = "ITEM_TYPE_ALREADY_EXISTS";
// The type still has items (deleted ones included): it cannot be deleted, nor
// its attributes changed other than by adding optional ones.
inline constexpr char kItemTypeInUse[] = "ITEM_TYPE_IN_USE";
// The request's etag is stale (metadata field: which etag).
inline constexpr char kEtagMismatch[] = "ETAG_MISMATCH";
// Another request changed the resource between its read and this write; retry.
inline constexpr char kConcurrentModification[] = "CONCURRENT_MODIFICATION";
// The request_id was used before for a different item or type.
inline constexpr char kRequestIdReused[] = "REQUEST_ID_REUSED";
// The item created for this request_id has since been purged.
inline constexpr char kRequestIdExpired[] = "REQUEST_ID_EXPIRED";
// The item is larger than --max_item_bytes (metadata limit_bytes).
inline constexpr char kItemTooLarge[] = "ITEM_TOO_LARGE";

// NOT_FOUND of `items/{id}`.
inline absl::Status ItemNotFound(const std::string& id) {
  return WithReason(absl::NotFoundError(absl::StrCat("item 'items/", id, "' does not exist")),
                    kItemNotFound, {{"item", absl::StrCat("items/", id)}});
}

// NOT_FOUND of `types/{id}`.
inline absl::Status ItemTypeNotFound(const std::string& id) {
  return WithReason(absl::NotFoundError(absl::StrCat("type 'types/", id, "' does not exist")),
                    kItemTypeNotFound, {{"item_type", absl::StrCat("types/", id)}});
}

// ABORTED: `resource` changed between its read and the write.
inline absl::Status ConcurrentModification(std::string message, const std::string& resource) {
  return WithReason(absl::AbortedError(std::move(message)), kConcurrentModification,
                    {{"resource", resource}});
}

}  // namespace genesis::catalog::reasons
