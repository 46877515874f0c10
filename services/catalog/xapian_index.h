// SearchIndex on Xapian (BM25 ranking over posting lists, with pruned top-k
// matching): each replica keeps its own index, on local disk under
// `--search_index_dir` (kept across restarts) or, when that is empty, in a
// private temporary directory (under $TMPDIR, else /tmp) removed on close,
// so rebuilt at every start.
//
// Documents: the stems (Portuguese and English, search_text.h) of every
// title and body word at its position (title words count 3 times, so titles
// weigh more), the boolean terms "Q<id>" and "T<type>", and the item's
// attributes and labels as data for filters. Ties rank newer items first.
// Xapian's exceptions stop here: they become UNAVAILABLE, with the engine's
// text logged.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "services/catalog/search_index.h"

namespace Xapian {
class Database;
class WritableDatabase;
}  // namespace Xapian

namespace genesis::catalog {

struct XapianIndexOptions {
  // Empty: a private temporary directory. Otherwise a directory this process
  // owns (created when missing); the index lives in generations under it.
  std::string dir;
  // Concurrent searches (each has its own reader of the on-disk index).
  int readers = 4;
  // A prefix (`condom*`) expands to at most this many of the most frequent
  // matching words.
  int max_prefix_expansion = 200;
};

class XapianSearchIndex final : public SearchIndex {
 public:
  // Opens (or creates) the index. UNAVAILABLE when the directory cannot be
  // used; an index of another format version opens empty (AppliedThrough 0).
  static absl::StatusOr<std::unique_ptr<XapianSearchIndex>> Open(XapianIndexOptions options);
  ~XapianSearchIndex() override;

  [[nodiscard]] int64_t AppliedThrough() const override { return applied_through_.load(); }
  absl::Status Apply(const std::vector<IndexChange>& changes, int64_t applied_through) override;
  absl::StatusOr<std::unique_ptr<IndexBuilder>> Rebuild() override;
  absl::StatusOr<IndexPage> Search(const IndexQuery& query) const override;
  [[nodiscard]] std::string Highlight(absl::string_view text,
                                      const ParsedSearch& search) const override;
  [[nodiscard]] int64_t Size() const override { return size_.load(); }

 private:
  class Builder;
  struct Reader;
  explicit XapianSearchIndex(XapianIndexOptions options);
  // Makes `generation` (a directory under dir_) current.
  absl::Status Install(std::unique_ptr<Xapian::WritableDatabase> db, const std::string& generation);
  void LoadState();

  const XapianIndexOptions options_;
  std::string dir_;         // options_.dir, or the temporary directory
  bool temporary_ = false;  // dir_ is removed on close
  // Lock order: write_mu_, then readers' mu, then gen_mu_.
  mutable std::mutex write_mu_;  // writer_
  std::unique_ptr<Xapian::WritableDatabase> writer_;
  mutable std::mutex gen_mu_;  // generation_
  // Held shared by a search for as long as it reads, exclusively by a commit
  // of writer_: a reader only ever sees the last two revisions of a Xapian
  // database, so a commit must never overtake a search that is reading.
  // absl::Mutex lets a waiting commit in before new searches. Taken last.
  mutable absl::Mutex commit_mu_;
  std::string generation_;
  std::vector<std::unique_ptr<Reader>> readers_;
  mutable std::atomic<size_t> next_reader_{0};
  std::atomic<uint64_t> revision_{0};  // bumps on every commit or swap; readers reopen
  std::atomic<int64_t> applied_through_{0};
  std::atomic<int64_t> size_{0};
};

}  // namespace genesis::catalog
