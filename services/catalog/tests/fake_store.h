// An in-memory CatalogStore for unit tests of the logic: hash maps behind a
// mutex, with the same status codes as PgCatalogStore. Filters support = and
// `:` only; search is a plain case-insensitive word match (ranking and
// stemming are tested on PostgreSQL in pg_store_test.cc).
#pragma once

#include <algorithm>
#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "services/catalog/reasons.h"
#include "services/catalog/store.h"

namespace genesis::catalog::testing {

class FakeCatalogStore final : public CatalogStore {
 public:
  absl::StatusOr<ItemType> CreateType(const ItemType& type,
                                      const std::optional<IdempotencyKey>& key,
                                      const CallContext&) override {
    std::lock_guard<std::mutex> l(mu_);
    if (key) {
      auto prior = type_keys_.find(key->request_id);
      if (prior != type_keys_.end() && types_.count(prior->second.second)) {
        if (prior->second.first != key->request_hash) {
          return WithReason(absl::AlreadyExistsError("key reused"), reasons::kRequestIdReused);
        }
        return types_.at(prior->second.second);
      }
    }
    if (types_.count(type.id)) return absl::AlreadyExistsError("type exists");
    ItemType t = type;
    t.version = 1;
    t.create_time = t.update_time = absl::Now();
    types_[t.id] = t;
    if (key) type_keys_[key->request_id] = {key->request_hash, t.id};
    return t;
  }
  size_t type_count() {
    std::lock_guard<std::mutex> l(mu_);
    return types_.size();
  }
  absl::StatusOr<ItemType> GetType(const std::string& id, const CallContext&) override {
    std::lock_guard<std::mutex> l(mu_);
    auto it = types_.find(id);
    if (it == types_.end()) return reasons::ItemTypeNotFound(id);
    return it->second;
  }
  absl::StatusOr<TypePage> ListTypes(const std::string& after_id, int limit,
                                     const CallContext&) override {
    if (list_types_delay > absl::ZeroDuration()) {
      ++list_types_started;
      absl::SleepFor(list_types_delay);
    }
    std::lock_guard<std::mutex> l(mu_);
    TypePage page;
    for (auto it = types_.upper_bound(after_id); it != types_.end(); ++it) {
      if (static_cast<int>(page.types.size()) == limit) {
        page.more = true;
        break;
      }
      page.types.push_back(it->second);
    }
    return page;
  }
  absl::StatusOr<ItemType> UpdateType(const ItemType& type, int64_t expected_version,
                                      bool require_no_items, const CallContext&) override {
    std::lock_guard<std::mutex> l(mu_);
    auto it = types_.find(type.id);
    if (it == types_.end()) return absl::NotFoundError("no type");
    if (it->second.version != expected_version) return absl::AbortedError("type changed");
    if (require_no_items && CountItemsLocked(type.id) > 0) {
      return WithReason(absl::FailedPreconditionError("type has items"), reasons::kItemTypeInUse);
    }
    ItemType t = type;
    t.version = expected_version + 1;
    t.create_time = it->second.create_time;
    t.update_time = absl::Now();
    it->second = t;
    return t;
  }
  absl::Status DeleteType(const std::string& id, const CallContext&) override {
    std::lock_guard<std::mutex> l(mu_);
    if (!types_.count(id)) return reasons::ItemTypeNotFound(id);
    if (CountItemsLocked(id) > 0)
      return WithReason(absl::FailedPreconditionError("type has items"), reasons::kItemTypeInUse);
    types_.erase(id);
    return absl::OkStatus();
  }
  absl::StatusOr<Item> CreateItem(const Item& item, int64_t type_version,
                                  const std::optional<IdempotencyKey>& key,
                                  const CallContext&) override {
    std::lock_guard<std::mutex> l(mu_);
    if (key) {
      if (auto it = keys_.find(key->request_id); it != keys_.end()) {
        if (it->second.first != key->request_hash) {
          return WithReason(absl::AlreadyExistsError("key reused"), reasons::kRequestIdReused);
        }
        return items_.at(it->second.second).item;
      }
    }
    auto t = types_.find(item.type_id);
    if (t == types_.end()) return absl::NotFoundError("no type");
    if (t->second.version != type_version) return absl::AbortedError("type changed");
    if (items_.count(item.id)) return absl::AlreadyExistsError("item id taken");
    Row row{++seq_, item};
    row.item.version = 1;
    row.item.create_time = row.item.update_time = absl::Now();
    items_[item.id] = row;
    if (key) keys_[key->request_id] = {key->request_hash, item.id};
    return LoggedLocked(row.item);
  }
  absl::StatusOr<Item> GetItem(const std::string& id, const CallContext&) override {
    std::lock_guard<std::mutex> l(mu_);
    ++get_item_calls;
    auto it = items_.find(id);
    if (it == items_.end()) return reasons::ItemNotFound(id);
    return it->second.item;
  }
  absl::StatusOr<Item> UpdateItem(const Item& item, int64_t expected_version, int64_t type_version,
                                  const CallContext&) override {
    std::lock_guard<std::mutex> l(mu_);
    auto it = items_.find(item.id);
    if (it == items_.end()) return reasons::ItemNotFound(item.id);
    if (it->second.item.version != expected_version || it->second.item.delete_time) {
      return absl::AbortedError("item changed");
    }
    if (types_.at(item.type_id).version != type_version) return absl::AbortedError("type changed");
    Item updated = item;
    updated.version = expected_version + 1;
    updated.create_time = it->second.item.create_time;
    updated.update_time = absl::Now();
    it->second.item = updated;
    return LoggedLocked(updated);
  }
  absl::StatusOr<Item> SetDeleteTime(const std::string& id, std::optional<absl::Time> delete_time,
                                     int64_t expected_version, const CallContext&) override {
    std::lock_guard<std::mutex> l(mu_);
    auto it = items_.find(id);
    if (it == items_.end()) return absl::NotFoundError("no item");
    if (it->second.item.version != expected_version) return absl::AbortedError("item changed");
    it->second.item.delete_time = delete_time;
    ++it->second.item.version;
    return LoggedLocked(it->second.item);
  }
  absl::StatusOr<ItemPage> ListItems(const ListItemsQuery& q, const CallContext&) override {
    std::lock_guard<std::mutex> l(mu_);
    std::vector<const Row*> rows = SortedRows();
    ItemPage page;
    for (const Row* r : rows) {
      if (r->seq <= q.after_seq) continue;
      if (!q.show_deleted && r->item.delete_time) continue;
      if (q.type_id && r->item.type_id != *q.type_id) continue;
      auto match = Matches(r->item, q.filter);
      if (!match.ok()) return match.status();
      if (!*match) continue;
      if (static_cast<int>(page.items.size()) == q.limit) {
        page.more = true;
        break;
      }
      page.items.push_back(r->item);
      page.last_seq = r->seq;
    }
    return page;
  }
  absl::StatusOr<SearchPage> SearchItems(const SearchQuery& q, const CallContext&) override {
    std::lock_guard<std::mutex> l(mu_);
    last_tsquery = q.tsquery;
    std::vector<std::string> words;
    for (absl::string_view w :
         absl::StrSplit(q.tsquery, absl::ByAnyChar(" '&|!():*<->"), absl::SkipEmpty())) {
      words.push_back(absl::AsciiStrToLower(w));
    }
    SearchPage page;
    int skipped = 0;
    for (const Row* r : SortedRows()) {
      if (r->item.delete_time || (q.type_id && r->item.type_id != *q.type_id)) continue;
      const std::string text = absl::AsciiStrToLower(r->item.title + " " + r->item.body);
      bool all = true;
      for (const auto& w : words) all = all && absl::StrContains(text, w);
      if (!all) continue;
      if (skipped++ < q.offset) continue;
      if (static_cast<int>(page.hits.size()) == q.limit) {
        page.more = true;
        break;
      }
      page.hits.push_back({r->item, 1.0, r->item.title});
    }
    return page;
  }
  absl::StatusOr<int64_t> Purge(absl::Time cutoff, absl::Time, const CallContext&) override {
    std::lock_guard<std::mutex> l(mu_);
    int64_t n = 0;
    for (auto it = items_.begin(); it != items_.end();) {
      if (it->second.item.delete_time && *it->second.item.delete_time < cutoff) {
        log_.emplace_back(++position_, it->first);
        it = items_.erase(it);
        ++n;
      } else {
        ++it;
      }
    }
    return n;
  }
  absl::Status Ping(const CallContext&) override { return ping_status; }

