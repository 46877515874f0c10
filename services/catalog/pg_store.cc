#include "services/catalog/pg_store.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/base/status.h"
#include "services/catalog/reasons.h"

namespace genesis::catalog {
namespace {

constexpr char kItemColumns[] =
    "i.id, i.type_id, i.title, i.body, i.attributes::text, i.labels::text, i.version, "
    "(extract(epoch from i.create_time) * 1000000)::bigint, "
    "(extract(epoch from i.update_time) * 1000000)::bigint, "
    "(extract(epoch from i.delete_time) * 1000000)::bigint";
constexpr int kItemColumnCount = 10;

// A highlighted excerpt (s4.snippet) of the body where it matches, else of the
// title; Portuguese stems first, English ones when only those match. Each
// step runs only when the previous one highlighted nothing.
#define GENESIS_HEADLINE(config, text)                                                       \
  "ts_headline('catalog.genesis_" config "', " text                                          \
  ", q.query, 'StartSel=<mark>, StopSel=</mark>, MaxWords=30, MinWords=10, MaxFragments=2, " \
  "FragmentDelimiter=\" … \"')"
constexpr char kSnippetSql[] =
    " CROSS JOIN LATERAL (SELECT " GENESIS_HEADLINE("pt", "left(i.body, 20000)") " AS snippet) s1"
    " CROSS JOIN LATERAL (SELECT CASE WHEN strpos(s1.snippet, '<mark>') > 0 THEN s1.snippet ELSE "
    GENESIS_HEADLINE("en", "left(i.body, 20000)") " END AS snippet) s2"
    " CROSS JOIN LATERAL (SELECT CASE WHEN strpos(s2.snippet, '<mark>') > 0 THEN s2.snippet ELSE "
    GENESIS_HEADLINE("pt", "i.title") " END AS snippet) s3"
    " CROSS JOIN LATERAL (SELECT CASE WHEN strpos(s3.snippet, '<mark>') > 0 THEN s3.snippet ELSE "
    GENESIS_HEADLINE("en", "i.title") " END AS snippet) s4";
#undef GENESIS_HEADLINE

constexpr char kTypeColumns[] =
    "t.id, t.display_name, t.attributes::text, t.version, "
    "(extract(epoch from t.create_time) * 1000000)::bigint, "
    "(extract(epoch from t.update_time) * 1000000)::bigint";

const char* KindToText(AttributeKind k) {
  switch (k) {
    case AttributeKind::kString:
      return "STRING";
    case AttributeKind::kNumber:
      return "NUMBER";
    case AttributeKind::kBool:
      return "BOOL";
    case AttributeKind::kStringList:
      return "STRING_LIST";
    case AttributeKind::kTimestamp:
      return "TIMESTAMP";
    default:
      return "UNSPECIFIED";
  }
}

AttributeKind KindFromText(const std::string& s) {
  if (s == "STRING") return AttributeKind::kString;
  if (s == "NUMBER") return AttributeKind::kNumber;
  if (s == "BOOL") return AttributeKind::kBool;
  if (s == "STRING_LIST") return AttributeKind::kStringList;
  if (s == "TIMESTAMP") return AttributeKind::kTimestamp;
  return AttributeKind::kUnspecified;
}

std::string AttributesJson(const std::vector<AttributeDef>& defs) {
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& d : defs) {
    arr.push_back({{"name", d.name},
                   {"kind", KindToText(d.kind)},
                   {"required", d.required},
                   {"description", d.description}});
  }
  return arr.dump();
}

std::string LabelsJson(const std::map<std::string, std::string>& labels) {
  return nlohmann::json(labels).dump();
}

absl::Time FromMicros(const pqxx::field& f) { return absl::FromUnixMicros(f.as<int64_t>()); }

ItemType TypeFromRow(const pqxx::row& r) {
  ItemType t;
  t.id = r[0].as<std::string>();
  t.display_name = r[1].as<std::string>();
  for (const auto& d : nlohmann::json::parse(r[2].as<std::string>())) {
    t.attributes.push_back({d.value("name", ""), KindFromText(d.value("kind", "")),
                            d.value("required", false), d.value("description", "")});
  }
  t.version = r[3].as<int64_t>();
  t.create_time = FromMicros(r[4]);
  t.update_time = FromMicros(r[5]);
  return t;
}

Item ItemFromRow(const pqxx::row& r, int offset = 0) {
  Item it;
  it.id = r[offset + 0].as<std::string>();
  it.type_id = r[offset + 1].as<std::string>();
  it.title = r[offset + 2].as<std::string>();
  it.body = r[offset + 3].as<std::string>();
  it.attributes = nlohmann::json::parse(r[offset + 4].as<std::string>());
  it.labels = nlohmann::json::parse(r[offset + 5].as<std::string>())
                  .get<std::map<std::string, std::string>>();
  it.version = r[offset + 6].as<int64_t>();
  it.create_time = FromMicros(r[offset + 7]);
  it.update_time = FromMicros(r[offset + 8]);
  if (!r[offset + 9].is_null()) it.delete_time = FromMicros(r[offset + 9]);
  return it;
}

// The writing transaction's id, after kItemColumns in a write's RETURNING.
constexpr char kPositionColumn[] = ", pg_current_xact_id()::text";

Item WrittenItemFromRow(const pqxx::row& r) {
  Item it = ItemFromRow(r);
  it.index_position = r[kItemColumnCount].as<int64_t>();
  return it;
}

// Accumulates positional parameters ($1, $2, ...) for a dynamic statement.
class Params {
 public:
  std::string Add(std::string value) {
    values_.push_back(std::move(value));
    return absl::StrCat("$", values_.size());
  }
  pqxx::result Exec(pqxx::transaction_base& tx, const std::string& sql) const {
    return tx.exec_params(sql, pqxx::prepare::make_dynamic_params(values_));
  }

