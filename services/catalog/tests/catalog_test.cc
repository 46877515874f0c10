// Unit tests of the Catalog logic on the fake store: validation, codes,
// etags, pagination, soft delete, idempotency and the cache.
#include "services/catalog/catalog.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/base/status.h"
#include "services/catalog/tests/fake_store.h"

namespace genesis::catalog {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;
using ::testing::SizeIs;
using ::testing::UnorderedElementsAre;

class CatalogTest : public ::testing::Test {
 protected:
  CatalogTest() {
    auto store = std::make_unique<testing::FakeCatalogStore>();
    auto cache = std::make_unique<testing::FakeItemCache>();
    store_ = store.get();
    cache_ = cache.get();
    CatalogOptions options;
    options.max_item_bytes = 4096;
    options.clock = &clock_;
    catalog_ = std::make_unique<Catalog>(std::move(store), std::move(cache), options);
  }

  ItemType LeadType() {
    ItemType t;
    t.display_name = "Lead";
    t.attributes = {{"city", AttributeKind::kString, true, ""},
                    {"price", AttributeKind::kNumber, false, ""},
                    {"tags", AttributeKind::kStringList, false, ""},
                    {"vip", AttributeKind::kBool, false, ""},
                    {"contacted_at", AttributeKind::kTimestamp, false, ""}};
    return t;
  }

  Item NewLead(std::string title, std::string city = "Recife") {
    Item it;
    it.type_id = "types/lead";
    it.title = std::move(title);
    it.attributes = {{"city", city}};
    return it;
  }

  void CreateLeadType() { ASSERT_TRUE(catalog_->CreateItemType("lead", LeadType(), ctx_).ok()); }

  std::vector<std::string> ViolatedFields(const absl::Status& st) {
    std::vector<std::string> fields;
    for (const auto& [f, d] : FieldViolationsOf(st)) fields.push_back(f);
    return fields;
  }

