// SearchItems through each engine on real PostgreSQL (label `pg`): the same
// user-visible behaviour with --search_engine=postgres and =xapian (stems,
// accents, phrases, prefixes, OR, exclusions, ranking, filters, snippets,
// pagination, changes and deletes), then the change log the index applies:
// a transaction that commits late is never skipped, rebuilds, trimming.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <pqxx/pqxx>
#include <thread>

#include "common/base/metrics.h"
#include "common/storage/migrations.h"
#include "services/catalog/catalog.h"
#include "services/catalog/pg_store.h"
#include "services/catalog/xapian_index.h"
#include "tests/testing/test_database.h"

namespace genesis {
std::vector<Migration> CatalogMigrations();
}

namespace genesis::catalog {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;
using ::testing::UnorderedElementsAre;

class SearchEngineTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    db_ = genesis::testing::TestDatabase::Create();
    if (!db_) GTEST_SKIP() << "GENESIS_TEST_PG_DSN not set (scripts/test.sh sets it)";
    ASSERT_TRUE(ApplyMigrations(db_->dsn(), "catalog", CatalogMigrations()).ok());
    PgPoolOptions options;
    options.dsn = db_->dsn();
    options.size = 4;
    pool_ = std::make_unique<PgPool>(options, nullptr);
    auto store = std::make_unique<PgCatalogStore>(pool_.get());
    store_ = store.get();
    std::unique_ptr<SearchIndex> index;
    if (GetParam() == "xapian") {
      auto opened = XapianSearchIndex::Open({});
      ASSERT_TRUE(opened.ok()) << opened.status();
      index = std::move(*opened);
    }
    metrics_ = CatalogMetrics::Register(&registry_);
    CatalogOptions catalog_options;
    catalog_options.search_index_wait = absl::Seconds(10);
    catalog_ = std::make_unique<Catalog>(std::move(store), nullptr, catalog_options, metrics_,
                                         std::move(index));
    if (IndexSync* sync = catalog_->index_sync()) {
      // As the service's loop does: apply the log every few milliseconds.
      ASSERT_TRUE(sync->CatchUp(ctx_).ok());
      syncer_ = std::thread([this, sync] {
        while (!stop_) {
          auto n = sync->Step(CallContext::Background());
          EXPECT_TRUE(n.ok()) << n.status();
          if (n.ok() && *n == 0) absl::SleepFor(absl::Milliseconds(5));
        }
      });
    }
    ItemType t;
    t.attributes = {{"city", AttributeKind::kString, false, ""},
                    {"price", AttributeKind::kNumber, false, ""},
                    {"tags", AttributeKind::kStringList, false, ""}};
    ASSERT_TRUE(catalog_->CreateItemType("lead", t, ctx_).ok());
  }
  void TearDown() override {
    stop_ = true;
    if (syncer_.joinable()) syncer_.join();
    if (catalog_ && GetParam() == "xapian") {
      // Every search was answered by the index, none by PostgreSQL.
      EXPECT_EQ(metrics_.search_fallback_building->Value(), 0);
      EXPECT_EQ(metrics_.search_fallback_lagging->Value(), 0);
      EXPECT_EQ(metrics_.search_fallback_error->Value(), 0);
    }
  }

  std::string Create(const std::string& title, const std::string& body,
                     nlohmann::json attributes = nlohmann::json::object(),
                     std::map<std::string, std::string> labels = {}) {
    Item it;
    it.type_id = "lead";
    it.title = title;
    it.body = body;
    it.attributes = std::move(attributes);
    it.labels = std::move(labels);
    auto r = catalog_->CreateItem(it, "", ctx_);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? "items/" + r->id : "";
  }
  absl::StatusOr<Page<SearchHit>> Search(const std::string& query, const std::string& filter = "",
                                         int page_size = 0, const std::string& token = "") {
    SearchParams p;
    p.query = query;
    p.filter = filter;
    p.page_size = page_size;
    p.page_token = token;
    return catalog_->SearchItems(p, ctx_);
  }
  std::vector<std::string> Titles(const std::string& query, const std::string& filter = "") {
    auto r = Search(query, filter);
    EXPECT_TRUE(r.ok()) << query << ": " << r.status();
    std::vector<std::string> titles;
    if (r.ok()) {
      for (const auto& h : r->values) titles.push_back(h.item.title);
    }
    return titles;
  }

  std::unique_ptr<genesis::testing::TestDatabase> db_;
  std::unique_ptr<PgPool> pool_;
  PgCatalogStore* store_ = nullptr;
  MetricsRegistry registry_;
  CatalogMetrics metrics_;
  std::unique_ptr<Catalog> catalog_;
  std::atomic<bool> stop_{false};
  std::thread syncer_;
  CallContext ctx_ = CallContext::Background();
};

