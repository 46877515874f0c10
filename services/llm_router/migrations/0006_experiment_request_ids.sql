-- Idempotency keys of CreateExperiment: a retried request returns the
-- experiment the first one created (request_hash tells a retry from another
-- request).
ALTER TABLE llm_router.experiments ADD COLUMN request_id text, ADD COLUMN request_hash text;
CREATE UNIQUE INDEX experiments_request_id_idx ON llm_router.experiments (request_id)
  WHERE request_id IS NOT NULL;
