#include "services/catalog/catalog.h"

#include <map>
#include <random>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "common/base/paging.h"
#include "common/base/status.h"
#include "common/base/text.h"
#include "common/runtime/logging.h"
#include "common/storage/migrations.h"
#include "services/catalog/filter.h"
#include "services/catalog/reasons.h"
#include "services/catalog/search_query.h"
#include "services/catalog/validation.h"

namespace genesis::catalog {
namespace {

constexpr absl::string_view kOtherQuery =
    "belongs to a different query; send the same type, filter and query as the request that "
    "returned it";

}  // namespace

std::string EtagOf(int64_t version) { return absl::StrCat(version); }

Catalog::Catalog(std::unique_ptr<CatalogStore> store, std::unique_ptr<ItemCache> cache,
                 CatalogOptions options, CatalogMetrics metrics, std::unique_ptr<SearchIndex> index)
    : store_(std::move(store)),
      cache_(cache ? std::move(cache) : std::make_unique<NoItemCache>()),
      options_(std::move(options)),
      metrics_(metrics),
      index_(std::move(index)) {
  if (index_) {
    sync_ = std::make_unique<IndexSync>(
        store_.get(), index_.get(), options_.index_sync,
        IndexSyncMetrics{metrics_.index_changes_applied, metrics_.index_rebuilds,
                         metrics_.index_ready, metrics_.index_items});
  }
}

void Catalog::NoteWrite(const absl::StatusOr<Item>& written) {
  if (sync_ && written.ok() && written->index_position > 0) {
    sync_->NoteWrite(written->index_position);
  }
}

absl::StatusOr<std::string> Catalog::TypeIdFromName(const std::string& name,
                                                    const std::string& field, bool allow_bare) {
  if (name.empty()) return InvalidField(field, "is required, e.g. \"types/lead\"");
  auto id = ParseTypeName(name, allow_bare);
  if (!id) {
    return InvalidField(field, absl::StrCat("'", name, "' is not a type name like \"types/lead\""));
  }
  return *id;
}

absl::StatusOr<std::string> Catalog::ItemIdFromName(const std::string& name,
                                                    const std::string& field) {
  if (name.empty()) return InvalidField(field, "is required, e.g. \"items/0193a...\"");
  auto id = ParseItemName(name);
  if (!id)
    return InvalidField(field,
                        absl::StrCat("'", name, "' is not an item name like \"items/{id}\""));
  return *id;
}

absl::Status Catalog::CheckEtag(const std::string& etag, int64_t version,
                                const std::string& field) {
  if (etag.empty() || etag == EtagOf(version)) return absl::OkStatus();
  return WithReason(absl::AbortedError(absl::StrCat(
                        field, " '", etag, "' is stale: the resource changed (current etag '",
                        EtagOf(version), "'); read it again and retry")),
                    reasons::kEtagMismatch, {{"field", field}});
}

std::string Catalog::NewItemId() {
  // Time-ordered (UUIDv7 layout) so new rows land at the end of the index.
  thread_local std::mt19937_64 rng(std::random_device{}());
  const uint64_t ms = static_cast<uint64_t>(absl::ToUnixMillis(options_.clock->Now()));
  const uint64_t r1 = rng(), r2 = rng();
  return absl::StrFormat("%08x-%04x-7%03x-%04x-%012x", (ms >> 16) & 0xffffffff, ms & 0xffff,
                         r1 & 0xfff, 0x8000 | ((r1 >> 12) & 0x3fff), r2 & 0xffffffffffff);
}

// ---- types ------------------------------------------------------------------

absl::StatusOr<ItemType> Catalog::CreateItemType(const std::string& type_id, ItemType type,
                                                 const std::string& request_id,
                                                 const CallContext& ctx) {
  FieldViolations v;
  ValidateItemType(type_id, type, "item_type", &v);
  CheckRequestId("request_id", request_id, &v);
  GENESIS_RETURN_IF_ERROR(v.ToStatus());
  type.id = type_id;
  std::optional<IdempotencyKey> key;
  if (!request_id.empty()) {
    nlohmann::json attributes = nlohmann::json::array();
    for (const auto& a : type.attributes) {
      attributes.push_back({a.name, static_cast<int>(a.kind), a.required, a.description});
    }
    nlohmann::json fingerprint = {type.id, type.display_name, attributes};
    key = IdempotencyKey{request_id, MigrationChecksum(fingerprint.dump())};
  }
  auto created = store_->CreateType(type, key, ctx);
  if (created.status().code() == absl::StatusCode::kAlreadyExists &&
      ReasonOf(created.status()) != reasons::kRequestIdReused) {
    return WithReason(
        absl::AlreadyExistsError(absl::StrCat("type 'types/", type_id, "' already exists")),
        reasons::kItemTypeAlreadyExists, {{"item_type", absl::StrCat("types/", type_id)}});
  }
  return created;
}

absl::StatusOr<ItemType> Catalog::GetItemType(const std::string& name, const CallContext& ctx) {
  GENESIS_ASSIGN_OR_RETURN(std::string id, TypeIdFromName(name, "name", false));
  return store_->GetType(id, ctx);
}

absl::StatusOr<Page<ItemType>> Catalog::ListItemTypes(int page_size, const std::string& page_token,
                                                      const CallContext& ctx) {
  GENESIS_ASSIGN_OR_RETURN(int limit, PageSize(page_size, options_.default_page_size,
                                               options_.max_page_size, "page_size"));
  std::string after;
  if (!page_token.empty()) {
    GENESIS_ASSIGN_OR_RETURN(after, DecodePageToken(page_token, "types", "-"));
  }
  GENESIS_ASSIGN_OR_RETURN(TypePage page, store_->ListTypes(after, limit, ctx));
  Page<ItemType> out;
  out.values = std::move(page.types);
  if (page.more && !out.values.empty()) {
    out.next_page_token = EncodePageToken("types", "-", out.values.back().id);
  }
  return out;
}

absl::StatusOr<ItemType> Catalog::UpdateItemType(const std::string& name, const ItemType& type,
                                                 const std::vector<std::string>& mask,
                                                 const std::string& etag, const CallContext& ctx) {
  GENESIS_ASSIGN_OR_RETURN(std::string id, TypeIdFromName(name, "item_type.name", false));
  bool set_display = false, set_attributes = false;
  for (const auto& path : mask) {
    if (path == "display_name")
      set_display = true;
    else if (path == "attributes")
      set_attributes = true;
    else {
      return InvalidField("update_mask", absl::StrCat("'", path,
                                                      "' cannot be updated; use display_name "
                                                      "and/or attributes"));
    }
  }
  GENESIS_ASSIGN_OR_RETURN(ItemType current, store_->GetType(id, ctx));
  GENESIS_RETURN_IF_ERROR(CheckEtag(etag, current.version, "item_type.etag"));
  ItemType updated = current;
  if (set_display) updated.display_name = type.display_name;
  if (set_attributes) updated.attributes = type.attributes;
  FieldViolations v;
  ValidateItemType(id, updated, "item_type", &v);
  GENESIS_RETURN_IF_ERROR(v.ToStatus());
  const bool compatible = CompatibleAttributeChange(current, updated);
  auto result = store_->UpdateType(updated, current.version, !compatible, ctx);
  if (result.status().code() == absl::StatusCode::kFailedPrecondition) {
    return WithReason(
        absl::FailedPreconditionError(absl::StrCat(
            "type 'types/", id,
            "' has items: its attributes may only gain optional ones (existing definitions and "
            "required flags cannot change until its items are deleted)")),
        reasons::kItemTypeInUse, {{"item_type", absl::StrCat("types/", id)}});
  }
  return result;
}

absl::Status Catalog::DeleteItemType(const std::string& name, const CallContext& ctx) {
  GENESIS_ASSIGN_OR_RETURN(std::string id, TypeIdFromName(name, "name", false));
  return store_->DeleteType(id, ctx);
}

// ---- items ------------------------------------------------------------------

absl::StatusOr<Item> Catalog::CreateItem(Item item, const std::string& request_id,
                                         const CallContext& ctx) {
  FieldViolations v;
  if (request_id.size() > 128 || !IsStorableText(request_id)) {
    v.Add("request_id", "must be at most 128 characters without NUL");
  }
  std::optional<std::string> type_id;
  if (item.type_id.empty()) {
    v.Add("item.type", "is required, e.g. \"types/lead\"");
  } else if (type_id = ParseTypeName(item.type_id, /*allow_bare=*/true); !type_id) {
    v.Add("item.type", absl::StrCat("'", item.type_id, "' is not a type name like \"types/lead\""));
  }
  if (!type_id) {  // every other problem that does not need the type, with it
    ValidateItemFields(item, "item", &v);
    return v.ToStatus();
  }
  GENESIS_RETURN_IF_ERROR(v.ToStatus());
  auto type = store_->GetType(*type_id, ctx);
  if (type.status().code() == absl::StatusCode::kNotFound) {
    ValidateItemFields(item, "item", &v);  // a bad request first, then the missing type
    GENESIS_RETURN_IF_ERROR(v.ToStatus());
    return WithReason(absl::NotFoundError(absl::StrCat("type 'types/", *type_id,
                                                       "' does not exist; create it with "
                                                       "CreateItemType")),
                      reasons::kItemTypeNotFound,
                      {{"item_type", absl::StrCat("types/", *type_id)}});
  }
  GENESIS_RETURN_IF_ERROR(type.status());
  item.type_id = *type_id;
  ValidateItem(&item, *type, "item", &v);
  GENESIS_RETURN_IF_ERROR(v.ToStatus());
  if (size_t size = ItemSize(item); size > options_.max_item_bytes) {
    return WithReason(InvalidField("item", absl::StrCat("is ", size, " bytes; the limit is ",
                                                        options_.max_item_bytes, " bytes")),
                      reasons::kItemTooLarge,
                      {{"limit_bytes", absl::StrCat(options_.max_item_bytes)}});
  }
  item.id = NewItemId();
  std::optional<IdempotencyKey> key;
  if (!request_id.empty()) {
    nlohmann::json fingerprint = {item.type_id, item.title, item.body, item.attributes,
                                  item.labels};
    key = IdempotencyKey{request_id, MigrationChecksum(fingerprint.dump())};
  }
  auto created = store_->CreateItem(item, type->version, key, ctx);
  NoteWrite(created);
  return created;
}

absl::StatusOr<Item> Catalog::GetItem(const std::string& name, const CallContext& ctx) {
  GENESIS_ASSIGN_OR_RETURN(std::string id, ItemIdFromName(name, "name"));
  if (auto cached = cache_->Get(id, ctx)) {
    if (metrics_.cache_hits) metrics_.cache_hits->Inc();
    return *std::move(cached);
  }
  if (metrics_.cache_misses) metrics_.cache_misses->Inc();
  GENESIS_ASSIGN_OR_RETURN(Item item, store_->GetItem(id, ctx));
  if (item.delete_time) {
    return WithReason(absl::NotFoundError(absl::StrCat(
                          "item '", name, "' is deleted; UndeleteItem restores it until ",
                          absl::FormatTime(PurgeTime(*item.delete_time)))),
                      reasons::kItemDeleted, {{"item", name}});
  }
  cache_->Put(item, ctx);
  return item;
}

std::shared_ptr<const Item> Catalog::PeekItem(const std::string& name) {
  auto id = ParseItemName(name);
  if (!id) return nullptr;
  auto item = cache_->Peek(*id);
  if (item && metrics_.cache_hits) metrics_.cache_hits->Inc();
  return item;
}

absl::StatusOr<Page<Item>> Catalog::ListItems(const ListItemsParams& params,
                                              const CallContext& ctx) {
  GENESIS_ASSIGN_OR_RETURN(int limit, PageSize(params.page_size, options_.default_page_size,
                                               options_.max_page_size, "page_size"));
  ListItemsQuery q;
  q.limit = limit;
  q.show_deleted = params.show_deleted;
  if (!params.type.empty()) {
    GENESIS_ASSIGN_OR_RETURN(q.type_id, TypeIdFromName(params.type, "type", true));
  }
  GENESIS_ASSIGN_OR_RETURN(q.filter, ParseFilter(params.filter));
  const std::string fingerprint = MigrationChecksum(
      nlohmann::json({q.type_id.value_or(""), params.filter, params.show_deleted}).dump());
  if (!params.page_token.empty()) {
    GENESIS_ASSIGN_OR_RETURN(std::string pos,
                             DecodePageToken(params.page_token, "items", fingerprint, kOtherQuery));
    if (!absl::SimpleAtoi(pos, &q.after_seq)) {
      return InvalidField("page_token", "is not a token this service issued");
    }
  }
  GENESIS_ASSIGN_OR_RETURN(ItemPage page, store_->ListItems(q, ctx));
  Page<Item> out;
  out.values = std::move(page.items);
  if (page.more)
    out.next_page_token = EncodePageToken("items", fingerprint, absl::StrCat(page.last_seq));
  return out;
}

absl::StatusOr<Item> Catalog::UpdateItem(const std::string& name, Item item,
                                         const std::vector<std::string>& mask,
                                         const std::string& etag, const CallContext& ctx) {
  GENESIS_ASSIGN_OR_RETURN(std::string id, ItemIdFromName(name, "item.name"));
  bool title = false, body = false, attributes = false, labels = false;
  for (const auto& path : mask) {
    if (path == "title")
      title = true;
    else if (path == "body")
      body = true;
    else if (path == "attributes")
      attributes = true;
    else if (path == "labels")
      labels = true;
    else if (path == "type") {
      return InvalidField("update_mask", "'type' is immutable; create a new item instead");
    } else {
      return InvalidField("update_mask", absl::StrCat("'", path,
                                                      "' cannot be updated; use title, body, "
                                                      "attributes and/or labels"));
    }
  }
  GENESIS_ASSIGN_OR_RETURN(Item current, store_->GetItem(id, ctx));
  if (current.delete_time) {
    return WithReason(
        absl::NotFoundError(absl::StrCat("item '", name, "' is deleted; undelete it first")),
        reasons::kItemDeleted, {{"item", name}});
  }
  if (!item.type_id.empty()) {
    auto given = ParseTypeName(item.type_id, true);
    if (!given || *given != current.type_id) {
      return InvalidField("item.type",
                          "is immutable: the item is of type 'types/" + current.type_id + "'");
    }
  }
  GENESIS_RETURN_IF_ERROR(CheckEtag(etag, current.version, "item.etag"));
  Item updated = current;
  if (title) updated.title = std::move(item.title);
  if (body) updated.body = std::move(item.body);
  if (attributes) updated.attributes = std::move(item.attributes);
  if (labels) updated.labels = std::move(item.labels);
  GENESIS_ASSIGN_OR_RETURN(ItemType type, store_->GetType(current.type_id, ctx));
  FieldViolations v;
  ValidateItem(&updated, type, "item", &v);
  GENESIS_RETURN_IF_ERROR(v.ToStatus());
  if (size_t size = ItemSize(updated); size > options_.max_item_bytes) {
    return WithReason(InvalidField("item", absl::StrCat("is ", size, " bytes; the limit is ",
                                                        options_.max_item_bytes, " bytes")),
                      reasons::kItemTooLarge,
                      {{"limit_bytes", absl::StrCat(options_.max_item_bytes)}});
  }
  auto result = store_->UpdateItem(updated, current.version, type.version, ctx);
  NoteWrite(result);
  // On an unknown outcome the next version is the bound to invalidate up to.
  cache_->Invalidate(id, result.ok() ? result->version : current.version + 1, ctx);
  return result;
}

absl::StatusOr<Item> Catalog::DeleteItem(const std::string& name, const std::string& etag,
                                         const CallContext& ctx) {
  GENESIS_ASSIGN_OR_RETURN(std::string id, ItemIdFromName(name, "name"));
  GENESIS_ASSIGN_OR_RETURN(Item current, store_->GetItem(id, ctx));
  if (current.delete_time) {
    return WithReason(absl::NotFoundError(absl::StrCat("item '", name, "' is already deleted")),
                      reasons::kItemDeleted, {{"item", name}});
  }
  GENESIS_RETURN_IF_ERROR(CheckEtag(etag, current.version, "etag"));
  auto result = store_->SetDeleteTime(id, options_.clock->Now(), current.version, ctx);
  NoteWrite(result);
  // On an unknown outcome the next version is the bound to invalidate up to.
  cache_->Invalidate(id, result.ok() ? result->version : current.version + 1, ctx);
  return result;
}

absl::StatusOr<Item> Catalog::UndeleteItem(const std::string& name, const CallContext& ctx) {
  GENESIS_ASSIGN_OR_RETURN(std::string id, ItemIdFromName(name, "name"));
  GENESIS_ASSIGN_OR_RETURN(Item current, store_->GetItem(id, ctx));
  if (!current.delete_time) {
    return WithReason(
        absl::FailedPreconditionError(absl::StrCat("item '", name, "' is not deleted")),
        reasons::kItemNotDeleted, {{"item", name}});
  }
  if (options_.clock->Now() >= PurgeTime(*current.delete_time)) {
    return WithReason(
        absl::NotFoundError(absl::StrCat("item '", name, "' was deleted more than ",
                                         absl::FormatDuration(options_.undelete_window),
                                         " ago and can no longer be restored")),
        reasons::kUndeleteWindowPassed, {{"item", name}});
  }
  auto result = store_->SetDeleteTime(id, std::nullopt, current.version, ctx);
  NoteWrite(result);
  // On an unknown outcome the next version is the bound to invalidate up to.
  cache_->Invalidate(id, result.ok() ? result->version : current.version + 1, ctx);
  return result;
}

absl::StatusOr<Page<SearchHit>> Catalog::SearchItems(const SearchParams& params,
                                                     const CallContext& ctx) {
  GENESIS_ASSIGN_OR_RETURN(int limit, PageSize(params.page_size, options_.default_search_page_size,
                                               options_.max_search_page_size, "page_size"));
  SearchQuery q;
  q.limit = limit;
  q.rank_window = options_.search_rank_window;
  if (params.query.empty()) return InvalidField("query", "is required");
  GENESIS_ASSIGN_OR_RETURN(ParsedSearch parsed, ParseSearchQuery(params.query));
  q.tsquery = ToTsQuery(parsed);
  if (!params.type.empty()) {
    GENESIS_ASSIGN_OR_RETURN(q.type_id, TypeIdFromName(params.type, "type", true));
  }
  GENESIS_ASSIGN_OR_RETURN(q.filter, ParseFilter(params.filter));
  const std::string fingerprint = MigrationChecksum(
      nlohmann::json({params.query, q.type_id.value_or(""), params.filter}).dump());
  if (!params.page_token.empty()) {
    GENESIS_ASSIGN_OR_RETURN(
        std::string pos, DecodePageToken(params.page_token, "search", fingerprint, kOtherQuery));
    if (!absl::SimpleAtoi(pos, &q.offset) || q.offset < 0) {
      return InvalidField("page_token", "is not a token this service issued");
    }
  }
  GENESIS_ASSIGN_OR_RETURN(SearchPage page, SearchIndexed(q, parsed, ctx));
  Page<SearchHit> out;
  out.values = std::move(page.hits);
  if (page.more) {
    out.next_page_token = EncodePageToken(
        "search", fingerprint, absl::StrCat(q.offset + static_cast<int>(out.values.size())));
  }
  return out;
}

absl::StatusOr<SearchPage> Catalog::SearchIndexed(const SearchQuery& q, const ParsedSearch& parsed,
                                                  const CallContext& ctx) {
  if (!index_) return store_->SearchItems(q, ctx);
  auto fallback = [&](Counter* counter) {
    if (counter != nullptr) counter->Inc();
    return store_->SearchItems(q, ctx);
  };
  if (!sync_->Ready()) return fallback(metrics_.search_fallback_building);
  if (!sync_->WaitForWrites(std::min(ctx.deadline, absl::Now() + options_.search_index_wait))) {
    return fallback(metrics_.search_fallback_lagging);
  }
  IndexQuery iq;
  iq.search = parsed;
  iq.type_id = q.type_id;
  iq.filter = q.filter;
  iq.offset = q.offset;
  iq.limit = q.limit;
  auto ranked = index_->Search(iq);
  if (!ranked.ok()) return fallback(metrics_.search_fallback_error);
  std::vector<std::string> ids;
  for (const auto& h : ranked->hits) ids.push_back(h.id);
  GENESIS_ASSIGN_OR_RETURN(std::vector<Item> items, store_->GetItems(ids, ctx));
  std::map<std::string, Item*> by_id;
  for (auto& it : items) by_id[it.id] = &it;
  SearchPage page;
  page.more = ranked->more;
  for (const auto& h : ranked->hits) {
    auto it = by_id.find(h.id);
    // Deleted, purged or changed out of the filter since the index last
    // applied the log: not shown.
    if (it == by_id.end() || it->second->delete_time ||
        !ItemMatchesFilter(it->second->attributes, it->second->labels, q.filter)) {
      continue;
    }
    SearchHit hit;
    hit.item = std::move(*it->second);
    hit.score = h.score;
    hit.snippet = index_->Highlight(hit.item.body, parsed);
    if (hit.snippet.empty()) hit.snippet = index_->Highlight(hit.item.title, parsed);
    if (hit.snippet.empty()) hit.snippet = hit.item.title;
    page.hits.push_back(std::move(hit));
  }
  return page;
}

absl::StatusOr<int64_t> Catalog::PurgeExpired(const CallContext& ctx) {
  const absl::Time now = options_.clock->Now();
  auto purged =
      store_->Purge(now - options_.undelete_window, now - options_.request_id_retention, ctx);
  if (purged.ok() && *purged > 0) {
    if (metrics_.items_purged) metrics_.items_purged->Inc(static_cast<double>(*purged));
    Logger("catalog")->info("purged {} items deleted more than {} ago", *purged,
                            absl::FormatDuration(options_.undelete_window));
  }
  if (purged.ok()) {
    auto trimmed = store_->TrimIndexChanges(now - options_.index_log_retention, ctx);
    if (!trimmed.ok()) return trimmed.status();
  }
  return purged;
}

}  // namespace genesis::catalog
