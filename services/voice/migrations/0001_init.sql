-- Voice schema: the record of interactions (metadata, and the audio only
-- when the service runs with --store_audio).
CREATE TABLE voice.interactions (
  id              text PRIMARY KEY,
  kind            smallint NOT NULL CHECK (kind BETWEEN 1 AND 3),
  create_time     timestamptz NOT NULL,
  language        text NOT NULL DEFAULT '',
  subject         text NOT NULL DEFAULT '',
  audio_micros    bigint NOT NULL DEFAULT 0,
  -- [{"stage": 1, "engine": "pocketsphinx", "micros": 1234}, ...]
  stages          jsonb NOT NULL DEFAULT '[]'::jsonb,
  audio           bytea,
  audio_bytes     bigint NOT NULL DEFAULT 0
);

CREATE INDEX interactions_newest ON voice.interactions (create_time DESC, id DESC);
