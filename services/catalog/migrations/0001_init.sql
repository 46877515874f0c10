-- Catalog schema: item types, items and their full-text index.
-- unaccent is a trusted extension shared by the database; the text search
-- configurations that use it belong to this schema.
CREATE EXTENSION IF NOT EXISTS unaccent WITH SCHEMA public;

CREATE TEXT SEARCH CONFIGURATION catalog.genesis_pt (COPY = pg_catalog.portuguese);
ALTER TEXT SEARCH CONFIGURATION catalog.genesis_pt
  ALTER MAPPING FOR hword, hword_part, word WITH public.unaccent, portuguese_stem;

CREATE TEXT SEARCH CONFIGURATION catalog.genesis_en (COPY = pg_catalog.english);
ALTER TEXT SEARCH CONFIGURATION catalog.genesis_en
  ALTER MAPPING FOR hword, hword_part, word WITH public.unaccent, english_stem;

CREATE TABLE catalog.item_types (
  id           text PRIMARY KEY,
  display_name text NOT NULL DEFAULT '',
  attributes   jsonb NOT NULL DEFAULT '[]'::jsonb,
  version      bigint NOT NULL DEFAULT 1,
  create_time  timestamptz NOT NULL DEFAULT now(),
  update_time  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE catalog.items (
  -- seq orders pages: it only grows, so keyset pages stay stable while others insert.
  seq          bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  id           text PRIMARY KEY,
  type_id      text NOT NULL REFERENCES catalog.item_types (id) ON DELETE RESTRICT,
  title        text NOT NULL,
  body         text NOT NULL DEFAULT '',
  attributes   jsonb NOT NULL DEFAULT '{}'::jsonb,
  labels       jsonb NOT NULL DEFAULT '{}'::jsonb,
  version      bigint NOT NULL DEFAULT 1,
  create_time  timestamptz NOT NULL DEFAULT now(),
  update_time  timestamptz NOT NULL DEFAULT now(),
  delete_time  timestamptz,
  -- The index: Portuguese and English stems, accent-insensitive, title (A)
  -- weighted above body (B). A stored generated column changes in the same
  -- statement, hence the same transaction, as the row. Only the first 100,000
  -- characters of a body are indexed: a tsvector holds at most 1 MB.
  search_vector tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('catalog.genesis_pt'::regconfig, title), 'A') ||
    setweight(to_tsvector('catalog.genesis_en'::regconfig, title), 'A') ||
    setweight(to_tsvector('catalog.genesis_pt'::regconfig, left(body, 100000)), 'B') ||
    setweight(to_tsvector('catalog.genesis_en'::regconfig, left(body, 100000)), 'B')
  ) STORED
);

CREATE INDEX items_search_idx ON catalog.items USING gin (search_vector);
CREATE INDEX items_type_seq_idx ON catalog.items (type_id, seq);
CREATE INDEX items_attributes_idx ON catalog.items USING gin (attributes jsonb_path_ops);
CREATE INDEX items_labels_idx ON catalog.items USING gin (labels jsonb_path_ops);
CREATE INDEX items_deleted_idx ON catalog.items (delete_time) WHERE delete_time IS NOT NULL;

-- Idempotency keys of CreateItem: a retried request returns the first item.
CREATE TABLE catalog.create_requests (
  request_id   text PRIMARY KEY,
  request_hash text NOT NULL,
  item_id      text NOT NULL,
  create_time  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX create_requests_time_idx ON catalog.create_requests (create_time);