  absl::StatusOr<std::vector<Item>> GetItems(const std::vector<std::string>& ids,
                                             const CallContext&) override {
    std::lock_guard<std::mutex> l(mu_);
    std::vector<Item> out;
    for (const auto& id : ids) {
      if (auto it = items_.find(id); it != items_.end()) out.push_back(it->second.item);
    }
    return out;
  }
  // The change log: every write gets the next position; nothing is ever in flight.
  absl::StatusOr<IndexChangeBatch> ReadIndexChanges(int64_t from, int max_transactions,
                                                    const CallContext&) override {
    std::lock_guard<std::mutex> l(mu_);
    if (!read_changes_status.ok()) return read_changes_status;
    if (from < trimmed_through_) return absl::FailedPreconditionError("trimmed");
    IndexChangeBatch batch;
    batch.applied_through = std::max(from, position_ + 1);
    std::set<std::string> seen;
    int n = 0;
    for (const auto& [pos, id] : log_) {
      if (pos < from) continue;
      if (n == max_transactions) {
        batch.more = true;
        batch.applied_through = pos;
        break;
      }
      ++n;
      if (!seen.insert(id).second) continue;
      IndexChange change{id, std::nullopt};
      if (auto it = items_.find(id); it != items_.end() && !it->second.item.delete_time) {
        change.item = it->second.item;
      }
      batch.changes.push_back(std::move(change));
    }
    return batch;
  }
  absl::StatusOr<int64_t> ScanLiveItems(const std::function<absl::Status(std::vector<Item>)>& sink,
                                        const CallContext&) override {
    std::vector<Item> live;
    int64_t position;
    {
      std::lock_guard<std::mutex> l(mu_);
      for (const Row* r : SortedRows()) {
        if (!r->item.delete_time) live.push_back(r->item);
      }
      position = position_ + 1;
    }
    ++scans;
    GENESIS_RETURN_IF_ERROR(sink(std::move(live)));
    return position;
  }
  absl::StatusOr<int64_t> TrimIndexChanges(absl::Time, const CallContext&) override {
    std::lock_guard<std::mutex> l(mu_);
    const int64_t n = static_cast<int64_t>(log_.size());
    trimmed_through_ = position_ + 1;
    log_.clear();
    return n;
  }

