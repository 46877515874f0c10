-- The change log the search index applies (services/catalog/README.md, "Search index").
-- A trigger adds a row for every insert, update and delete of an item, so the
-- row commits in the same transaction as the change, whatever statement made it
-- (including COPY and the purge). `xid` is the writing transaction's id: an
-- applier reads the rows of transactions below the oldest one still running
-- (pg_snapshot_xmin), which are all committed or rolled back, so a transaction
-- that commits late can never be skipped (`seq` alone could: a lower seq may
-- commit after a higher one).
CREATE TABLE catalog.search_outbox (
  seq          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  xid          xid8 NOT NULL DEFAULT pg_current_xact_id(),
  item_id      text NOT NULL,
  create_time  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX search_outbox_xid_idx ON catalog.search_outbox (xid);

-- Rows of transactions below trimmed_through are gone: an index that has not
-- applied them rebuilds from the items instead.
CREATE TABLE catalog.search_outbox_state (
  one             boolean PRIMARY KEY DEFAULT true CHECK (one),
  trimmed_through xid8 NOT NULL DEFAULT '0'
);
INSERT INTO catalog.search_outbox_state DEFAULT VALUES;

CREATE FUNCTION catalog.search_outbox_note() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    INSERT INTO catalog.search_outbox (item_id) VALUES (OLD.id);
    RETURN OLD;
  END IF;
  INSERT INTO catalog.search_outbox (item_id) VALUES (NEW.id);
  RETURN NEW;
END
$$;

CREATE TRIGGER items_search_outbox AFTER INSERT OR UPDATE OR DELETE ON catalog.items
  FOR EACH ROW EXECUTE FUNCTION catalog.search_outbox_note();
