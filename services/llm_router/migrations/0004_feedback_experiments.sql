-- Feedback on executions, A/B experiments and the arm that routed each
-- execution.
CREATE TABLE llm_router.experiments (
  id           text PRIMARY KEY CHECK (id ~ '^[a-z][a-z0-9-]{0,62}$'),
  description  text NOT NULL DEFAULT '',
  task         text NOT NULL,
  -- [{"id": "a", "model": "sim-gpt-4o", "strategy": 0, "percent": 50}, ...]
  arms         jsonb NOT NULL,
  running      boolean NOT NULL DEFAULT true,
  create_time  timestamptz NOT NULL DEFAULT now(),
  stop_time    timestamptz
);
-- At most one running experiment per task.
CREATE UNIQUE INDEX experiments_running_task_idx ON llm_router.experiments (task) WHERE running;

ALTER TABLE llm_router.executions ADD COLUMN experiment_id text;
ALTER TABLE llm_router.executions ADD COLUMN arm text;
CREATE INDEX executions_experiment_idx ON llm_router.executions (experiment_id, arm)
  WHERE experiment_id IS NOT NULL;

CREATE TABLE llm_router.feedback (
  execution_id  bigint NOT NULL REFERENCES llm_router.executions (id) ON DELETE CASCADE,
  subject       text NOT NULL,
  score         integer NOT NULL CHECK (score BETWEEN 1 AND 5),
  comment       text NOT NULL DEFAULT '',
  create_time   timestamptz NOT NULL DEFAULT now(),
  update_time   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (execution_id, subject)
);
