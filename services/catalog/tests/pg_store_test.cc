// The Catalog on real PostgreSQL (label `pg`): migrations, the store's SQL,
// full-text search (stemming, accents, phrases, prefixes, ranking), filters,
// idempotency and concurrency control. Each test gets a fresh database.
#include "services/catalog/pg_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/base/status.h"
#include "common/storage/migrations.h"
#include "services/catalog/catalog.h"
#include "tests/testing/test_database.h"

namespace genesis {
std::vector<Migration> CatalogMigrations();
}

namespace genesis::catalog {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::SizeIs;

class PgStoreTest : public ::testing::Test {
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
    catalog_ = std::make_unique<Catalog>(std::move(store), nullptr, CatalogOptions{});
    ItemType t;
    t.attributes = {{"city", AttributeKind::kString, false, ""},
                    {"price", AttributeKind::kNumber, false, ""},
                    {"tags", AttributeKind::kStringList, false, ""}};
    ASSERT_TRUE(catalog_->CreateItemType("lead", t, ctx_).ok());
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

  std::vector<std::string> SearchTitles(const std::string& query, const std::string& filter = "") {
    SearchParams p;
    p.query = query;
    p.filter = filter;
    auto r = catalog_->SearchItems(p, ctx_);
    EXPECT_TRUE(r.ok()) << query << ": " << r.status();
    std::vector<std::string> titles;
    if (r.ok()) {
      for (const auto& h : r->values) titles.push_back(h.item.title);
    }
    return titles;
  }

  std::vector<std::string> ListTitles(const std::string& filter) {
    ListItemsParams p;
    p.filter = filter;
    auto r = catalog_->ListItems(p, ctx_);
    EXPECT_TRUE(r.ok()) << filter << ": " << r.status();
    std::vector<std::string> titles;
    if (r.ok()) {
      for (const auto& it : r->values) titles.push_back(it.title);
    }
    return titles;
  }

  CallContext ctx_ = CallContext::Background();
  std::unique_ptr<genesis::testing::TestDatabase> db_;
  std::unique_ptr<PgPool> pool_;
  PgCatalogStore* store_ = nullptr;
  std::unique_ptr<Catalog> catalog_;
};

TEST_F(PgStoreTest, MigrationsAreIdempotentAndDetectEdits) {
  int applied = -1;
  ASSERT_TRUE(ApplyMigrations(db_->dsn(), "catalog", CatalogMigrations(), &applied).ok());
  EXPECT_EQ(applied, 0);
  auto edited = CatalogMigrations();
  edited[0].sql += "\n-- edited";
  auto st = ApplyMigrations(db_->dsn(), "catalog", edited);
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(st.message()), HasSubstr("0001_init.sql"));
}

TEST_F(PgStoreTest, ConcurrentMigrationRunsApplyEachFileOnce) {
  auto other = genesis::testing::TestDatabase::Create();
  ASSERT_NE(other, nullptr);
  std::vector<Migration> migrations = {{1, "0001_a.sql", "CREATE TABLE things.t (x int);"},
                                       {2, "0002_b.sql", "INSERT INTO things.t VALUES (1);"}};
  std::vector<std::thread> threads;
  std::atomic<int> total{0}, failures{0};
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      int n = 0;
      if (!ApplyMigrations(other->dsn(), "things", migrations, &n).ok()) ++failures;
      total += n;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(total, 2);
  pqxx::connection conn(other->dsn());
  pqxx::read_transaction tx(conn);
  EXPECT_EQ(tx.exec1("SELECT count(*) FROM things.t")[0].as<int>(), 1);
}

