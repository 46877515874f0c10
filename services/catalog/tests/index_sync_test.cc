// IndexSync and the Catalog's indexed search on the fake store (label `unit`):
// the first build, applying the change log, rebuilding after a trimmed log,
// read-your-writes, deleted items, and answering from PostgreSQL's index
// while the search index is not built, lags or fails.
#include "services/catalog/index_sync.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "services/catalog/catalog.h"
#include "services/catalog/tests/fake_search_index.h"
#include "services/catalog/tests/fake_store.h"

namespace genesis::catalog {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::SizeIs;

class IndexSyncTest : public ::testing::Test {
 protected:
  IndexSyncTest() {
    auto store = std::make_unique<testing::FakeCatalogStore>();
    auto index = std::make_unique<testing::FakeSearchIndex>();
    store_ = store.get();
    index_ = index.get();
    CatalogOptions options;
    options.search_index_wait = absl::Milliseconds(50);
    catalog_ = std::make_unique<Catalog>(std::move(store), nullptr, options, CatalogMetrics{},
                                         std::move(index));
    sync_ = catalog_->index_sync();
    ItemType t;
    EXPECT_TRUE(catalog_->CreateItemType("lead", t, ctx_).ok());
  }

  std::string Create(const std::string& title) {
    Item it;
    it.type_id = "lead";
    it.title = title;
    auto r = catalog_->CreateItem(it, "", ctx_);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? "items/" + r->id : "";
  }
  std::vector<std::string> Titles(const std::string& query) {
    SearchParams p;
    p.query = query;
    auto r = catalog_->SearchItems(p, ctx_);
    EXPECT_TRUE(r.ok()) << r.status();
    std::vector<std::string> titles;
    if (r.ok()) {
      for (const auto& h : r->values) titles.push_back(h.item.title);
    }
    return titles;
  }

  CallContext ctx_ = CallContext::Background();
  testing::FakeCatalogStore* store_;
  testing::FakeSearchIndex* index_;
  std::unique_ptr<Catalog> catalog_;
  IndexSync* sync_;
};

TEST_F(IndexSyncTest, FirstStepBuildsTheIndexFromTheStore) {
  Create("casa um");
  EXPECT_FALSE(sync_->Ready());
  ASSERT_TRUE(sync_->CatchUp(ctx_).ok());
  EXPECT_TRUE(sync_->Ready());
  EXPECT_EQ(store_->scans, 1);
  EXPECT_EQ(index_->Size(), 1);
  // Applying the log from the build's position on adds what came after, once.
  Create("casa dois");
  ASSERT_TRUE(sync_->CatchUp(ctx_).ok());
  EXPECT_EQ(index_->Size(), 2);
  EXPECT_EQ(store_->scans, 1);
  auto idle = sync_->Step(ctx_);
  ASSERT_TRUE(idle.ok());
  EXPECT_EQ(*idle, 0) << "nothing left";
}

TEST_F(IndexSyncTest, SearchUsesTheIndexOnceBuiltAndPostgresBefore) {
  Create("casa");
  store_->last_tsquery.clear();
  EXPECT_THAT(Titles("casa"), ElementsAre("casa"));
  EXPECT_EQ(store_->last_tsquery, "'casa'") << "not built yet: answered by the store's search";
  ASSERT_TRUE(sync_->CatchUp(ctx_).ok());
  store_->last_tsquery.clear();
  EXPECT_THAT(Titles("casa"), ElementsAre("casa"));
  EXPECT_EQ(store_->last_tsquery, "") << "answered by the index";
}

TEST_F(IndexSyncTest, ASearchWaitsForThisReplicasWritesOrAnswersFromPostgres) {
  ASSERT_TRUE(sync_->CatchUp(ctx_).ok());
  // Nobody applies the log: the search waits its bound, then asks the store.
  Create("praia");
  store_->last_tsquery.clear();
  EXPECT_THAT(Titles("praia"), ElementsAre("praia"));
  EXPECT_EQ(store_->last_tsquery, "'praia'");
  // A loop that applies on wake-up: the search waits for it and uses the index.
  sync_->set_wake([this] { ASSERT_TRUE(sync_->CatchUp(ctx_).ok()); });
  Create("praia dois");
  store_->last_tsquery.clear();
  EXPECT_THAT(Titles("praia"), SizeIs(2));
  EXPECT_EQ(store_->last_tsquery, "");
}

TEST_F(IndexSyncTest, DeletedItemsNeverAppearEvenBeforeTheIndexKnows) {
  const std::string name = Create("casa");
  ASSERT_TRUE(sync_->CatchUp(ctx_).ok());
  sync_->set_wake(nullptr);
  ASSERT_TRUE(catalog_->DeleteItem(name, "", ctx_).ok());
  // The index still has it (not applied), and the wait for this write times
  // out: the answer comes from PostgreSQL, without it.
  EXPECT_THAT(Titles("casa"), IsEmpty());
  ASSERT_TRUE(sync_->CatchUp(ctx_).ok());
  EXPECT_EQ(index_->Size(), 0);
  EXPECT_THAT(Titles("casa"), IsEmpty());
}

TEST_F(IndexSyncTest, StaleIndexEntriesAreDroppedFromResults) {
  const std::string name = Create("casa");
  ASSERT_TRUE(sync_->CatchUp(ctx_).ok());
  // The item is deleted behind this replica's back (another replica): the
  // index still lists it, the store says it is deleted.
  auto item = store_->GetItem(name.substr(6), ctx_);
  ASSERT_TRUE(store_->SetDeleteTime(item->id, absl::Now(), item->version, ctx_).ok());
  EXPECT_THAT(Titles("casa"), IsEmpty());
}

TEST_F(IndexSyncTest, ATrimmedLogRebuilds) {
  Create("a");
  ASSERT_TRUE(sync_->CatchUp(ctx_).ok());
  Create("casa");
  ASSERT_TRUE(store_->TrimIndexChanges(absl::Now(), ctx_).ok());  // the change is gone
  ASSERT_TRUE(sync_->CatchUp(ctx_).ok());
  EXPECT_EQ(store_->scans, 2);
  EXPECT_THAT(Titles("casa"), ElementsAre("casa"));
}

TEST_F(IndexSyncTest, RequestedRebuildAndFailuresAreReported) {
  ASSERT_TRUE(sync_->CatchUp(ctx_).ok());
  sync_->RequestRebuild();
  ASSERT_TRUE(sync_->Step(ctx_).ok());
  EXPECT_EQ(store_->scans, 2);
  store_->read_changes_status = absl::UnavailableError("database down");
  Create("x");
  EXPECT_EQ(sync_->Step(ctx_).status().code(), absl::StatusCode::kUnavailable);
  store_->read_changes_status = absl::OkStatus();
  index_->search_status = absl::UnavailableError("index broken");
  ASSERT_TRUE(sync_->CatchUp(ctx_).ok());
  EXPECT_THAT(Titles("x"), ElementsAre("x")) << "answered from PostgreSQL";
}

TEST_F(IndexSyncTest, BatchesApplyTheWholeLogInOrder) {
  ASSERT_TRUE(sync_->CatchUp(ctx_).ok());
  for (int i = 0; i < 7; ++i) Create("casa");
  IndexSync small(store_, index_, IndexSyncOptions{.batch_transactions = 2});
  int steps = 0;
  for (;;) {
    auto n = small.Step(ctx_);
    ASSERT_TRUE(n.ok());
    if (*n == 0) break;
    ++steps;
  }
  EXPECT_GE(steps, 4);
  EXPECT_EQ(index_->Size(), 7);
}

}  // namespace
}  // namespace genesis::catalog
