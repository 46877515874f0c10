-- Per-subject settings (sandbox mode) and the mark on accounted executions.
CREATE TABLE llm_router.subject_settings (
  subject      text PRIMARY KEY CHECK (subject <> ''),
  sandbox      boolean NOT NULL DEFAULT false,
  update_time  timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE llm_router.executions ADD COLUMN sandbox boolean NOT NULL DEFAULT false;