// A retried CreateItemType (same request_id, same type) returns the first type
// and stores no second row; the key with another type is REQUEST_ID_REUSED.
TEST_F(PgStoreTest, CreateItemTypeRequestIdMakesRetriesSafe) {
  ItemType t;
  t.display_name = "Deal";
  t.attributes = {{"value", AttributeKind::kNumber, true, ""}};
  auto first = catalog_->CreateItemType("deal", t, "type-req-1", ctx_);
  ASSERT_TRUE(first.ok()) << first.status();
  auto again = catalog_->CreateItemType("deal", t, "type-req-1", ctx_);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->id, "deal");
  EXPECT_EQ(again->create_time, first->create_time);
  t.display_name = "Other";
  auto other = catalog_->CreateItemType("deal2", t, "type-req-1", ctx_);
  EXPECT_EQ(other.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(ReasonOf(other.status()), "REQUEST_ID_REUSED");
  pqxx::connection conn(db_->dsn());
  pqxx::work tx(conn);
  EXPECT_EQ(tx.exec1("SELECT count(*) FROM catalog.item_types WHERE id LIKE 'deal%'")[0].as<int>(),
            1);
}

TEST_F(PgStoreTest, ItemsRoundTripExactly) {
  const std::string title = R"(Casa "grande" 100% C:\temp\ — ação 🏠 'x')";
  const std::string body = "linha\n\ttab % _ \\\\ ' \" ünïcödé";
  auto name = Create(title, body, {{"city", "São Paulo"}, {"price", 1.5}, {"tags", {"a", "b"}}},
                     {{"stage", "hot"}});
  auto got = catalog_->GetItem(name, ctx_);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->title, title);
  EXPECT_EQ(got->body, body);
  EXPECT_EQ(got->attributes["city"], "São Paulo");
  EXPECT_EQ(got->attributes["price"], 1.5);
  EXPECT_EQ(got->labels.at("stage"), "hot");
  EXPECT_EQ(got->version, 1);
}

TEST_F(PgStoreTest, SearchIgnoresAccentsAndCaseAndStems) {
  Create("Contrato social", "Razão social da empresa Imobiliária São João");
  Create("Running shoes", "The runners were running fast");
  Create("Outro", "nada a ver");
  EXPECT_THAT(SearchTitles("razao"), ElementsAre("Contrato social"));
  EXPECT_THAT(SearchTitles("RAZÃO imobiliaria"), ElementsAre("Contrato social"));
  EXPECT_THAT(SearchTitles("sao joao"), ElementsAre("Contrato social"));
  EXPECT_THAT(SearchTitles("run"), ElementsAre("Running shoes"));          // English stem
  EXPECT_THAT(SearchTitles("contratos"), ElementsAre("Contrato social"));  // Portuguese stem
}

TEST_F(PgStoreTest, PhrasePrefixNegationAndOr) {
  Create("A", "apartamento com vista para o mar");
  Create("B", "mar com vista para o apartamento");
  Create("C", "casa de campo");
  EXPECT_THAT(SearchTitles("\"vista para o mar\""), ElementsAre("A"));
  EXPECT_THAT(SearchTitles("apart*"), SizeIs(2));
  EXPECT_THAT(SearchTitles("apartamento -\"vista para o mar\""), ElementsAre("B"));
  EXPECT_THAT(SearchTitles("campo OR \"vista para o mar\""), SizeIs(2));
}

TEST_F(PgStoreTest, TitleMatchesRankAboveBodyMatches) {
  Create("Body only", "um texto sobre piscina e jardim");
  Create("Piscina aquecida", "texto qualquer");
  auto titles = SearchTitles("piscina");
  ASSERT_THAT(titles, SizeIs(2));
  EXPECT_EQ(titles[0], "Piscina aquecida");
}

TEST_F(PgStoreTest, RankWindowBoundsHowManyMatchesAreRanked) {
  for (int i = 0; i < 5; ++i) Create("casa " + std::to_string(i), "");
  SearchQuery q;
  q.tsquery = "'casa'";
  q.limit = 10;
  q.rank_window = 3;
  auto bounded = store_->SearchItems(q, ctx_);
  ASSERT_TRUE(bounded.ok()) << bounded.status();
  EXPECT_THAT(bounded->hits, SizeIs(3));
  EXPECT_FALSE(bounded->more);
  q.rank_window = 0;
  EXPECT_THAT(store_->SearchItems(q, ctx_)->hits, SizeIs(5));
}

