#include "services/catalog/xapian_index.h"

#include <xapian.h>

#include <stdlib.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "common/runtime/logging.h"
#include "services/catalog/filter.h"
#include "services/catalog/search_text.h"

namespace genesis::catalog {
namespace {

namespace fs = std::filesystem;

// Bump when what is indexed changes: an index of another format is rebuilt.
constexpr char kFormat[] = "genesis-catalog-1";
constexpr char kFormatKey[] = "genesis_format";
constexpr char kAppliedKey[] = "genesis_applied_through";
constexpr Xapian::valueno kIdSlot = 0;
constexpr Xapian::termcount kTitleWdf = 3;
// Positions between the title and the body, so that no phrase spans both.
constexpr Xapian::termpos kFieldGap = 100;
// Only the start of a long body is indexed and highlighted (as before in PostgreSQL).
constexpr size_t kMaxIndexedBodyBytes = 100000;
constexpr size_t kMaxHighlightedBytes = 20000;

absl::Status Unavailable(const std::string& what, const Xapian::Error& e) {
  Logger("catalog")->error("search index: {}: {}", what, e.get_description());
  return absl::UnavailableError(absl::StrCat("the search index cannot ", what));
}

Xapian::Document MakeDocument(const Item& item) {
  Xapian::Document doc;
  Xapian::termpos pos = 1;
  auto add = [&](absl::string_view text, Xapian::termcount wdf) {
    for (absl::string_view w : SearchWords(text)) {
      if (w.size() > kMaxIndexedWordBytes) {
        ++pos;
        continue;
      }
      auto [pt, en] = StemsOf(FoldWord(w));
      doc.add_posting(pt, pos, wdf);
      if (en != pt) doc.add_posting(en, pos, wdf);
      ++pos;
    }
    pos += kFieldGap;
  };
  add(item.title, kTitleWdf);
  add(absl::string_view(item.body).substr(0, kMaxIndexedBodyBytes), 1);
  doc.add_boolean_term("Q" + item.id);
  doc.add_boolean_term("T" + item.type_id);
  doc.add_value(kIdSlot, item.id);
  doc.set_data(nlohmann::json{{"a", item.attributes}, {"l", item.labels}}.dump());
  return doc;
}

Xapian::Query Either(const std::string& a, const std::string& b, Xapian::Query::op op) {
  if (a == b) return Xapian::Query(a);
  const Xapian::Query both[] = {Xapian::Query(a), Xapian::Query(b)};
  return Xapian::Query(op, both, both + 2);
}

Xapian::Query TermQuery(const SearchTerm& term, int max_expansion) {
  if (term.prefix) {
    auto [pt, en] = StemsOf(FoldWord(term.words[0]));
    auto wildcard = [&](const std::string& p) {
      return Xapian::Query(Xapian::Query::OP_WILDCARD, p, max_expansion,
                           Xapian::Query::WILDCARD_LIMIT_MOST_FREQUENT);
    };
    if (pt == en) return wildcard(pt);
    const Xapian::Query both[] = {wildcard(pt), wildcard(en)};
    return Xapian::Query(Xapian::Query::OP_SYNONYM, both, both + 2);
  }
  std::vector<Xapian::Query> words;
  for (const auto& w : term.words) {
    auto [pt, en] = StemsOf(FoldWord(w));
    words.push_back(Either(pt, en, term.phrase ? Xapian::Query::OP_OR : Xapian::Query::OP_SYNONYM));
  }
  if (words.size() == 1) return words[0];
  return Xapian::Query(Xapian::Query::OP_PHRASE, words.begin(), words.end(), words.size());
}

Xapian::Query BuildQuery(const IndexQuery& q, int max_expansion) {
  std::vector<Xapian::Query> groups;
  for (const auto& group : q.search.any_of) {
    std::vector<Xapian::Query> must, must_not;
    for (const auto& term : group) {
      (term.negated ? must_not : must).push_back(TermQuery(term, max_expansion));
    }
    Xapian::Query g = must.empty() ? Xapian::Query::MatchAll
                                   : Xapian::Query(Xapian::Query::OP_AND, must.begin(), must.end());
    if (!must_not.empty()) {
      g = Xapian::Query(Xapian::Query::OP_AND_NOT, g,
                        Xapian::Query(Xapian::Query::OP_OR, must_not.begin(), must_not.end()));
    }
    groups.push_back(std::move(g));
  }
  Xapian::Query query(Xapian::Query::OP_OR, groups.begin(), groups.end());
  if (q.type_id)
    query = Xapian::Query(Xapian::Query::OP_FILTER, query, Xapian::Query("T" + *q.type_id));
  return query;
}

class FilterDecider final : public Xapian::MatchDecider {
 public:
  explicit FilterDecider(const std::vector<Condition>* filter) : filter_(filter) {}
  bool operator()(const Xapian::Document& doc) const override {
    auto data = nlohmann::json::parse(doc.get_data(), nullptr, /*allow_exceptions=*/false);
    if (data.is_discarded()) return false;
    std::map<std::string, std::string> labels;
    if (auto l = data.find("l"); l != data.end() && l->is_object()) {
      for (auto it = l->begin(); it != l->end(); ++it) {
        if (it->is_string()) labels[it.key()] = it->get<std::string>();
      }
    }
    return ItemMatchesFilter(data.value("a", nlohmann::json::object()), labels, *filter_);
  }