  ManualClock clock_{absl::FromUnixSeconds(1'800'000'000)};
  CallContext ctx_ = CallContext::Background();
  testing::FakeCatalogStore* store_;
  testing::FakeItemCache* cache_;
  std::unique_ptr<Catalog> catalog_;
};

TEST_F(CatalogTest, CreateTypeRejectsBadIdAndAttributesNamingEachField) {
  ItemType t = LeadType();
  t.attributes.push_back({"city", AttributeKind::kString, false, ""});
  t.attributes.push_back({"Bad Name", AttributeKind::kUnspecified, false, ""});
  auto st = catalog_->CreateItemType("Lead!", t, ctx_).status();
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(ViolatedFields(st),
              UnorderedElementsAre("item_type_id", "item_type.attributes[5].name",
                                   "item_type.attributes[6].name", "item_type.attributes[6].kind"));
}

TEST_F(CatalogTest, CreateTypeTwiceIsAlreadyExists) {
  CreateLeadType();
  auto st = catalog_->CreateItemType("lead", LeadType(), ctx_).status();
  EXPECT_EQ(st.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(std::string(st.message()), ::testing::HasSubstr("types/lead"));
}

TEST_F(CatalogTest, GetTypeNeedsAResourceName) {
  CreateLeadType();
  EXPECT_TRUE(catalog_->GetItemType("types/lead", ctx_).ok());
  EXPECT_EQ(catalog_->GetItemType("lead", ctx_).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(catalog_->GetItemType("types/nope", ctx_).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(CatalogTest, ListTypesPagesInNameOrder) {
  for (const char* id : {"c", "a", "b"}) ASSERT_TRUE(catalog_->CreateItemType(id, {}, ctx_).ok());
  auto first = catalog_->ListItemTypes(2, "", ctx_);
  ASSERT_TRUE(first.ok());
  ASSERT_THAT(first->values, SizeIs(2));
  EXPECT_EQ(first->values[0].id, "a");
  EXPECT_EQ(first->values[1].id, "b");
  ASSERT_FALSE(first->next_page_token.empty());
  auto second = catalog_->ListItemTypes(2, first->next_page_token, ctx_);
  ASSERT_TRUE(second.ok());
  ASSERT_THAT(second->values, SizeIs(1));
  EXPECT_EQ(second->values[0].id, "c");
  EXPECT_TRUE(second->next_page_token.empty());
  EXPECT_EQ(catalog_->ListItemTypes(-1, "", ctx_).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(catalog_->ListItemTypes(2, "garbage!", ctx_).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(CatalogTest, ItemAttributesAreCheckedAgainstTheType) {
  CreateLeadType();
  Item it;
  it.type_id = "lead";
  it.title = "";
  it.attributes = {{"price", "cheap"},
                   {"tags", {"a", 1}},
                   {"vip", "yes"},
                   {"contacted_at", "yesterday"},
                   {"color", "blue"}};
  auto st = catalog_->CreateItem(it, "", ctx_).status();
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(ViolatedFields(st),
              UnorderedElementsAre("item.title", "item.attributes.price", "item.attributes.tags",
                                   "item.attributes.vip", "item.attributes.contacted_at",
                                   "item.attributes.color", "item.attributes.city"));
}

TEST_F(CatalogTest, AMissingOrMalformedTypeDoesNotHideTheOtherViolations) {
  Item it;
  it.title = "";
  it.labels = {{"Bad Key", "x"}};
  it.attributes = {{"city", "Recife"}};
  auto st = catalog_->CreateItem(it, "", ctx_).status();
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(ViolatedFields(st), UnorderedElementsAre("item.type", "item.title", "item.labels"));
  it.type_id = "types/Not A Type";
  st = catalog_->CreateItem(it, "", ctx_).status();
  EXPECT_THAT(ViolatedFields(st), UnorderedElementsAre("item.type", "item.title", "item.labels"));
}

TEST_F(CatalogTest, ValidItemRoundTripsSpecialCharactersAsData) {
  CreateLeadType();
  Item it = NewLead(R"(Casa "grande" 100% C:\temp — ação)");
  it.body = "linha 1\nlinha 2 'aspas' \\ %_ 🏠";
  it.attributes["contacted_at"] = "2026-01-31T12:00:00Z";
  it.attributes["tags"] = {"vip", "mar"};
  it.labels = {{"stage", "hot"}};
  auto created = catalog_->CreateItem(it, "", ctx_);
  ASSERT_TRUE(created.ok()) << created.status();
  auto got = catalog_->GetItem("items/" + created->id, ctx_);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->title, it.title);
  EXPECT_EQ(got->body, it.body);
  EXPECT_EQ(got->type_id, "lead");
  EXPECT_EQ(got->attributes, it.attributes);
}

TEST_F(CatalogTest, NulCharactersAreRejectedNamingTheField) {
  CreateLeadType();
  Item it = NewLead(std::string("a\0b", 3));
  auto st = catalog_->CreateItem(it, "", ctx_).status();
  EXPECT_THAT(ViolatedFields(st), ElementsAre("item.title"));
}

TEST_F(CatalogTest, UnknownTypeIsNotFound) {
  auto st = catalog_->CreateItem(NewLead("x"), "", ctx_).status();
  EXPECT_EQ(st.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(st.message()), ::testing::HasSubstr("types/lead"));
}

TEST_F(CatalogTest, OversizedItemIsInvalidArgument) {
  CreateLeadType();
  Item it = NewLead("big");
  it.body = std::string(5000, 'x');
  auto st = catalog_->CreateItem(it, "", ctx_).status();
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(ViolatedFields(st), ElementsAre("item"));
  EXPECT_THAT(std::string(st.message()), ::testing::HasSubstr("limit is 4096 bytes"));
}

TEST_F(CatalogTest, RequestIdMakesCreateIdempotent) {
  CreateLeadType();
  auto a = catalog_->CreateItem(NewLead("one"), "req-1", ctx_);
  auto b = catalog_->CreateItem(NewLead("one"), "req-1", ctx_);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->id, b->id);
  auto other = catalog_->CreateItem(NewLead("two"), "req-1", ctx_);
  EXPECT_EQ(other.status().code(), absl::StatusCode::kAlreadyExists);
  auto fresh = catalog_->CreateItem(NewLead("one"), "", ctx_);
  ASSERT_TRUE(fresh.ok());
  EXPECT_NE(fresh->id, a->id);
}

TEST_F(CatalogTest, RequestIdMakesCreateItemTypeIdempotent) {
  auto a = catalog_->CreateItemType("lead", LeadType(), "type-1", ctx_);
  auto b = catalog_->CreateItemType("lead", LeadType(), "type-1", ctx_);
  ASSERT_TRUE(a.ok() && b.ok()) << b.status();
  EXPECT_EQ(a->id, b->id);
  EXPECT_EQ(store_->type_count(), 1u);
  ItemType changed = LeadType();
  changed.display_name = "Changed";
  auto reused = catalog_->CreateItemType("lead2", changed, "type-1", ctx_);
  EXPECT_EQ(reused.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(ReasonOf(reused.status()), "REQUEST_ID_REUSED");
  EXPECT_THAT(ViolatedFields(
                  catalog_->CreateItemType("x", LeadType(), std::string(129, 'r'), ctx_).status()),
              ElementsAre("request_id"));
}

TEST_F(CatalogTest, UpdateAppliesOnlyTheMaskAndChecksEtag) {
  CreateLeadType();
  Item it = NewLead("old title");
  it.body = "old body";
  auto created = catalog_->CreateItem(it, "", ctx_);
  ASSERT_TRUE(created.ok());
  const std::string name = "items/" + created->id;
  Item patch;
  patch.title = "new title";
  patch.body = "ignored";
  auto updated = catalog_->UpdateItem(name, patch, {"title"}, EtagOf(created->version), ctx_);
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(updated->title, "new title");
  EXPECT_EQ(updated->body, "old body");
  EXPECT_EQ(updated->version, created->version + 1);
  // The etag read before the update is stale now.
  auto stale = catalog_->UpdateItem(name, patch, {"title"}, EtagOf(created->version), ctx_);
  EXPECT_EQ(stale.status().code(), absl::StatusCode::kAborted);
  EXPECT_EQ(catalog_->UpdateItem(name, patch, {"name"}, "", ctx_).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(catalog_->UpdateItem(name, patch, {"type"}, "", ctx_).status().code(),
            absl::StatusCode::kInvalidArgument);
  Item retype = patch;
  retype.type_id = "types/other";
  EXPECT_THAT(ViolatedFields(catalog_->UpdateItem(name, retype, {"title"}, "", ctx_).status()),
              ElementsAre("item.type"));
  Item bad;
  bad.attributes = {{"price", "x"}};
  EXPECT_THAT(ViolatedFields(catalog_->UpdateItem(name, bad, {"attributes"}, "", ctx_).status()),
              UnorderedElementsAre("item.attributes.price", "item.attributes.city"));
}

TEST_F(CatalogTest, GetItemReadsThroughTheCacheAndUpdatesInvalidate) {
  CreateLeadType();
  auto created = catalog_->CreateItem(NewLead("cached"), "", ctx_);
  ASSERT_TRUE(created.ok());
  const std::string name = "items/" + created->id;
  ASSERT_TRUE(catalog_->GetItem(name, ctx_).ok());
  ASSERT_TRUE(catalog_->GetItem(name, ctx_).ok());
  EXPECT_EQ(store_->get_item_calls, 1) << "second read should come from the cache";
  Item patch;
  patch.title = "changed";
  ASSERT_TRUE(catalog_->UpdateItem(name, patch, {"title"}, "", ctx_).ok());
  EXPECT_EQ(cache_->items.count(created->id), 0u);
  auto after = catalog_->GetItem(name, ctx_);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->title, "changed");
}

TEST_F(CatalogTest, SoftDeleteThenUndeleteWithinTheWindow) {
  CreateLeadType();
  auto created = catalog_->CreateItem(NewLead("to delete"), "", ctx_);
  ASSERT_TRUE(created.ok());
  const std::string name = "items/" + created->id;
  ASSERT_TRUE(catalog_->GetItem(name, ctx_).ok());  // now cached
  auto deleted = catalog_->DeleteItem(name, "", ctx_);
  ASSERT_TRUE(deleted.ok());
  ASSERT_TRUE(deleted->delete_time.has_value());
  EXPECT_EQ(catalog_->PurgeTime(*deleted->delete_time), clock_.Now() + absl::Hours(24 * 30));
  EXPECT_EQ(catalog_->GetItem(name, ctx_).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(catalog_->DeleteItem(name, "", ctx_).status().code(), absl::StatusCode::kNotFound);
  ListItemsParams all;
  EXPECT_THAT(catalog_->ListItems(all, ctx_)->values, SizeIs(0));
  all.show_deleted = true;
  EXPECT_THAT(catalog_->ListItems(all, ctx_)->values, SizeIs(1));
  clock_.Advance(absl::Hours(24 * 29));
  ASSERT_TRUE(catalog_->UndeleteItem(name, ctx_).ok());
  EXPECT_TRUE(catalog_->GetItem(name, ctx_).ok());
  EXPECT_EQ(catalog_->UndeleteItem(name, ctx_).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(CatalogTest, UndeleteAfterTheWindowIsNotFoundAndPurgeRemovesIt) {
  CreateLeadType();
  auto created = catalog_->CreateItem(NewLead("old"), "", ctx_);
  ASSERT_TRUE(created.ok());
  const std::string name = "items/" + created->id;
  ASSERT_TRUE(catalog_->DeleteItem(name, "", ctx_).ok());
  clock_.Advance(absl::Hours(24 * 31));
  EXPECT_EQ(catalog_->UndeleteItem(name, ctx_).status().code(), absl::StatusCode::kNotFound);
  auto purged = catalog_->PurgeExpired(ctx_);
  ASSERT_TRUE(purged.ok());
  EXPECT_EQ(*purged, 1);
  EXPECT_EQ(store_->GetItem(created->id, ctx_).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(CatalogTest, DeleteStaleEtagIsAborted) {
  CreateLeadType();
  auto created = catalog_->CreateItem(NewLead("x"), "", ctx_);
  ASSERT_TRUE(created.ok());
  EXPECT_EQ(catalog_->DeleteItem("items/" + created->id, "999", ctx_).status().code(),
            absl::StatusCode::kAborted);
}

// Each error names its specific reason (README.md, "Error reasons") and the resource.
TEST_F(CatalogTest, ErrorsNameTheirReasonAndResource) {
  auto missing = catalog_->GetItem("items/nope", ctx_);
  EXPECT_EQ(ReasonOf(missing.status()), "ITEM_NOT_FOUND");
  EXPECT_EQ(ErrorInfoOf(missing.status())->metadata().at("item"), "items/nope");
  EXPECT_EQ(ReasonOf(catalog_->GetItemType("types/nope", ctx_).status()), "ITEM_TYPE_NOT_FOUND");
  CreateLeadType();
  EXPECT_EQ(ReasonOf(catalog_->CreateItemType("lead", LeadType(), ctx_).status()),
            "ITEM_TYPE_ALREADY_EXISTS");
  auto created = catalog_->CreateItem(NewLead("x"), "req-r", ctx_);
  ASSERT_TRUE(created.ok());
  const std::string name = "items/" + created->id;
  EXPECT_EQ(ReasonOf(catalog_->CreateItem(NewLead("y"), "req-r", ctx_).status()),
            "REQUEST_ID_REUSED");
  auto stale = catalog_->DeleteItem(name, "999", ctx_);
  EXPECT_EQ(ReasonOf(stale.status()), "ETAG_MISMATCH");
  EXPECT_EQ(ErrorInfoOf(stale.status())->metadata().at("field"), "etag");
  EXPECT_EQ(ReasonOf(catalog_->UndeleteItem(name, ctx_).status()), "ITEM_NOT_DELETED");
  ASSERT_TRUE(catalog_->DeleteItem(name, "", ctx_).ok());
  EXPECT_EQ(ReasonOf(catalog_->GetItem(name, ctx_).status()), "ITEM_DELETED");
  EXPECT_EQ(ReasonOf(catalog_->DeleteItemType("types/lead", ctx_)), "ITEM_TYPE_IN_USE");
  clock_.Advance(absl::Hours(24 * 31));
  EXPECT_EQ(ReasonOf(catalog_->UndeleteItem(name, ctx_).status()), "UNDELETE_WINDOW_PASSED");
}

TEST_F(CatalogTest, DeleteTypeWithItemsIsFailedPrecondition) {
  CreateLeadType();
  ASSERT_TRUE(catalog_->CreateItem(NewLead("x"), "", ctx_).ok());
  EXPECT_EQ(catalog_->DeleteItemType("types/lead", ctx_).code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(CatalogTest, TypeUpdatesWhileItemsExistMayOnlyAddOptionalAttributes) {
  CreateLeadType();
  ASSERT_TRUE(catalog_->CreateItem(NewLead("x"), "", ctx_).ok());
  ItemType t = LeadType();
  t.attributes.push_back({"notes", AttributeKind::kString, false, ""});
  auto added = catalog_->UpdateItemType("types/lead", t, {"attributes"}, "", ctx_);
  ASSERT_TRUE(added.ok()) << added.status();
  EXPECT_THAT(added->attributes, SizeIs(6));
  t.attributes.push_back({"score", AttributeKind::kNumber, true, ""});
  EXPECT_EQ(catalog_->UpdateItemType("types/lead", t, {"attributes"}, "", ctx_).status().code(),
            absl::StatusCode::kFailedPrecondition);
  ItemType renamed;
  renamed.display_name = "Leads";
  auto display = catalog_->UpdateItemType("types/lead", renamed, {"display_name"}, "", ctx_);
  ASSERT_TRUE(display.ok());
  EXPECT_EQ(display->display_name, "Leads");
  EXPECT_THAT(display->attributes, SizeIs(6)) << "attributes outside the mask are kept";
  EXPECT_EQ(
      catalog_->UpdateItemType("types/lead", renamed, {"display_name"}, "1", ctx_).status().code(),
      absl::StatusCode::kAborted);
}

TEST_F(CatalogTest, ListItemsPagesAreStableWhileOthersInsert) {
  CreateLeadType();
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(catalog_->CreateItem(NewLead("item"), "", ctx_)->id);
  ListItemsParams p;
  p.page_size = 2;
  std::vector<std::string> seen;
  for (int page = 0; page < 10; ++page) {
    auto r = catalog_->ListItems(p, ctx_);
    ASSERT_TRUE(r.ok()) << r.status();
    for (const auto& it : r->values) seen.push_back(it.id);
    if (page == 0) ids.push_back(catalog_->CreateItem(NewLead("late"), "", ctx_)->id);
    if (r->next_page_token.empty()) break;
    p.page_token = r->next_page_token;
  }
  EXPECT_EQ(seen, ids);
}

TEST_F(CatalogTest, PageTokenOfAnotherQueryIsRejected) {
  CreateLeadType();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(catalog_->CreateItem(NewLead("x"), "", ctx_).ok());
  ListItemsParams p;
  p.page_size = 1;
  auto r = catalog_->ListItems(p, ctx_);
  ASSERT_TRUE(r.ok());
  p.page_token = r->next_page_token;
  p.filter = "attributes.city = \"Recife\"";
  auto st = catalog_->ListItems(p, ctx_).status();
  EXPECT_THAT(ViolatedFields(st), ElementsAre("page_token"));
}

TEST_F(CatalogTest, ListItemsFiltersByTypeAttributesAndLabels) {
  CreateLeadType();
  ASSERT_TRUE(catalog_->CreateItemType("doc", {}, ctx_).ok());
  Item a = NewLead("a", "Recife");
  a.labels = {{"stage", "hot"}};
  Item b = NewLead("b", "Olinda");
  ASSERT_TRUE(catalog_->CreateItem(a, "", ctx_).ok());
  ASSERT_TRUE(catalog_->CreateItem(b, "", ctx_).ok());
  Item d;
  d.type_id = "doc";
  d.title = "doc";
  ASSERT_TRUE(catalog_->CreateItem(d, "", ctx_).ok());
  ListItemsParams p;
  p.type = "lead";
  EXPECT_THAT(catalog_->ListItems(p, ctx_)->values, SizeIs(2));
  p.filter = "attributes.city = \"Recife\" AND labels.stage:*";
  auto r = catalog_->ListItems(p, ctx_);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_THAT(r->values, SizeIs(1));
  EXPECT_EQ(r->values[0].title, "a");
  p.filter = "city = Recife";
  EXPECT_THAT(ViolatedFields(catalog_->ListItems(p, ctx_).status()), ElementsAre("filter"));
  p.filter = "";
  p.type = "Not A Type";
  EXPECT_THAT(ViolatedFields(catalog_->ListItems(p, ctx_).status()), ElementsAre("type"));
}

TEST_F(CatalogTest, SearchValidatesQueryAndPaginates) {
  CreateLeadType();
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(catalog_->CreateItem(NewLead("casa praia"), "", ctx_).ok());
  SearchParams p;
  EXPECT_THAT(ViolatedFields(catalog_->SearchItems(p, ctx_).status()), ElementsAre("query"));
  p.query = "   \"\" ";
  EXPECT_THAT(ViolatedFields(catalog_->SearchItems(p, ctx_).status()), ElementsAre("query"));
  p.query = "casa";
  p.page_size = 2;
  auto first = catalog_->SearchItems(p, ctx_);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_THAT(first->values, SizeIs(2));
  EXPECT_EQ(store_->last_tsquery, "'casa'");
  p.page_token = first->next_page_token;
  auto second = catalog_->SearchItems(p, ctx_);
  ASSERT_TRUE(second.ok());
  EXPECT_THAT(second->values, SizeIs(1));
  EXPECT_TRUE(second->next_page_token.empty());
  p.query = "praia";
  EXPECT_EQ(catalog_->SearchItems(p, ctx_).status().code(), absl::StatusCode::kInvalidArgument);
}

// AIP-158: an oversized page_size is clamped to the maximum, on every list.
TEST_F(CatalogTest, EveryListClampsAnOversizedPageSize) {
  CreateLeadType();
  ASSERT_TRUE(catalog_->CreateItem(NewLead("praia"), "", ctx_).ok());
  EXPECT_TRUE(catalog_->ListItemTypes(1 << 30, "", ctx_).ok());
  ListItemsParams items;
  items.page_size = 1 << 30;
  auto listed = catalog_->ListItems(items, ctx_);
  ASSERT_TRUE(listed.ok()) << listed.status();
  EXPECT_EQ(listed->values.size(), 1u);
  SearchParams search;
  search.query = "praia";
  search.page_size = 1 << 30;
  EXPECT_TRUE(catalog_->SearchItems(search, ctx_).ok());
}

TEST_F(CatalogTest, BadNamesAreInvalidArgument) {
  EXPECT_THAT(ViolatedFields(catalog_->GetItem("", ctx_).status()), ElementsAre("name"));
  EXPECT_THAT(ViolatedFields(catalog_->GetItem("items/UPPER", ctx_).status()), ElementsAre("name"));
  EXPECT_THAT(ViolatedFields(catalog_->GetItem("types/lead", ctx_).status()), ElementsAre("name"));
  EXPECT_EQ(catalog_->GetItem("items/does-not-exist", ctx_).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(CatalogTest, ReadyReflectsTheStore) {
  EXPECT_TRUE(catalog_->Ready(ctx_).ok());
  store_->ping_status = absl::UnavailableError("down");
  EXPECT_EQ(catalog_->Ready(ctx_).code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace genesis::catalog