TEST_P(SearchEngineTest, AccentsCaseAndBothStems) {
  Create("Contrato social", "Razão social da empresa Imobiliária São João");
  Create("Running shoes", "The runners were running fast");
  Create("Outro", "nada a ver");
  EXPECT_THAT(Titles("razao"), ElementsAre("Contrato social"));
  EXPECT_THAT(Titles("RAZÃO imobiliaria"), ElementsAre("Contrato social"));
  EXPECT_THAT(Titles("sao joao"), ElementsAre("Contrato social"));
  EXPECT_THAT(Titles("run"), ElementsAre("Running shoes"));
  EXPECT_THAT(Titles("contratos"), ElementsAre("Contrato social"));
}

TEST_P(SearchEngineTest, PhrasePrefixExclusionAndOr) {
  Create("A", "apartamento com vista para o mar");
  Create("B", "mar com vista para o apartamento");
  Create("C", "casa de campo");
  EXPECT_THAT(Titles("\"vista para o mar\""), ElementsAre("A"));
  EXPECT_THAT(Titles("apart*"), UnorderedElementsAre("A", "B"));
  EXPECT_THAT(Titles("apartamento -\"vista para o mar\""), ElementsAre("B"));
  EXPECT_THAT(Titles("campo OR \"vista para o mar\""), UnorderedElementsAre("A", "C"));
  EXPECT_THAT(Titles("100% & | ! ( ) ' \\"), IsEmpty());
}

TEST_P(SearchEngineTest, TitlesWeighMore) {
  Create("Body only", "um texto sobre piscina e jardim");
  Create("Piscina aquecida", "texto qualquer");
  EXPECT_THAT(Titles("piscina"), ElementsAre("Piscina aquecida", "Body only"));
}

TEST_P(SearchEngineTest, FiltersOnAttributesAndLabels) {
  Create("Recife barato", "casa", {{"city", "Recife"}, {"price", 100000}, {"tags", {"vip"}}},
         {{"stage", "hot"}});
  Create("Recife caro", "casa", {{"city", "Recife"}, {"price", 900000}});
  Create("Olinda", "casa", {{"city", "Olinda"}, {"price", 200000}}, {{"stage", "cold"}});
  EXPECT_THAT(Titles("casa", "attributes.city = \"Recife\" AND attributes.price < 500000"),
              ElementsAre("Recife barato"));
  EXPECT_THAT(Titles("casa", "attributes.tags:\"vip\""), ElementsAre("Recife barato"));
  EXPECT_THAT(Titles("casa", "labels.stage:*"), UnorderedElementsAre("Recife barato", "Olinda"));
  EXPECT_THAT(Titles("casa", "labels.stage != \"hot\""),
              UnorderedElementsAre("Recife caro", "Olinda"));
  EXPECT_THAT(Titles("casa", "attributes.price >= 200000 AND attributes.city > \"P\""),
              ElementsAre("Recife caro"));
}

TEST_P(SearchEngineTest, SnippetsMarkTheMatches) {
  Create("T", "Um apartamento espaçoso perto da praia de Boa Viagem");
  Create("Dogs", "The dogs were running in the park");
  Create("Piscina aquecida", "texto sem a palavra");
  auto r = Search("praia");
  ASSERT_TRUE(r.ok());
  ASSERT_THAT(r->values, SizeIs(1));
  EXPECT_THAT(r->values[0].snippet, HasSubstr("<mark>praia</mark>"));
  EXPECT_GT(r->values[0].score, 0);
  r = Search("run");
  ASSERT_TRUE(r.ok());
  ASSERT_THAT(r->values, SizeIs(1));
  EXPECT_THAT(r->values[0].snippet, HasSubstr("<mark>running</mark>"));
  r = Search("piscina");
  ASSERT_TRUE(r.ok());
  ASSERT_THAT(r->values, SizeIs(1));
  EXPECT_THAT(r->values[0].snippet, HasSubstr("<mark>Piscina</mark>"));
}

