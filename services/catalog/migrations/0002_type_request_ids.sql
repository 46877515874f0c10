-- Idempotency keys of CreateItemType: a retried request returns the type the
-- first one created (request_hash tells a retry from another request).
ALTER TABLE catalog.item_types ADD COLUMN request_id text, ADD COLUMN request_hash text;
CREATE UNIQUE INDEX item_types_request_id_idx ON catalog.item_types (request_id)
  WHERE request_id IS NOT NULL;