 private:
  const std::vector<Condition>* filter_;
};

int64_t AppliedOf(const Xapian::Database& db) {
  if (db.get_metadata(kFormatKey) != kFormat) return 0;
  int64_t v = 0;
  return absl::SimpleAtoi(db.get_metadata(kAppliedKey), &v) ? v : 0;
}

}  // namespace

struct XapianSearchIndex::Reader {
  std::mutex mu;
  std::unique_ptr<Xapian::Database> db;
  uint64_t revision = ~uint64_t{0};
};

class XapianSearchIndex::Builder final : public IndexBuilder {
 public:
  Builder(XapianSearchIndex* index, std::unique_ptr<Xapian::WritableDatabase> db,
          std::string generation)
      : index_(index), db_(std::move(db)), generation_(std::move(generation)) {}
  ~Builder() override {
    if (db_ && !generation_.empty()) {
      db_.reset();
      std::error_code ec;
      fs::remove_all(fs::path(index_->dir_) / generation_, ec);
    }
  }
  absl::Status Add(const Item& item) override {
    try {
      db_->add_document(MakeDocument(item));
      return absl::OkStatus();
    } catch (const Xapian::Error& e) {
      return Unavailable("add an item while rebuilding", e);
    }
  }
  absl::Status Finish(int64_t applied_through) override {
    try {
      db_->set_metadata(kFormatKey, kFormat);
      db_->set_metadata(kAppliedKey, absl::StrCat(applied_through));
      db_->commit();
    } catch (const Xapian::Error& e) {
      return Unavailable("commit a rebuilt index", e);
    }
    auto st = index_->Install(std::move(db_), generation_);
    generation_.clear();
    return st;
  }

 private:
  XapianSearchIndex* index_;
  std::unique_ptr<Xapian::WritableDatabase> db_;
  std::string generation_;
};

XapianSearchIndex::XapianSearchIndex(XapianIndexOptions options) : options_(std::move(options)) {
  for (int i = 0; i < std::max(1, options_.readers); ++i) {
    readers_.push_back(std::make_unique<Reader>());
  }
}

XapianSearchIndex::~XapianSearchIndex() {
  readers_.clear();
  writer_.reset();
  if (temporary_) {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
}

absl::StatusOr<std::unique_ptr<XapianSearchIndex>> XapianSearchIndex::Open(
    XapianIndexOptions options) {
  std::unique_ptr<XapianSearchIndex> index(new XapianSearchIndex(std::move(options)));
  index->dir_ = index->options_.dir;
  if (index->dir_.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    // Not /dev/shm: searches running while changes commit crashed there
    // (tmpfs; xapian_index_test's concurrent test), never in a disk directory.
    std::string base = tmp != nullptr && *tmp != '\0' ? tmp : "/tmp";
    std::string pattern = base + "/genesis-catalog-index-XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) {
      return absl::UnavailableError(
          absl::StrCat("cannot create a temporary search index directory in ", base));
    }
    index->dir_ = pattern;
    index->temporary_ = true;
  }
  const std::string& dir = index->dir_;
  try {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) {
      return absl::UnavailableError(
          absl::StrCat("cannot create the search index directory ", dir, ": ", ec.message()));
    }
    std::string current;
    std::ifstream(fs::path(dir) / "CURRENT") >> current;
    if (!current.empty() && fs::is_directory(fs::path(dir) / current)) {
      try {
        index->writer_ = std::make_unique<Xapian::WritableDatabase>(
            (fs::path(dir) / current).string(), Xapian::DB_OPEN);
        index->generation_ = current;
      } catch (const Xapian::DatabaseLockError&) {
        throw;
      } catch (const Xapian::Error& e) {
        // A damaged index (e.g. the disk filled up): start empty, which rebuilds it.
        Logger("catalog")->warn("search index {}/{} cannot be opened ({}); it will be rebuilt", dir,
                                current, e.get_description());
      }
    }
    if (!index->writer_) {
      current = absl::StrCat("gen-", absl::ToUnixMicros(absl::Now()));
      index->writer_ = std::make_unique<Xapian::WritableDatabase>(
          (fs::path(dir) / current).string(), Xapian::DB_CREATE_OR_OVERWRITE);
      index->generation_ = current;
      std::ofstream(fs::path(dir) / "CURRENT.tmp") << current << "\n";
      fs::rename(fs::path(dir) / "CURRENT.tmp", fs::path(dir) / "CURRENT");
    }
    // Generations left by an interrupted rebuild or swap.
    for (const auto& entry : fs::directory_iterator(dir)) {
      const std::string name = entry.path().filename().string();
      if (absl::StartsWith(name, "gen-") && name != current) fs::remove_all(entry.path(), ec);
    }
    index->LoadState();
    return index;
  } catch (const Xapian::DatabaseLockError& e) {
    return absl::UnavailableError(
        absl::StrCat("the search index in ", dir, " is in use by another process"));
  } catch (const Xapian::Error& e) {
    Logger("catalog")->error("search index {}: {}", dir, e.get_description());
    return absl::UnavailableError(
        absl::StrCat("cannot open the search index in ", dir, " (the reason is in the log)"));
  } catch (const fs::filesystem_error& e) {
    Logger("catalog")->error("search index directory {}: {}", dir,
                             e.what());  // error text: log only
    return absl::UnavailableError(
        absl::StrCat("cannot use the search index directory ", dir, " (the reason is in the log)"));
  }
}