TEST_P(SearchEngineTest, PagesCoverEveryMatchOnce) {
  for (int i = 0; i < 7; ++i) Create("casa " + std::to_string(i), "");
  std::set<std::string> seen;
  std::string token;
  int pages = 0;
  do {
    auto r = Search("casa", "", 3, token);
    ASSERT_TRUE(r.ok()) << r.status();
    for (const auto& h : r->values) EXPECT_TRUE(seen.insert(h.item.id).second);
    token = r->next_page_token;
    ++pages;
  } while (!token.empty() && pages < 10);
  EXPECT_EQ(seen.size(), 7u);
  EXPECT_EQ(pages, 3);
}

TEST_P(SearchEngineTest, ReadsItsOwnWritesAndNeverShowsDeletedItems) {
  auto name = Create("Antes", "palavra antiga");
  EXPECT_THAT(Titles("antiga"), ElementsAre("Antes"));
  Item patch;
  patch.body = "palavra nova";
  ASSERT_TRUE(catalog_->UpdateItem(name, patch, {"body"}, "", ctx_).ok());
  EXPECT_THAT(Titles("antiga"), IsEmpty());
  EXPECT_THAT(Titles("nova"), ElementsAre("Antes"));
  ASSERT_TRUE(catalog_->DeleteItem(name, "", ctx_).ok());
  EXPECT_THAT(Titles("nova"), IsEmpty());
  ASSERT_TRUE(catalog_->UndeleteItem(name, ctx_).ok());
  EXPECT_THAT(Titles("nova"), ElementsAre("Antes"));
}

INSTANTIATE_TEST_SUITE_P(Engines, SearchEngineTest, ::testing::Values("postgres", "xapian"),
                         [](const auto& info) { return info.param; });

// ---- the change log ----------------------------------------------------------

class IndexLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = genesis::testing::TestDatabase::Create();
    if (!db_) GTEST_SKIP() << "GENESIS_TEST_PG_DSN not set (scripts/test.sh sets it)";
    ASSERT_TRUE(ApplyMigrations(db_->dsn(), "catalog", CatalogMigrations()).ok());
    PgPoolOptions options;
    options.dsn = db_->dsn();
    options.size = 4;
    pool_ = std::make_unique<PgPool>(options, nullptr);
    store_ = std::make_unique<PgCatalogStore>(pool_.get());
    pqxx::connection c(db_->dsn());
    pqxx::work tx(c);
    tx.exec0("INSERT INTO catalog.item_types (id) VALUES ('lead')");
    tx.commit();
  }
  static std::string InsertSql(const std::string& id) {
    return "INSERT INTO catalog.items (id, type_id, title) VALUES ('" + id + "', 'lead', 'casa')";
  }
  // Reads the log from `*from` until `want` were all seen (transactions of
  // other databases on the server may hold the horizon back for a moment) or
  // 10 s passed; the ids seen.
  std::set<std::string> DrainUntil(int64_t* from, const std::set<std::string>& want) {
    std::set<std::string> seen;
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    for (;;) {
      for (const auto& id : Drain(from)) seen.insert(id);
      bool all = true;
      for (const auto& w : want) all = all && seen.count(w) > 0;
      if (all || absl::Now() > deadline) return seen;
      absl::SleepFor(absl::Milliseconds(5));
    }
  }
  // Reads the log from `*from` until it is exhausted; the ids seen.
  std::set<std::string> Drain(int64_t* from) {
    std::set<std::string> ids;
    for (;;) {
      auto b = store_->ReadIndexChanges(*from, 100, ctx_);
      EXPECT_TRUE(b.ok()) << b.status();
      if (!b.ok()) return ids;
      for (const auto& c : b->changes) ids.insert(c.id);
      *from = b->applied_through;
      if (!b->more) return ids;
    }
  }

  std::unique_ptr<genesis::testing::TestDatabase> db_;
  std::unique_ptr<PgPool> pool_;
  std::unique_ptr<PgCatalogStore> store_;
  CallContext ctx_ = CallContext::Background();
};