  // Test hooks.
  absl::Status ping_status = absl::OkStatus();
  absl::Duration list_types_delay = absl::ZeroDuration();  // simulates a slow query
  std::atomic<int> list_types_started{0};
  int get_item_calls = 0;
  std::string last_tsquery;
  int scans = 0;  // ScanLiveItems calls
  absl::Status read_changes_status = absl::OkStatus();

 private:
  struct Row {
    int64_t seq = 0;
    Item item;
  };
  int64_t CountItemsLocked(const std::string& type_id) const {
    int64_t n = 0;
    for (const auto& [id, r] : items_) n += r.item.type_id == type_id;
    return n;
  }
  std::vector<const Row*> SortedRows() const {
    std::vector<const Row*> rows;
    for (const auto& [id, r] : items_) rows.push_back(&r);
    std::sort(rows.begin(), rows.end(), [](const Row* a, const Row* b) { return a->seq < b->seq; });
    return rows;
  }
  Item LoggedLocked(Item item) {
    item.index_position = ++position_;
    log_.emplace_back(item.index_position, item.id);
    return item;
  }
  static absl::StatusOr<bool> Matches(const Item& item, const std::vector<Condition>& filter) {
    for (const auto& c : filter) {
      if (c.op != Condition::Op::kEq && c.op != Condition::Op::kHas) {
        return absl::UnimplementedError("the fake store supports only = and : filters");
      }
      nlohmann::json value;
      if (c.target == Condition::Target::kLabel) {
        auto it = item.labels.find(c.key);
        if (it == item.labels.end()) return false;
        value = it->second;
      } else {
        if (!item.attributes.contains(c.key)) return false;
        value = item.attributes[c.key];
      }
      if (std::holds_alternative<std::monostate>(c.value)) continue;
      nlohmann::json want;
      std::visit(
          [&](const auto& v) {
            if constexpr (!std::is_same_v<std::decay_t<decltype(v)>, std::monostate>) want = v;
          },
          c.value);
      bool ok = value == want;
      if (c.op == Condition::Op::kHas && value.is_array()) {
        ok = std::find(value.begin(), value.end(), want) != value.end();
      }
      if (!ok) return false;
    }
    return true;
  }

  std::mutex mu_;
  std::map<std::string, ItemType> types_;
  std::map<std::string, Row> items_;
  std::map<std::string, std::pair<std::string, std::string>> keys_;
  // CreateType's request ids: request_id -> (hash, type id).
  std::map<std::string, std::pair<std::string, std::string>> type_keys_;
  int64_t seq_ = 0;
  int64_t position_ = 0;
  int64_t trimmed_through_ = 0;
  std::vector<std::pair<int64_t, std::string>> log_;
};

// A cache that remembers items in a map; counts calls. `during_next_get`, when
// set, runs once inside the next Get(), after the value was read: a write that
// lands while a read is in flight.
class FakeItemCache final : public ItemCache {
 public:
  std::optional<Item> Get(const std::string& id, const CallContext&) override {
    std::optional<Item> found;
    std::function<void()> hook;
    {
      std::lock_guard<std::mutex> l(mu_);
      ++gets;
      if (auto it = items.find(id); it != items.end()) found = it->second;
      hook.swap(during_next_get);
    }
    if (hook) hook();
    return found;
  }
  void Put(const Item& item, const CallContext&) override {
    std::lock_guard<std::mutex> l(mu_);
    if (auto t = tombstones.find(item.id); t != tombstones.end() && t->second > item.version)
      return;
    items[item.id] = item;
  }
  void Invalidate(const std::string& id, int64_t version, const CallContext&) override {
    std::lock_guard<std::mutex> l(mu_);
    items.erase(id);
    tombstones[id] = version;
    ++invalidations;
  }
  std::map<std::string, int64_t> tombstones;
  std::map<std::string, Item> items;
  int invalidations = 0;
  int gets = 0;
  std::function<void()> during_next_get;

 private:
  std::mutex mu_;
};

}  // namespace genesis::catalog::testing