TEST_F(PgStoreTest, SnippetHighlightsMatches) {
  Create("T", "Um apartamento espaçoso perto da praia de Boa Viagem");
  SearchParams p;
  p.query = "praia";
  auto r = catalog_->SearchItems(p, ctx_);
  ASSERT_TRUE(r.ok());
  ASSERT_THAT(r->values, SizeIs(1));
  EXPECT_THAT(r->values[0].snippet, HasSubstr("<mark>praia</mark>"));
  EXPECT_GT(r->values[0].score, 0);
}

TEST_F(PgStoreTest, SnippetFallsBackToEnglishStemsAndToTheTitle) {
  Create("Dogs", "The dogs were running in the park");
  Create("Piscina aquecida", "texto sem a palavra");
  SearchParams p;
  p.query = "run";
  auto en = catalog_->SearchItems(p, ctx_);
  ASSERT_TRUE(en.ok());
  ASSERT_THAT(en->values, SizeIs(1));
  EXPECT_THAT(en->values[0].snippet, HasSubstr("<mark>running</mark>"));
  p.query = "piscina";
  auto title = catalog_->SearchItems(p, ctx_);
  ASSERT_TRUE(title.ok());
  ASSERT_THAT(title->values, SizeIs(1));
  EXPECT_THAT(title->values[0].snippet, HasSubstr("<mark>Piscina</mark>"));
}

TEST_F(PgStoreTest, LargeBodyUnderTheSizeLimitIsStoredAndSearchable) {
  // 100,000 distinct words (~900 KB) would overflow a tsvector; the index
  // covers the first 100,000 characters and the item is stored whole.
  std::string body = "marcador ";
  for (int i = 0; i < 100000; ++i) {
    std::string w(8, 'a');
    int n = i;
    for (int k = 0; k < 8; ++k, n /= 26) w[k] = static_cast<char>('a' + n % 26);
    body += w + " ";
  }
  ASSERT_LT(body.size(), 1u << 20);
  auto name = Create("Grande", body);
  ASSERT_FALSE(name.empty());
  EXPECT_EQ(catalog_->GetItem(name, ctx_)->body, body);
  EXPECT_THAT(SearchTitles("marcador"), ElementsAre("Grande"));
}

TEST_F(PgStoreTest, SearchQuerySyntaxCharactersAreData) {
  Create("Special", "preço 100% garantido & outras coisas");
  EXPECT_THAT(SearchTitles("100% & | ! ( ) ' \\"), ElementsAre("Special"));
  EXPECT_THAT(SearchTitles("garantido'); DROP TABLE catalog.items; --"), SizeIs(0));
  EXPECT_THAT(SearchTitles("garantido"), ElementsAre("Special"));
}

TEST_F(PgStoreTest, SearchAndListFilterOnAttributesAndLabels) {
  Create("Recife barato", "casa", {{"city", "Recife"}, {"price", 100000}, {"tags", {"vip"}}},
         {{"stage", "hot"}});
  Create("Recife caro", "casa", {{"city", "Recife"}, {"price", 900000}});
  Create("Olinda", "casa", {{"city", "Olinda"}, {"price", 200000}}, {{"stage", "cold"}});
  EXPECT_THAT(SearchTitles("casa", "attributes.city = \"Recife\" AND attributes.price < 500000"),
              ElementsAre("Recife barato"));
  EXPECT_THAT(ListTitles("attributes.price >= 200000"), ElementsAre("Recife caro", "Olinda"));
  EXPECT_THAT(ListTitles("attributes.tags:\"vip\""), ElementsAre("Recife barato"));
  EXPECT_THAT(ListTitles("labels.stage:*"), ElementsAre("Recife barato", "Olinda"));
  EXPECT_THAT(ListTitles("labels.stage != \"hot\""), ElementsAre("Recife caro", "Olinda"));
  EXPECT_THAT(ListTitles("attributes.city > \"P\""), ElementsAre("Recife barato", "Recife caro"));
}

