-- Idempotency keys of CreateBot: a retried request returns the bot the first
-- one created (request_hash tells a retry from another request).
ALTER TABLE bot_manager.bots ADD COLUMN request_id text, ADD COLUMN request_hash text;
CREATE UNIQUE INDEX bots_request_id_idx ON bot_manager.bots (request_id)
  WHERE request_id IS NOT NULL;