void XapianSearchIndex::LoadState() {
  applied_through_ = AppliedOf(*writer_);
  size_ = writer_->get_doccount();
  ++revision_;
}

absl::Status XapianSearchIndex::Apply(const std::vector<IndexChange>& changes,
                                      int64_t applied_through) {
  std::lock_guard<std::mutex> l(write_mu_);
  try {
    for (const auto& c : changes) {
      if (c.item) {
        writer_->replace_document("Q" + c.id, MakeDocument(*c.item));
      } else {
        writer_->delete_document("Q" + c.id);
      }
    }
    writer_->set_metadata(kFormatKey, kFormat);
    writer_->set_metadata(kAppliedKey, absl::StrCat(applied_through));
    {
      absl::WriterMutexLock commit(&commit_mu_);
      writer_->commit();
    }
    applied_through_ = applied_through;
    size_ = writer_->get_doccount();
    ++revision_;
    return absl::OkStatus();
  } catch (const Xapian::Error& e) {
    return Unavailable("apply changes", e);
  }
}

absl::StatusOr<std::unique_ptr<IndexBuilder>> XapianSearchIndex::Rebuild() {
  try {
    const std::string generation = absl::StrCat("gen-", absl::ToUnixMicros(absl::Now()));
    return std::make_unique<Builder>(
        this,
        std::make_unique<Xapian::WritableDatabase>((fs::path(dir_) / generation).string(),
                                                   Xapian::DB_CREATE_OR_OVERWRITE),
        generation);
  } catch (const Xapian::Error& e) {
    return Unavailable("start a rebuild", e);
  }
}

absl::Status XapianSearchIndex::Install(std::unique_ptr<Xapian::WritableDatabase> db,
                                        const std::string& generation) {
  std::lock_guard<std::mutex> l(write_mu_);
  std::vector<std::unique_lock<std::mutex>> held;
  for (auto& r : readers_) held.emplace_back(r->mu);
  const std::string old = generation_;
  try {
    const fs::path dir(dir_);
    std::ofstream(dir / "CURRENT.tmp") << generation << "\n";
    fs::rename(dir / "CURRENT.tmp", dir / "CURRENT");
  } catch (const fs::filesystem_error& e) {
    Logger("catalog")->error("search index: cannot switch to the rebuilt index: {}",
                             e.what());  // error text: log only
    return absl::UnavailableError("the search index cannot switch to the rebuilt index");
  }
  writer_ = std::move(db);
  {
    std::lock_guard<std::mutex> g(gen_mu_);
    generation_ = generation;
  }
  for (auto& r : readers_) r->db.reset();
  LoadState();
  if (!old.empty() && old != generation) {
    std::error_code ec;
    fs::remove_all(fs::path(dir_) / old, ec);
  }
  return absl::OkStatus();
}