TEST_F(IndexLogTest, ATransactionThatCommitsLateIsNotSkipped) {
  int64_t from = 1;
  Drain(&from);
  // `early` takes its log row (lower seq, lower xid) first but commits last.
  pqxx::connection c1(db_->dsn()), c2(db_->dsn());
  pqxx::work early(c1);
  early.exec0(InsertSql("early"));
  {
    pqxx::work late(c2);
    late.exec0(InsertSql("late"));
    late.commit();
  }
  std::set<std::string> seen = Drain(&from);
  EXPECT_EQ(seen.count("early"), 0u);
  early.commit();
  for (const auto& id : DrainUntil(&from, {"early", "late"})) seen.insert(id);
  EXPECT_EQ(seen.count("early"), 1u) << "the late commit was read after all";
  EXPECT_EQ(seen.count("late"), 1u);
}

TEST_F(IndexLogTest, ChangesCarryTheCurrentStateAndDeletesAreRemovals) {
  int64_t from = 1;
  Drain(&from);
  {
    pqxx::connection c(db_->dsn());
    pqxx::work tx(c);
    tx.exec0(InsertSql("a"));
    tx.exec0(InsertSql("b"));
    tx.exec0("UPDATE catalog.items SET title = 'novo' WHERE id = 'a'");
    tx.exec0("UPDATE catalog.items SET delete_time = now() WHERE id = 'b'");
    tx.commit();
  }
  absl::StatusOr<IndexChangeBatch> b;
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  do {
    b = store_->ReadIndexChanges(from, 100, ctx_);
    ASSERT_TRUE(b.ok()) << b.status();
  } while (b->changes.empty() && absl::Now() < deadline);
  ASSERT_THAT(b->changes, SizeIs(2));
  for (const auto& c : b->changes) {
    if (c.id == "a") {
      ASSERT_TRUE(c.item.has_value());
      EXPECT_EQ(c.item->title, "novo");
    } else {
      EXPECT_EQ(c.id, "b");
      EXPECT_FALSE(c.item.has_value()) << "deleted: removed from the index";
    }
  }
}

TEST_F(IndexLogTest, WritesReportTheirPositionAndTheIndexRebuildsAfterATrim) {
  auto opened = XapianSearchIndex::Open({});
  ASSERT_TRUE(opened.ok());
  XapianSearchIndex* index = opened->get();
  auto owned_store = std::make_unique<PgCatalogStore>(pool_.get());
  PgCatalogStore* store = owned_store.get();
  Catalog catalog(std::move(owned_store), nullptr, CatalogOptions{}, CatalogMetrics{},
                  std::move(*opened));
  IndexSync* sync = catalog.index_sync();
  Item it;
  it.type_id = "lead";
  it.title = "primeiro";
  auto first = catalog.CreateItem(it, "", ctx_);
  ASSERT_TRUE(first.ok());
  EXPECT_GT(first->index_position, 0);
  auto caught_up = [&] {
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (absl::Now() < deadline) {
      if (!sync->CatchUp(ctx_).ok()) return false;
      if (sync->WaitForWrites(absl::Now())) return true;
      absl::SleepFor(absl::Milliseconds(5));
    }
    return false;
  };
  ASSERT_TRUE(caught_up());  // builds
  EXPECT_EQ(index->Size(), 1);
  EXPECT_GT(index->AppliedThrough(), first->index_position);

  it.title = "segundo";
  auto second = catalog.CreateItem(it, "", ctx_);
  ASSERT_TRUE(second.ok());
  EXPECT_GT(second->index_position, first->index_position);
  // Trimming everything up to now: this index has not applied `second`.
  auto trimmed = store->TrimIndexChanges(absl::Now() + absl::Seconds(1), ctx_);
  ASSERT_TRUE(trimmed.ok()) << trimmed.status();
  EXPECT_GT(*trimmed, 0);
  EXPECT_EQ(store->ReadIndexChanges(index->AppliedThrough(), 100, ctx_).status().code(),
            absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(caught_up());  // rebuilds
  EXPECT_EQ(index->Size(), 2);

  // Deleted items leave the index.
  ASSERT_TRUE(catalog.DeleteItem("items/" + first->id, "", ctx_).ok());
  ASSERT_TRUE(store->Purge(absl::Now() + absl::Seconds(1), absl::Now(), ctx_).ok());
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (index->Size() != 1 && absl::Now() < deadline) {
    ASSERT_TRUE(sync->CatchUp(ctx_).ok());
    absl::SleepFor(absl::Milliseconds(5));
  }
  EXPECT_EQ(index->Size(), 1);
}

}  // namespace
}  // namespace genesis::catalog
