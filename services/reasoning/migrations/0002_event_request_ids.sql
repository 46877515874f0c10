-- Idempotency keys of CreateCase, CreateHypothesis and CreateEvidence: the
-- event a create appended keeps its request_id (and a hash of the request),
-- so a retry finds it and returns the same result. A case's creation key is
-- unique over every case; the others within their case.
ALTER TABLE reasoning.case_events ADD COLUMN request_id text, ADD COLUMN request_hash text;
CREATE UNIQUE INDEX case_events_create_request_idx ON reasoning.case_events (request_id)
  WHERE request_id IS NOT NULL AND version = 1;
CREATE UNIQUE INDEX case_events_request_idx ON reasoning.case_events (case_id, request_id)
  WHERE request_id IS NOT NULL AND version > 1;
