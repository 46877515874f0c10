// The Xapian search index on its own (label `unit`): what a search finds and in
// which order, filters, changes, persistence across reopening, rebuilds and
// highlighting. In memory and on disk (a temporary directory).
#include "services/catalog/xapian_index.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "services/catalog/search_text.h"

namespace genesis::catalog {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

Item MakeItem(const std::string& id, const std::string& title, const std::string& body,
              nlohmann::json attributes = nlohmann::json::object(),
              std::map<std::string, std::string> labels = {}, const std::string& type = "lead") {
  Item it;
  it.id = id;
  it.type_id = type;
  it.title = title;
  it.body = body;
  it.attributes = std::move(attributes);
  it.labels = std::move(labels);
  return it;
}

class XapianIndexTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    if (GetParam()) {
      dir_ = std::filesystem::temp_directory_path() /
             absl::StrCat("xapian_index_test_", getpid(), "_",
                          ::testing::UnitTest::GetInstance()->random_seed(), "_",
                          ::testing::UnitTest::GetInstance()->current_test_info()->name());
      std::filesystem::remove_all(dir_);
    }
    Reopen();
  }
  void TearDown() override {
    index_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  void Reopen() {
    index_.reset();
    XapianIndexOptions o;
    o.dir = dir_.string();
    o.readers = 2;
    auto opened = XapianSearchIndex::Open(o);
    ASSERT_TRUE(opened.ok()) << opened.status();
    index_ = std::move(*opened);
  }
  void Put(std::vector<Item> items, int64_t through = 0) {
    std::vector<IndexChange> changes;
    for (auto& it : items) changes.push_back({it.id, it});
    ASSERT_TRUE(index_->Apply(changes, through > 0 ? through : ++position_).ok());
  }
  std::vector<std::string> Ids(const std::string& query, const std::string& type = "",
                               std::vector<Condition> filter = {}) {
    auto parsed = ParseSearchQuery(query);
    EXPECT_TRUE(parsed.ok()) << query;
    IndexQuery q;
    q.search = *parsed;
    if (!type.empty()) q.type_id = type;
    q.filter = std::move(filter);
    auto page = index_->Search(q);
    EXPECT_TRUE(page.ok()) << page.status();
    std::vector<std::string> ids;
    if (page.ok()) {
      for (const auto& h : page->hits) ids.push_back(h.id);
    }
    return ids;
  }

  std::filesystem::path dir_;
  std::unique_ptr<XapianSearchIndex> index_;
  int64_t position_ = 10;
};

TEST_P(XapianIndexTest, FoldsAccentsAndCaseAndMatchesBothStems) {
  Put({MakeItem("a", "Contrato social", "Razão social da empresa Imobiliária São João"),
       MakeItem("b", "Running shoes", "The runners were running fast"),
       MakeItem("c", "Outro", "nada a ver")});
  EXPECT_THAT(Ids("razao"), ElementsAre("a"));
  EXPECT_THAT(Ids("RAZÃO imobiliaria"), ElementsAre("a"));
  EXPECT_THAT(Ids("sao joao"), ElementsAre("a"));
  EXPECT_THAT(Ids("run"), ElementsAre("b"));        // English stem
  EXPECT_THAT(Ids("contratos"), ElementsAre("a"));  // Portuguese stem
  EXPECT_THAT(Ids("inexistente"), IsEmpty());
}

TEST_P(XapianIndexTest, PhrasePrefixNegationAndOr) {
  Put({MakeItem("a", "A", "apartamento com vista para o mar"),
       MakeItem("b", "B", "mar com vista para o apartamento"),
       MakeItem("c", "C", "casa de campo")});
  EXPECT_THAT(Ids("\"vista para o mar\""), ElementsAre("a"));
  EXPECT_THAT(Ids("apart*"), UnorderedElementsAre("a", "b"));
  EXPECT_THAT(Ids("apartamento -\"vista para o mar\""), ElementsAre("b"));
  EXPECT_THAT(Ids("campo OR \"vista para o mar\""), UnorderedElementsAre("a", "c"));
  EXPECT_THAT(Ids("-apartamento"), ElementsAre("c"));
  EXPECT_THAT(Ids("casa apartamento OR campo"),
              ElementsAre("c"));  // (casa AND apartamento) OR campo
}

