-- LLM router schema: the model registry, accounting of every execution and
-- the queue of requests that failed on every model.
CREATE TABLE llm_router.models (
  id                    text PRIMARY KEY,
  provider              text NOT NULL,
  provider_model        text NOT NULL,
  protocol              text NOT NULL CHECK (protocol IN ('openai', 'anthropic', 'gemini')),
  base_url              text NOT NULL,
  locality              text NOT NULL CHECK (locality IN ('local', 'cloud')),
  simulated             boolean NOT NULL DEFAULT false,
  -- Tunables (UpdateModel); the configuration file only seeds them.
  enabled               boolean NOT NULL DEFAULT true,
  input_price_per_mtok  double precision NOT NULL CHECK (input_price_per_mtok >= 0),
  output_price_per_mtok double precision NOT NULL CHECK (output_price_per_mtok >= 0),
  context_window        integer NOT NULL CHECK (context_window > 0),
  capabilities          text[] NOT NULL DEFAULT '{}',
  quality               integer NOT NULL DEFAULT 50 CHECK (quality BETWEEN 0 AND 100),
  create_time           timestamptz NOT NULL DEFAULT now(),
  update_time           timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE llm_router.executions (
  id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  request_id     text NOT NULL,
  subject        text NOT NULL DEFAULT '',
  agent          text NOT NULL DEFAULT '',
  task           text NOT NULL,
  model_id       text,
  provider       text,
  input_tokens   bigint NOT NULL DEFAULT 0,
  output_tokens  bigint NOT NULL DEFAULT 0,
  cost_usd       double precision NOT NULL DEFAULT 0,
  latency_ms     double precision NOT NULL DEFAULT 0,
  attempts       integer NOT NULL DEFAULT 0,
  outcome        text NOT NULL CHECK (outcome IN ('ok', 'failed', 'rejected')),
  error          text NOT NULL DEFAULT '',
  sensitive      boolean NOT NULL DEFAULT false,
  streamed       boolean NOT NULL DEFAULT false,
  simulated      boolean NOT NULL DEFAULT false,
  prompt         text,
  response       text,
  create_time    timestamptz NOT NULL DEFAULT now()
);
-- Usage reports and budgets read by subject/agent and time.
CREATE INDEX executions_subject_time_idx ON llm_router.executions (subject, create_time);
CREATE INDEX executions_agent_time_idx ON llm_router.executions (agent, create_time);

CREATE TABLE llm_router.retry_queue (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  request_id   text NOT NULL,
  subject      text NOT NULL DEFAULT '',
  agent        text NOT NULL DEFAULT '',
  task         text NOT NULL,
  request      jsonb NOT NULL,
  attempts     jsonb NOT NULL DEFAULT '[]'::jsonb,
  error        text NOT NULL DEFAULT '',
  state        text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done', 'abandoned')),
  create_time  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX retry_queue_pending_idx ON llm_router.retry_queue (create_time) WHERE state = 'pending';
