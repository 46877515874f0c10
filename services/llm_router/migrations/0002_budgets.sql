-- Budgets, the day counters they are checked against, their alerts, and
-- answers served from the response cache.
ALTER TABLE llm_router.executions ADD COLUMN cached boolean NOT NULL DEFAULT false;
CREATE INDEX executions_time_idx ON llm_router.executions (create_time);

CREATE TABLE llm_router.budgets (
  scope           text NOT NULL CHECK (scope IN ('subject', 'agent')),
  owner           text NOT NULL CHECK (owner <> ''),
  period          text NOT NULL CHECK (period IN ('day', 'month')),
  token_limit     bigint NOT NULL DEFAULT 0 CHECK (token_limit >= 0),
  cost_limit_usd  double precision NOT NULL DEFAULT 0 CHECK (cost_limit_usd >= 0),
  update_time     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (scope, owner, period)
);

-- Tokens and cost per owner and UTC day, added to in the same transaction
-- as each executions row (INSERT ... ON CONFLICT DO UPDATE: atomic).
CREATE TABLE llm_router.usage_counters (
  scope     text NOT NULL CHECK (scope IN ('subject', 'agent')),
  owner     text NOT NULL,
  day       date NOT NULL,
  tokens    bigint NOT NULL DEFAULT 0,
  cost_usd  double precision NOT NULL DEFAULT 0,
  PRIMARY KEY (scope, owner, day)
);

-- A day that passed 120 % of its day budget; one row per owner and day.
CREATE TABLE llm_router.budget_alerts (
  scope           text NOT NULL,
  owner           text NOT NULL,
  day             date NOT NULL,
  used_tokens     bigint NOT NULL,
  used_cost_usd   double precision NOT NULL,
  token_limit     bigint NOT NULL,
  cost_limit_usd  double precision NOT NULL,
  create_time     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (scope, owner, day)
);