TEST_P(XapianIndexTest, TitleMatchesRankAboveBodyMatchesAndTiesGoToNewerItems) {
  Put({MakeItem("body", "Body only", "um texto sobre piscina e jardim"),
       MakeItem("title", "Piscina aquecida", "texto qualquer sobre a casa e o jardim")});
  EXPECT_THAT(Ids("piscina"), ElementsAre("title", "body"));
  Put({MakeItem("old", "casa", "x"), MakeItem("new", "casa", "x")});
  EXPECT_THAT(Ids("casa"), ElementsAre("new", "old", "title"));
}

TEST_P(XapianIndexTest, TypeAndFiltersAreAppliedInTheIndex) {
  Put({MakeItem("cheap", "casa", "", {{"city", "Recife"}, {"price", 100000}, {"tags", {"vip"}}},
                {{"stage", "hot"}}),
       MakeItem("dear", "casa", "", {{"city", "Recife"}, {"price", 900000}}),
       MakeItem("olinda", "casa", "", {{"city", "Olinda"}, {"price", 200000}}, {{"stage", "cold"}}),
       MakeItem("doc", "casa", "", {}, {}, "doc")});
  auto eq = [](std::string key, auto v, Condition::Op op = Condition::Op::kEq,
               Condition::Target t = Condition::Target::kAttribute) {
    Condition c;
    c.target = t;
    c.key = std::move(key);
    c.op = op;
    c.value = v;
    return c;
  };
  EXPECT_THAT(Ids("casa", "doc"), ElementsAre("doc"));
  EXPECT_THAT(Ids("casa", "lead",
                  {eq("city", std::string("Recife")), eq("price", 500000.0, Condition::Op::kLt)}),
              ElementsAre("cheap"));
  EXPECT_THAT(Ids("casa", "", {eq("tags", std::string("vip"), Condition::Op::kHas)}),
              ElementsAre("cheap"));
  EXPECT_THAT(Ids("casa", "lead",
                  {eq("stage", std::string("hot"), Condition::Op::kNe, Condition::Target::kLabel)}),
              UnorderedElementsAre("dear", "olinda"));
}

TEST_P(XapianIndexTest, ChangesReplaceAndRemoveAndPaginate) {
  Put({MakeItem("x", "Antes", "palavra antiga")});
  EXPECT_THAT(Ids("antiga"), ElementsAre("x"));
  Put({MakeItem("x", "Antes", "palavra nova")});
  EXPECT_THAT(Ids("antiga"), IsEmpty());
  EXPECT_THAT(Ids("nova"), ElementsAre("x"));
  ASSERT_TRUE(index_->Apply({{"x", std::nullopt}}, ++position_).ok());
  EXPECT_THAT(Ids("nova"), IsEmpty());
  EXPECT_EQ(index_->Size(), 0);

  for (int i = 0; i < 5; ++i) Put({MakeItem(absl::StrCat("p", i), "casa", "")});
  auto parsed = ParseSearchQuery("casa");
  IndexQuery q;
  q.search = *parsed;
  q.limit = 2;
  q.offset = 4;
  auto last = index_->Search(q);
  ASSERT_TRUE(last.ok());
  EXPECT_THAT(last->hits, ::testing::SizeIs(1));
  EXPECT_FALSE(last->more);
  q.offset = 0;
  EXPECT_TRUE(index_->Search(q)->more);
}

