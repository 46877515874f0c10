// The search index the Catalog ranks SearchItems with when it is not
// PostgreSQL's own full-text index (`--search_engine`). XapianSearchIndex
// (xapian_index.h) is the real one; tests use FakeSearchIndex
// (tests/fake_search_index.h).
//
// The index holds live items only (deleted ones are removed) and remembers how
// far it has applied the Catalog's change log (`catalog.search_outbox`): every
// change of a PostgreSQL transaction whose id is below `AppliedThrough()` is
// in it. IndexSync (index_sync.h) feeds it; nothing else writes to it.
//
// Errors: UNAVAILABLE when the index cannot be read or written (I/O, a
// corrupt or locked database), with the engine's text logged, not returned.
// Thread-safe: Search runs concurrently with itself and with Apply.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "services/catalog/model.h"
#include "services/catalog/search_query.h"

namespace genesis::catalog {

struct IndexQuery {
  ParsedSearch search;
  std::optional<std::string> type_id;
  std::vector<Condition> filter;  // applied in the index (ItemMatchesFilter)
  int offset = 0;
  int limit = 20;
};

struct IndexHit {
  std::string id;
  double score = 0;
};

struct IndexPage {
  std::vector<IndexHit> hits;  // best first; ties by newer item first
  bool more = false;           // matches exist past offset + limit
};

// The state of one item after a change: present and live (`item` set), or
// gone from search (deleted, purged: nullopt).
struct IndexChange {
  std::string id;
  std::optional<Item> item;
};

// Fills a new index from scratch (Rebuild); nothing is searchable through it
// until Finish swaps it in.
class IndexBuilder {
 public:
  virtual ~IndexBuilder() = default;
  // Live items only.
  virtual absl::Status Add(const Item& item) = 0;
  // Makes the new content current, applied through `applied_through`.
  virtual absl::Status Finish(int64_t applied_through) = 0;
};

class SearchIndex {
 public:
  virtual ~SearchIndex() = default;

  // 0 when the index was never built (or was built by an incompatible
  // version): it must be rebuilt before it is used.
  [[nodiscard]] virtual int64_t AppliedThrough() const = 0;
  // Applies `changes` and records `applied_through`, atomically: after a crash
  // either both are there or neither.
  virtual absl::Status Apply(const std::vector<IndexChange>& changes, int64_t applied_through) = 0;
  // Starts a complete rebuild; the current content stays searchable meanwhile.
  virtual absl::StatusOr<std::unique_ptr<IndexBuilder>> Rebuild() = 0;

  // Ranked ids of live items matching the query, filters and type.
  virtual absl::StatusOr<IndexPage> Search(const IndexQuery& query) const = 0;
  // `text` (a title or body) with the words matching `search` between <mark>
  // and </mark>: up to two fragments of about 30 words joined by " … "; empty
  // when nothing in `text` matches.
  [[nodiscard]] virtual std::string Highlight(absl::string_view text,
                                              const ParsedSearch& search) const = 0;
  // How many items the index holds (for logs and metrics).
  [[nodiscard]] virtual int64_t Size() const = 0;
};

}  // namespace genesis::catalog