 private:
  std::vector<std::string> values_;
};

std::string JsonOf(const std::variant<std::monostate, std::string, double, bool>& v) {
  if (auto* s = std::get_if<std::string>(&v)) return nlohmann::json(*s).dump();
  if (auto* d = std::get_if<double>(&v)) return nlohmann::json(*d).dump();
  if (auto* b = std::get_if<bool>(&v)) return *b ? "true" : "false";
  return "null";
}

const char* SqlOp(Condition::Op op) {
  switch (op) {
    case Condition::Op::kLt:
      return "<";
    case Condition::Op::kLe:
      return "<=";
    case Condition::Op::kGt:
      return ">";
    case Condition::Op::kGe:
      return ">=";
    default:
      return "=";
  }
}

// One filter condition as SQL over alias `i`. Equality and "has" use jsonb
// containment so the GIN indexes on attributes/labels apply.
std::string ConditionSql(const Condition& c, Params* p) {
  const char* column = c.target == Condition::Target::kAttribute ? "i.attributes" : "i.labels";
  const std::string key = p->Add(c.key);
  switch (c.op) {
    case Condition::Op::kEq:
      return absl::StrCat(column, " @> jsonb_build_object(", key, "::text, ",
                          p->Add(JsonOf(c.value)), "::jsonb)");
    case Condition::Op::kNe:
      return absl::StrCat("NOT (", column, " @> jsonb_build_object(", key, "::text, ",
                          p->Add(JsonOf(c.value)), "::jsonb))");
    case Condition::Op::kHas: {
      if (std::holds_alternative<std::monostate>(c.value)) return absl::StrCat(column, " ? ", key);
      const std::string v = p->Add(JsonOf(c.value));
      return absl::StrCat("(", column, " @> jsonb_build_object(", key, "::text, jsonb_build_array(",
                          v, "::jsonb)) OR ", column, " @> jsonb_build_object(", key, "::text, ", v,
                          "::jsonb))");
    }
    default: {
      if (const double* d = std::get_if<double>(&c.value)) {
        return absl::StrCat("(CASE WHEN jsonb_typeof(", column, " -> ", key, ") = 'number' THEN (",
                            column, " ->> ", key, ")::numeric END) ", SqlOp(c.op), " ",
                            p->Add(absl::StrCat(*d)), "::numeric");
      }
      const std::string* s = std::get_if<std::string>(&c.value);
      return absl::StrCat("(CASE WHEN jsonb_typeof(", column, " -> ", key, ") = 'string' THEN ",
                          column, " ->> ", key, " END) ", SqlOp(c.op), " ",
                          p->Add(s != nullptr ? *s : ""), "::text");
    }
  }
}

std::string FilterSql(const std::optional<std::string>& type_id,
                      const std::vector<Condition>& filter, Params* p) {
  std::string sql;
  if (type_id) absl::StrAppend(&sql, " AND i.type_id = ", p->Add(*type_id));
  for (const auto& c : filter) absl::StrAppend(&sql, " AND ", ConditionSql(c, p));
  return sql;
}

absl::Status ItemWriteConflict(pqxx::transaction_base& tx, const std::string& id) {
  auto r = tx.exec_params("SELECT delete_time IS NOT NULL FROM catalog.items WHERE id = $1", id);
  if (r.empty()) return reasons::ItemNotFound(id);
  return reasons::ConcurrentModification(
      absl::StrCat("item 'items/", id,
                   "' was changed by another request meanwhile; read it again and retry"),
      absl::StrCat("items/", id));
}

absl::Status TypeVersionCheck(pqxx::transaction_base& tx, const std::string& type_id,
                              int64_t type_version, const char* lock) {
  auto r = tx.exec_params(
      absl::StrCat("SELECT version FROM catalog.item_types WHERE id = $1 ", lock), type_id);
  if (r.empty()) return reasons::ItemTypeNotFound(type_id);
  if (r[0][0].as<int64_t>() != type_version) {
    return reasons::ConcurrentModification(
        absl::StrCat("type 'types/", type_id, "' changed while the item was checked; retry"),
        absl::StrCat("types/", type_id));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ItemType> PgCatalogStore::CreateType(const ItemType& type,
                                                    const std::optional<IdempotencyKey>& key,
                                                    const CallContext& ctx) {
  return pool_->Transaction(ctx.deadline, [&](pqxx::work& tx) -> absl::StatusOr<ItemType> {
    if (key) {
      auto prior = tx.exec_params(
          "SELECT request_hash FROM catalog.item_types WHERE request_id = $1", key->request_id);
      if (!prior.empty()) {
        if (prior[0][0].as<std::string>() != key->request_hash) {
          return WithReason(
              absl::AlreadyExistsError(absl::StrCat(
                  "request_id '", key->request_id,
                  "' was already used for a different type; use a new request_id per new type")),
              reasons::kRequestIdReused, {{"request_id", key->request_id}});
        }
        auto existing =
            tx.exec_params(absl::StrCat("SELECT ", kTypeColumns,
                                        " FROM catalog.item_types t WHERE t.request_id = $1"),
                           key->request_id);
        return TypeFromRow(existing[0]);
      }
    }
    auto r = tx.exec_params(
        absl::StrCat("INSERT INTO catalog.item_types AS t (id, display_name, attributes, "
                     "request_id, request_hash) "
                     "VALUES ($1, $2, $3::jsonb, NULLIF($4, ''), NULLIF($5, '')) "
                     "ON CONFLICT (id) DO NOTHING RETURNING ",
                     kTypeColumns),
        type.id, type.display_name, AttributesJson(type.attributes),
        key ? key->request_id : std::string(), key ? key->request_hash : std::string());
    if (r.empty())
      return WithReason(
          absl::AlreadyExistsError(absl::StrCat("type 'types/", type.id, "' already exists")),
          reasons::kItemTypeAlreadyExists, {{"item_type", absl::StrCat("types/", type.id)}});
    return TypeFromRow(r[0]);
  });
}

absl::StatusOr<ItemType> PgCatalogStore::GetType(const std::string& id, const CallContext& ctx) {
  return pool_->ReadOnly(ctx.deadline, [&](pqxx::read_transaction& tx) -> absl::StatusOr<ItemType> {
    auto r = tx.exec_params(
        absl::StrCat("SELECT ", kTypeColumns, " FROM catalog.item_types t WHERE t.id = $1"), id);
    if (r.empty()) return reasons::ItemTypeNotFound(id);
    return TypeFromRow(r[0]);
  });
}

absl::StatusOr<TypePage> PgCatalogStore::ListTypes(const std::string& after_id, int limit,
                                                   const CallContext& ctx) {
  return pool_->ReadOnly(ctx.deadline, [&](pqxx::read_transaction& tx) -> absl::StatusOr<TypePage> {
    auto r = tx.exec_params(absl::StrCat("SELECT ", kTypeColumns,
                                         " FROM catalog.item_types t WHERE t.id > $1 "
                                         "ORDER BY t.id LIMIT $2"),
                            after_id, limit + 1);
    TypePage page;
    for (const auto& row : r) {
      if (static_cast<int>(page.types.size()) == limit) {
        page.more = true;
        break;
      }
      page.types.push_back(TypeFromRow(row));
    }
    return page;
  });
}

absl::StatusOr<ItemType> PgCatalogStore::UpdateType(const ItemType& type, int64_t expected_version,
                                                    bool require_no_items, const CallContext& ctx) {
  return pool_->Transaction(ctx.deadline, [&](pqxx::work& tx) -> absl::StatusOr<ItemType> {
    GENESIS_RETURN_IF_ERROR(TypeVersionCheck(tx, type.id, expected_version, "FOR UPDATE"));
    if (require_no_items) {
      auto n =
          tx.exec_params("SELECT EXISTS (SELECT 1 FROM catalog.items WHERE type_id = $1)", type.id);
      if (n[0][0].as<bool>()) {
        return WithReason(
            absl::FailedPreconditionError(absl::StrCat("type 'types/", type.id, "' has items")),
            reasons::kItemTypeInUse, {{"item_type", absl::StrCat("types/", type.id)}});
      }
    }
    auto r = tx.exec_params(
        absl::StrCat("UPDATE catalog.item_types t SET display_name = $2, attributes = $3::jsonb, "
                     "version = version + 1, update_time = now() WHERE id = $1 RETURNING ",
                     kTypeColumns),
        type.id, type.display_name, AttributesJson(type.attributes));
    return TypeFromRow(r[0]);
  });
}

absl::Status PgCatalogStore::DeleteType(const std::string& id, const CallContext& ctx) {
  return pool_->Transaction(ctx.deadline, [&](pqxx::work& tx) -> absl::Status {
    auto t = tx.exec_params("SELECT 1 FROM catalog.item_types WHERE id = $1 FOR UPDATE", id);
    if (t.empty()) return reasons::ItemTypeNotFound(id);
    auto n = tx.exec_params(
        "SELECT count(*), count(*) FILTER (WHERE delete_time IS NOT NULL) "
        "FROM catalog.items WHERE type_id = $1",
        id);
    const int64_t total = n[0][0].as<int64_t>(), deleted = n[0][1].as<int64_t>();
    if (total > 0) {
      return WithReason(
          absl::FailedPreconditionError(absl::StrCat(
              "type 'types/", id, "' still has ", total, " item(s)",
              deleted > 0 ? absl::StrCat(", ", deleted, " of them deleted but still restorable")
                          : "",
              "; delete its items first (deleted items are purged after the undelete window)")),
          reasons::kItemTypeInUse,
          {{"item_type", absl::StrCat("types/", id)}, {"items", absl::StrCat(total)}});
    }
    tx.exec_params("DELETE FROM catalog.item_types WHERE id = $1", id);
    return absl::OkStatus();
  });
}

absl::StatusOr<Item> PgCatalogStore::CreateItem(const Item& item, int64_t type_version,
                                                const std::optional<IdempotencyKey>& key,
                                                const CallContext& ctx) {
  return pool_->Transaction(ctx.deadline, [&](pqxx::work& tx) -> absl::StatusOr<Item> {
    if (key) {
      auto claimed = tx.exec_params(
          "INSERT INTO catalog.create_requests (request_id, request_hash, item_id) "
          "VALUES ($1, $2, $3) ON CONFLICT (request_id) DO NOTHING RETURNING 1",
          key->request_id, key->request_hash, item.id);
      if (claimed.empty()) {
        auto prior = tx.exec_params(
            "SELECT request_hash, item_id FROM catalog.create_requests WHERE request_id = $1",
            key->request_id);
        if (prior[0][0].as<std::string>() != key->request_hash) {
          return WithReason(
              absl::AlreadyExistsError(absl::StrCat(
                  "request_id '", key->request_id,
                  "' was already used for a different item; use a new request_id per new item")),
              reasons::kRequestIdReused, {{"request_id", key->request_id}});
        }
        auto existing = tx.exec_params(
            absl::StrCat("SELECT ", kItemColumns, " FROM catalog.items i WHERE i.id = $1"),
            prior[0][1].as<std::string>());
        if (existing.empty()) {
          return WithReason(
              absl::NotFoundError(absl::StrCat("the item created for request_id '", key->request_id,
                                               "' has since been purged")),
              reasons::kRequestIdExpired, {{"request_id", key->request_id}});
        }
        return ItemFromRow(existing[0]);
      }
    }
    GENESIS_RETURN_IF_ERROR(TypeVersionCheck(tx, item.type_id, type_version, "FOR SHARE"));
    auto r = tx.exec_params(
        absl::StrCat(
            "INSERT INTO catalog.items AS i (id, type_id, title, body, attributes, labels) "
            "VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb) RETURNING ",
            kItemColumns, kPositionColumn),
        item.id, item.type_id, item.title, item.body, item.attributes.dump(),
        LabelsJson(item.labels));
    return WrittenItemFromRow(r[0]);
  });
}

absl::StatusOr<Item> PgCatalogStore::GetItem(const std::string& id, const CallContext& ctx) {
  return pool_->ReadOnly(ctx.deadline, [&](pqxx::read_transaction& tx) -> absl::StatusOr<Item> {
    auto r = tx.exec_params(
        absl::StrCat("SELECT ", kItemColumns, " FROM catalog.items i WHERE i.id = $1"), id);
    if (r.empty()) return reasons::ItemNotFound(id);
    return ItemFromRow(r[0]);
  });
}

absl::StatusOr<Item> PgCatalogStore::UpdateItem(const Item& item, int64_t expected_version,
                                                int64_t type_version, const CallContext& ctx) {
  return pool_->Transaction(ctx.deadline, [&](pqxx::work& tx) -> absl::StatusOr<Item> {
    GENESIS_RETURN_IF_ERROR(TypeVersionCheck(tx, item.type_id, type_version, "FOR SHARE"));
    auto r = tx.exec_params(
        absl::StrCat("UPDATE catalog.items i SET title = $3, body = $4, attributes = $5::jsonb, "
                     "labels = $6::jsonb, version = version + 1, update_time = now() "
                     "WHERE id = $1 AND version = $2 AND delete_time IS NULL RETURNING ",
                     kItemColumns, kPositionColumn),
        item.id, expected_version, item.title, item.body, item.attributes.dump(),
        LabelsJson(item.labels));
    if (r.empty()) return ItemWriteConflict(tx, item.id);
    return WrittenItemFromRow(r[0]);
  });
}

absl::StatusOr<Item> PgCatalogStore::SetDeleteTime(const std::string& id,
                                                   std::optional<absl::Time> delete_time,
                                                   int64_t expected_version,
                                                   const CallContext& ctx) {
  return pool_->Transaction(ctx.deadline, [&](pqxx::work& tx) -> absl::StatusOr<Item> {
    pqxx::result r;
    const std::string tail = absl::StrCat(
        ", version = version + 1, update_time = now() WHERE id = $1 AND version = $2 RETURNING ",
        kItemColumns, kPositionColumn);
    if (delete_time) {
      r = tx.exec_params(absl::StrCat("UPDATE catalog.items i SET delete_time = "
                                      "to_timestamp($3::double precision / 1000000)",
                                      tail),
                         id, expected_version, absl::ToUnixMicros(*delete_time));
    } else {
      r = tx.exec_params(absl::StrCat("UPDATE catalog.items i SET delete_time = NULL", tail), id,
                         expected_version);
    }
    if (r.empty()) return ItemWriteConflict(tx, id);
    return WrittenItemFromRow(r[0]);
  });
}

absl::StatusOr<ItemPage> PgCatalogStore::ListItems(const ListItemsQuery& q,
                                                   const CallContext& ctx) {
  return pool_->ReadOnly(ctx.deadline, [&](pqxx::read_transaction& tx) -> absl::StatusOr<ItemPage> {
    Params p;
    std::string sql =
        absl::StrCat("SELECT i.seq, ", kItemColumns, " FROM catalog.items i WHERE i.seq > ",
                     p.Add(absl::StrCat(q.after_seq)), "::bigint");
    if (!q.show_deleted) sql += " AND i.delete_time IS NULL";
    sql += FilterSql(q.type_id, q.filter, &p);
    absl::StrAppend(&sql, " ORDER BY i.seq LIMIT ", p.Add(absl::StrCat(q.limit + 1)), "::int");
    ItemPage page;
    for (const auto& row : p.Exec(tx, sql)) {
      if (static_cast<int>(page.items.size()) == q.limit) {
        page.more = true;
        break;
      }
      page.last_seq = row[0].as<int64_t>();
      page.items.push_back(ItemFromRow(row, 1));
    }
    return page;
  });
}

absl::StatusOr<SearchPage> PgCatalogStore::SearchItems(const SearchQuery& q,
                                                       const CallContext& ctx) {
  return pool_->ReadOnly(
      ctx.deadline, [&](pqxx::read_transaction& tx) -> absl::StatusOr<SearchPage> {
        Params p;
        const std::string query = p.Add(q.tsquery);
        std::string sql = absl::StrCat(
            "WITH q AS (SELECT to_tsquery('catalog.genesis_pt', ", query,
            ") || to_tsquery('catalog.genesis_en', ", query,
            ") AS query), matches AS (SELECT i.seq, i.search_vector FROM catalog.items i, q "
            "WHERE i.search_vector @@ q.query AND i.delete_time IS NULL",
            FilterSql(q.type_id, q.filter, &p));
        if (q.rank_window > 0) {
          absl::StrAppend(&sql, " LIMIT ", p.Add(absl::StrCat(q.rank_window)), "::int");
        }
        absl::StrAppend(&sql,
                        "), hits AS (SELECT m.seq, ts_rank_cd(m.search_vector, q.query) AS score "
                        "FROM matches m, q ORDER BY score DESC, m.seq DESC LIMIT ",
                        p.Add(absl::StrCat(q.limit + 1)), "::int OFFSET ",
                        p.Add(absl::StrCat(q.offset)), "::int) SELECT ", kItemColumns,
                        ", h.score, s4.snippet FROM hits h JOIN catalog.items i ON i.seq = h.seq "
                        "CROSS JOIN q",
                        kSnippetSql, " ORDER BY h.score DESC, h.seq DESC");
        SearchPage page;
        for (const auto& row : p.Exec(tx, sql)) {
          if (static_cast<int>(page.hits.size()) == q.limit) {
            page.more = true;
            break;
          }
          SearchHit hit;
          hit.item = ItemFromRow(row);
          hit.score = row[kItemColumnCount].as<double>();
          hit.snippet = row[kItemColumnCount + 1].as<std::string>();
          page.hits.push_back(std::move(hit));
        }
        return page;
      });
}

absl::StatusOr<std::vector<Item>> PgCatalogStore::GetItems(const std::vector<std::string>& ids,
                                                           const CallContext& ctx) {
  if (ids.empty()) return std::vector<Item>{};
  return pool_->ReadOnly(
      ctx.deadline, [&](pqxx::read_transaction& tx) -> absl::StatusOr<std::vector<Item>> {
        Params p;
        std::string list;
        for (const auto& id : ids) absl::StrAppend(&list, list.empty() ? "" : ", ", p.Add(id));
        std::vector<Item> out;
        for (const auto& row :
             p.Exec(tx, absl::StrCat("SELECT ", kItemColumns,
                                     " FROM catalog.items i WHERE i.id IN (", list, ")"))) {
          out.push_back(ItemFromRow(row));
        }
        return out;
      });
}

absl::StatusOr<IndexChangeBatch> PgCatalogStore::ReadIndexChanges(int64_t from,
                                                                  int max_transactions,
                                                                  const CallContext& ctx) {
  return pool_->ReadOnly(
      ctx.deadline, [&](pqxx::read_transaction& tx) -> absl::StatusOr<IndexChangeBatch> {
        // One snapshot for the horizon, the log and the items' states.
        tx.exec0("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ");
        auto head = tx.exec(
            "SELECT pg_snapshot_xmin(pg_current_snapshot())::text, trimmed_through::text "
            "FROM catalog.search_outbox_state");
        const int64_t horizon = head[0][0].as<int64_t>();
        const int64_t trimmed = head[0][1].as<int64_t>();
        if (from < trimmed) {
          return absl::FailedPreconditionError(
              "the search index change log was trimmed past this index's position");
        }
        auto txs = tx.exec_params(
            "SELECT DISTINCT xid::text::bigint AS x FROM catalog.search_outbox "
            "WHERE xid >= $1::text::xid8 AND xid < $2::text::xid8 ORDER BY x LIMIT $3",
            from, horizon, max_transactions + 1);
        IndexChangeBatch batch;
        batch.applied_through = std::max(from, horizon);
        if (txs.empty()) return batch;
        int64_t last = txs[0][0].as<int64_t>();
        for (int i = 0; i < std::min<int>(max_transactions, txs.size()); ++i) {
          last = txs[i][0].as<int64_t>();
        }
        if (static_cast<int>(txs.size()) > max_transactions) {
          batch.more = true;
          batch.applied_through = last + 1;
        }
        auto rows =
            tx.exec_params(absl::StrCat("SELECT o.item_id, ", kItemColumns,
                                        " FROM (SELECT DISTINCT item_id FROM catalog.search_outbox "
                                        "WHERE xid >= $1::text::xid8 AND xid < $2::text::xid8) o "
                                        "LEFT JOIN catalog.items i ON i.id = o.item_id"),
                           from, batch.applied_through);
        for (const auto& row : rows) {
          IndexChange change;
          change.id = row[0].as<std::string>();
          if (!row[1].is_null()) {
            Item item = ItemFromRow(row, 1);
            if (!item.delete_time) change.item = std::move(item);
          }
          batch.changes.push_back(std::move(change));
        }
        return batch;
      });
}

absl::StatusOr<int64_t> PgCatalogStore::ScanLiveItems(
    const std::function<absl::Status(std::vector<Item>)>& sink, const CallContext& ctx) {
  return pool_->ReadOnly(ctx.deadline, [&](pqxx::read_transaction& tx) -> absl::StatusOr<int64_t> {
    tx.exec0("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ");
    // Changes of transactions from the horizon on may be missing from this
    // snapshot; the log has them.
    const int64_t horizon =
        tx.exec("SELECT pg_snapshot_xmin(pg_current_snapshot())::text")[0][0].as<int64_t>();
    int64_t after = 0;
    for (;;) {
      auto rows = tx.exec_params(
          absl::StrCat("SELECT i.seq, ", kItemColumns,
                       " FROM catalog.items i WHERE i.seq > $1 AND i.delete_time IS NULL "
                       "ORDER BY i.seq LIMIT 2000"),
          after);
      if (rows.empty()) break;
      std::vector<Item> batch;
      batch.reserve(rows.size());
      for (const auto& row : rows) {
        after = row[0].as<int64_t>();
        batch.push_back(ItemFromRow(row, 1));
      }
      GENESIS_RETURN_IF_ERROR(sink(std::move(batch)));
    }
    return horizon;
  });
}

absl::StatusOr<int64_t> PgCatalogStore::TrimIndexChanges(absl::Time cutoff,
                                                         const CallContext& ctx) {
  return pool_->Transaction(ctx.deadline, [&](pqxx::work& tx) -> absl::StatusOr<int64_t> {
    // Below the oldest transaction that is newer than the cutoff or still
    // running: every row below it is older than the cutoff.
    auto bound = tx.exec_params(
        "SELECT least(coalesce((SELECT min(xid) FROM catalog.search_outbox "
        "WHERE create_time >= to_timestamp($1::double precision / 1000000)), "
        "pg_snapshot_xmin(pg_current_snapshot())), pg_snapshot_xmin(pg_current_snapshot()))::text",
        absl::ToUnixMicros(cutoff));
    const std::string through = bound[0][0].as<std::string>();
    auto gone = tx.exec_params("DELETE FROM catalog.search_outbox WHERE xid < $1::xid8", through);
    tx.exec_params(
        "UPDATE catalog.search_outbox_state SET trimmed_through = greatest(trimmed_through, "
        "$1::xid8)",
        through);
    return static_cast<int64_t>(gone.affected_rows());
  });
}

absl::StatusOr<int64_t> PgCatalogStore::Purge(absl::Time cutoff, absl::Time keys_cutoff,
                                              const CallContext& ctx) {
  return pool_->Transaction(ctx.deadline, [&](pqxx::work& tx) -> absl::StatusOr<int64_t> {
    auto items = tx.exec_params(
        "DELETE FROM catalog.items WHERE delete_time < to_timestamp($1::double precision / "
        "1000000)",
        absl::ToUnixMicros(cutoff));
    tx.exec_params(
        "DELETE FROM catalog.create_requests WHERE create_time < "
        "to_timestamp($1::double precision / 1000000)",
        absl::ToUnixMicros(keys_cutoff));
    return static_cast<int64_t>(items.affected_rows());
  });
}

absl::Status PgCatalogStore::BulkInsert(const std::vector<Item>& items, absl::Time deadline) {
  return pool_->Transaction(deadline, [&](pqxx::work& tx) -> absl::Status {
    pqxx::stream_to out(
        tx, "catalog.items",
        std::vector<std::string>{"id", "type_id", "title", "body", "attributes", "labels"});
    for (const auto& it : items) {
      out << std::make_tuple(it.id, it.type_id, it.title, it.body, it.attributes.dump(),
                             LabelsJson(it.labels));
    }
    out.complete();
    return absl::OkStatus();
  });
}

}  // namespace genesis::catalog