absl::StatusOr<IndexPage> XapianSearchIndex::Search(const IndexQuery& q) const {
  auto run = [&](const Xapian::Database& db) -> IndexPage {
    Xapian::Enquire enquire(db);
    enquire.set_query(BuildQuery(q, options_.max_prefix_expansion));
    enquire.set_docid_order(Xapian::Enquire::DESCENDING);  // ties: newer first
    FilterDecider decider(&q.filter);
    Xapian::MSet mset = enquire.get_mset(static_cast<Xapian::doccount>(q.offset),
                                         static_cast<Xapian::doccount>(q.limit + 1), nullptr,
                                         q.filter.empty() ? nullptr : &decider);
    IndexPage page;
    for (auto it = mset.begin(); it != mset.end(); ++it) {
      if (static_cast<int>(page.hits.size()) == q.limit) {
        page.more = true;
        break;
      }
      page.hits.push_back({it.get_document().get_value(kIdSlot), it.get_weight()});
    }
    return page;
  };
  try {
    Reader& r = *readers_[next_reader_++ % readers_.size()];
    std::lock_guard<std::mutex> l(r.mu);
    for (int attempt = 0;; ++attempt) {
      try {
        const uint64_t revision = revision_.load();
        if (!r.db) {
          std::string path;
          {
            std::lock_guard<std::mutex> g(gen_mu_);
            path = (fs::path(dir_) / generation_).string();
          }
          r.db = std::make_unique<Xapian::Database>(path);
          r.revision = revision;
        } else if (r.revision != revision) {
          r.db->reopen();
          r.revision = revision;
        }
        absl::ReaderMutexLock reading(&commit_mu_);
        return run(*r.db);
      } catch (const Xapian::DatabaseModifiedError&) {
        // The writer committed twice while this reader was reading (a reader
        // can only read the last two revisions): reopen at the newest and
        // retry. A busy writer on a loaded machine can do that several times
        // in a row; each retry starts from the newest revision, so a bound
        // this large is never reached unless the reader is starved for seconds.
        if (attempt >= 100) throw;
        r.db->reopen();
      }
    }
  } catch (const Xapian::Error& e) {
    return Unavailable("search", e);
  }
}

std::string XapianSearchIndex::Highlight(absl::string_view text, const ParsedSearch& search) const {
  std::set<std::string> stems;
  std::vector<std::string> prefixes;
  for (const auto& group : search.any_of) {
    for (const auto& term : group) {
      if (term.negated) continue;
      for (const auto& w : term.words) {
        auto [pt, en] = StemsOf(FoldWord(w));
        if (term.prefix) {
          prefixes.push_back(pt);
          prefixes.push_back(en);
        } else {
          stems.insert(pt);
          stems.insert(en);
        }
      }
    }
  }
  text = text.substr(0, kMaxHighlightedBytes);
  const std::vector<absl::string_view> words = SearchWords(text);
  std::vector<bool> hit(words.size(), false);
  std::vector<size_t> hits;
  for (size_t i = 0; i < words.size(); ++i) {
    if (words[i].size() > kMaxIndexedWordBytes) continue;
    auto [pt, en] = StemsOf(FoldWord(words[i]));
    bool match = stems.count(pt) > 0 || stems.count(en) > 0;
    for (size_t p = 0; !match && p < prefixes.size(); ++p) {
      match = absl::StartsWith(pt, prefixes[p]) || absl::StartsWith(en, prefixes[p]);
    }
    if (match) {
      hit[i] = true;
      hits.push_back(i);
    }
  }
  if (hits.empty()) return "";
  // Up to two fragments of about 30 words, each starting a few words before a match.
  constexpr size_t kBefore = 5, kWords = 30;
  std::vector<std::pair<size_t, size_t>> fragments;  // [first, last) word indexes
  for (size_t h : hits) {
    if (!fragments.empty() && h < fragments.back().second) continue;
    const size_t first = h > kBefore ? h - kBefore : 0;
    fragments.emplace_back(first, std::min(words.size(), first + kWords));
    if (fragments.size() == 2) break;
  }
  std::string out;
  for (size_t f = 0; f < fragments.size(); ++f) {
    if (f > 0) out += " … ";
    const auto [first, last] = fragments[f];
    for (size_t i = first; i < last; ++i) {
      if (i > first) {
        // The text between two words, as written.
        const char* gap_start = words[i - 1].data() + words[i - 1].size();
        out.append(gap_start, static_cast<size_t>(words[i].data() - gap_start));
      }
      if (hit[i]) {
        absl::StrAppend(&out, "<mark>", words[i], "</mark>");
      } else {
        out.append(words[i].data(), words[i].size());
      }
    }
  }
  return out;
}

}  // namespace genesis::catalog
