// An in-memory SearchIndex for unit tests of the logic: a map of items, a
// case-insensitive whole-word match without stemming or accent folding,
// newest first. Ranking, stems and phrases are tested on the real engine
// (xapian_index_test.cc).
#pragma once

#include <map>
#include <mutex>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "services/catalog/filter.h"
#include "services/catalog/search_index.h"

namespace genesis::catalog::testing {

class FakeSearchIndex final : public SearchIndex {
 public:
  [[nodiscard]] int64_t AppliedThrough() const override {
    std::lock_guard<std::mutex> l(mu_);
    return applied_;
  }
  absl::Status Apply(const std::vector<IndexChange>& changes, int64_t applied_through) override {
    std::lock_guard<std::mutex> l(mu_);
    if (!apply_status.ok()) return apply_status;
    for (const auto& c : changes) {
      if (c.item) {
        items_[c.id] = *c.item;
      } else {
        items_.erase(c.id);
      }
    }
    applied_ = applied_through;
    return absl::OkStatus();
  }
  absl::StatusOr<std::unique_ptr<IndexBuilder>> Rebuild() override {
    return std::unique_ptr<IndexBuilder>(new Builder(this));
  }
  absl::StatusOr<IndexPage> Search(const IndexQuery& q) const override {
    std::lock_guard<std::mutex> l(mu_);
    if (!search_status.ok()) return search_status;
    std::vector<const Item*> matches;
    for (const auto& [id, item] : items_) {
      if (q.type_id && item.type_id != *q.type_id) continue;
      if (!ItemMatchesFilter(item.attributes, item.labels, q.filter)) continue;
      if (Matches(item, q.search)) matches.push_back(&item);
    }
    std::sort(matches.begin(), matches.end(),
              [](const Item* a, const Item* b) { return a->create_time > b->create_time; });
    IndexPage page;
    for (size_t i = static_cast<size_t>(q.offset); i < matches.size(); ++i) {
      if (static_cast<int>(page.hits.size()) == q.limit) {
        page.more = true;
        break;
      }
      page.hits.push_back({matches[i]->id, 1.0});
    }
    return page;
  }
  [[nodiscard]] std::string Highlight(absl::string_view text,
                                      const ParsedSearch& search) const override {
    for (absl::string_view w : SearchWords(text)) {
      for (const auto& group : search.any_of) {
        for (const auto& term : group) {
          for (const auto& word : term.words) {
            if (absl::AsciiStrToLower(w) == absl::AsciiStrToLower(word)) {
              return absl::StrCat("<mark>", w, "</mark>");
            }
          }
        }
      }
    }
    return "";
  }
  [[nodiscard]] int64_t Size() const override {
    std::lock_guard<std::mutex> l(mu_);
    return static_cast<int64_t>(items_.size());
  }

  absl::Status apply_status = absl::OkStatus();
  absl::Status search_status = absl::OkStatus();

 private:
  class Builder final : public IndexBuilder {
   public:
    explicit Builder(FakeSearchIndex* index) : index_(index) {}
    absl::Status Add(const Item& item) override {
      items_[item.id] = item;
      return absl::OkStatus();
    }
    absl::Status Finish(int64_t applied_through) override {
      std::lock_guard<std::mutex> l(index_->mu_);
      index_->items_ = std::move(items_);
      index_->applied_ = applied_through;
      return absl::OkStatus();
    }

   private:
    FakeSearchIndex* index_;
    std::map<std::string, Item> items_;
  };

  static bool HasWord(const Item& item, const std::string& word) {
    for (absl::string_view w : SearchWords(item.title + " " + item.body)) {
      if (absl::AsciiStrToLower(w) == absl::AsciiStrToLower(word)) return true;
    }
    return false;
  }
  static bool Matches(const Item& item, const ParsedSearch& search) {
    for (const auto& group : search.any_of) {
      bool all = true;
      for (const auto& term : group) {
        bool has = true;
        for (const auto& w : term.words) has = has && HasWord(item, w);
        if (has == term.negated) all = false;
      }
      if (all) return true;
    }
    return false;
  }

  mutable std::mutex mu_;
  std::map<std::string, Item> items_;
  int64_t applied_ = 0;
};

}  // namespace genesis::catalog::testing