TEST_P(XapianIndexTest, PositionIsKeptWithTheChangesAndARebuildReplacesEverything) {
  EXPECT_EQ(index_->AppliedThrough(), 0);  // never built
  Put({MakeItem("a", "casa", "")}, 42);
  EXPECT_EQ(index_->AppliedThrough(), 42);
  if (GetParam()) {
    Reopen();
    EXPECT_EQ(index_->AppliedThrough(), 42);
    EXPECT_THAT(Ids("casa"), ElementsAre("a"));
  }
  auto builder = index_->Rebuild();
  ASSERT_TRUE(builder.ok()) << builder.status();
  ASSERT_TRUE((*builder)->Add(MakeItem("b", "casa nova", "")).ok());
  EXPECT_THAT(Ids("casa"), ElementsAre("a"));  // the old content until Finish
  ASSERT_TRUE((*builder)->Finish(77).ok());
  EXPECT_EQ(index_->AppliedThrough(), 77);
  EXPECT_THAT(Ids("casa"), ElementsAre("b"));
  if (GetParam()) {
    Reopen();
    EXPECT_EQ(index_->AppliedThrough(), 77);
    EXPECT_THAT(Ids("casa"), ElementsAre("b"));
    int generations = 0;
    for (const auto& e : std::filesystem::directory_iterator(dir_)) {
      generations += e.path().filename().string().rfind("gen-", 0) == 0;
    }
    EXPECT_EQ(generations, 1) << "the replaced index was removed";
  }
}

TEST_P(XapianIndexTest, AnAbandonedRebuildLeavesTheIndexAsItWas) {
  Put({MakeItem("a", "casa", "")}, 5);
  {
    auto builder = index_->Rebuild();
    ASSERT_TRUE(builder.ok());
    ASSERT_TRUE((*builder)->Add(MakeItem("b", "casa", "")).ok());
  }
  EXPECT_EQ(index_->AppliedThrough(), 5);
  EXPECT_THAT(Ids("casa"), ElementsAre("a"));
}

TEST_P(XapianIndexTest, HighlightMarksStemsAccentsAndPrefixes) {
  auto parsed = ParseSearchQuery("praia run* razao");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(index_->Highlight("Um apartamento perto da Praia, de Boa Viagem", *parsed),
            "Um apartamento perto da <mark>Praia</mark>, de Boa Viagem");
  EXPECT_THAT(index_->Highlight("The dogs were running", *parsed),
              HasSubstr("<mark>running</mark>"));
  EXPECT_THAT(index_->Highlight("Razão social", *parsed), HasSubstr("<mark>Razão</mark>"));
  EXPECT_EQ(index_->Highlight("nada aqui", *parsed), "");
  std::string long_text;
  for (int i = 0; i < 200; ++i) absl::StrAppend(&long_text, i == 100 ? "praia " : "palavra ");
  const std::string snippet = index_->Highlight(long_text, *parsed);
  EXPECT_THAT(snippet, HasSubstr("<mark>praia</mark>"));
  EXPECT_LT(snippet.size(), 400u) << "a fragment, not the whole text";
}

TEST_P(XapianIndexTest, ConcurrentSearchesWhileChangesApply) {
  Put({MakeItem("a", "casa", "")});
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 4; ++t) {
    readers.emplace_back([&] {
      while (!stop) {
        if (Ids("casa").empty()) ++failures;
      }
    });
  }
  for (int i = 0; i < 50; ++i) Put({MakeItem(absl::StrCat("n", i), "casa", "nova")});
  stop = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(Ids("casa").size(), 20u);
}

INSTANTIATE_TEST_SUITE_P(Storage, XapianIndexTest, ::testing::Values(false, true),
                         [](const auto& info) {
                           return info.param ? "GivenDirectory" : "TemporaryDirectory";
                         });

TEST(SearchTextTest, FoldWordRemovesLatinAccentsAndCase) {
  EXPECT_EQ(FoldWord("RAZÃO"), "razao");
  EXPECT_EQ(FoldWord("São"), "sao");
  EXPECT_EQ(FoldWord("Ação"), "acao");
  EXPECT_EQ(FoldWord("Œuvre"), "oeuvre");
  EXPECT_EQ(FoldWord("Straße"), "strasse");
  EXPECT_EQ(FoldWord("東京"), "東京");  // other scripts as they are
}

}  // namespace
}  // namespace genesis::catalog