TEST_F(PgStoreTest, IndexFollowsUpdatesAndDeletesInTheSameTransaction) {
  auto name = Create("Antes", "palavra antiga");
  Item patch;
  patch.body = "palavra nova";
  ASSERT_TRUE(catalog_->UpdateItem(name, patch, {"body"}, "", ctx_).ok());
  EXPECT_THAT(SearchTitles("antiga"), SizeIs(0));
  EXPECT_THAT(SearchTitles("nova"), ElementsAre("Antes"));
  ASSERT_TRUE(catalog_->DeleteItem(name, "", ctx_).ok());
  EXPECT_THAT(SearchTitles("nova"), SizeIs(0));
  ASSERT_TRUE(catalog_->UndeleteItem(name, ctx_).ok());
  EXPECT_THAT(SearchTitles("nova"), ElementsAre("Antes"));
}

TEST_F(PgStoreTest, StaleVersionIsAborted) {
  auto name = Create("x", "");
  auto item = catalog_->GetItem(name, ctx_);
  ASSERT_TRUE(item.ok());
  auto type = store_->GetType("lead", ctx_);
  ASSERT_TRUE(store_->UpdateItem(*item, item->version, type->version, ctx_).ok());
  EXPECT_EQ(store_->UpdateItem(*item, item->version, type->version, ctx_).status().code(),
            absl::StatusCode::kAborted);
  Item ghost = *item;
  ghost.id = "00000000-0000-7000-8000-000000000000";
  EXPECT_EQ(store_->UpdateItem(ghost, 1, type->version, ctx_).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(PgStoreTest, IdempotentCreateUnderConcurrency) {
  std::vector<std::thread> threads;
  std::mutex mu;
  std::set<std::string> ids;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      Item it;
      it.type_id = "lead";
      it.title = "same";
      auto r = catalog_->CreateItem(it, "retry-key", ctx_);
      ASSERT_TRUE(r.ok()) << r.status();
      std::lock_guard<std::mutex> l(mu);
      ids.insert(r->id);
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_THAT(ids, SizeIs(1));
  ListItemsParams p;
  EXPECT_THAT(catalog_->ListItems(p, ctx_)->values, SizeIs(1));
}

TEST_F(PgStoreTest, DeleteTypeWithItemsIsFailedPreconditionAndCountsDeleted) {
  auto name = Create("x", "");
  ASSERT_TRUE(catalog_->DeleteItem(name, "", ctx_).ok());
  auto st = catalog_->DeleteItemType("types/lead", ctx_);
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(st.message()), HasSubstr("1 of them deleted"));
  EXPECT_EQ(catalog_->DeleteItemType("types/none", ctx_).code(), absl::StatusCode::kNotFound);
}

TEST_F(PgStoreTest, PurgeRemovesItemsPastTheWindow) {
  auto keep = Create("keep", "");
  auto drop = Create("drop", "");
  ASSERT_TRUE(catalog_->DeleteItem(drop, "", ctx_).ok());
  auto purged = store_->Purge(absl::Now() + absl::Seconds(1), absl::Now(), ctx_);
  ASSERT_TRUE(purged.ok()) << purged.status();
  EXPECT_EQ(*purged, 1);
  EXPECT_TRUE(catalog_->GetItem(keep, ctx_).ok());
  EXPECT_EQ(store_->GetItem(drop.substr(6), ctx_).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(PgStoreTest, UnreachableDatabaseIsUnavailable) {
  PgPoolOptions options;
  options.dsn = "postgresql://postgres@127.0.0.1:1/none";
  options.connect_timeout = absl::Seconds(1);
  PgPool dead(options, nullptr);
  PgCatalogStore store(&dead);
  EXPECT_EQ(store.Ping(ctx_).code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(store.GetItem("x", ctx_).status().code(), absl::StatusCode::kUnavailable);
}

TEST_F(PgStoreTest, StatementsStopAtTheCallersDeadline) {
  CallContext ctx = CallContext::Background(absl::Milliseconds(200));
  auto st = pool_->ReadOnly(ctx.deadline, [](pqxx::read_transaction& tx) -> absl::Status {
    tx.exec("SELECT pg_sleep(5)");
    return absl::OkStatus();
  });
  EXPECT_EQ(st.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_TRUE(pool_->Ping(CallContext::Background().deadline).ok()) << "pool still usable";
}

}  // namespace
}  // namespace genesis::catalog
