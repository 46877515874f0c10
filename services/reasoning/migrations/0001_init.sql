-- Reasoning schema: every case is an append-only log of events (the audit
-- trail and the source of truth) plus a projection of its current state
-- (cases, hypotheses, evidence, decisions), written in the same transaction
-- by PgReasoningStore::Append. Times are written and read as exact
-- microseconds, so replaying "as of" an event's time includes that event.

CREATE TABLE reasoning.cases (
  -- seq orders ListCases pages: it only grows, so pages stay stable while others insert.
  seq          bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  id           text PRIMARY KEY,
  question     text NOT NULL,
  context      text NOT NULL DEFAULT '',
  owner        text NOT NULL,
  state        text NOT NULL CHECK (state IN ('OPEN', 'DECIDED', 'CLOSED')),
  creator      text NOT NULL,
  create_time  timestamptz NOT NULL,
  update_time  timestamptz NOT NULL,
  -- The number of events; the etag.
  version      bigint NOT NULL CHECK (version > 0)
);

CREATE TABLE reasoning.case_events (
  case_id      text NOT NULL REFERENCES reasoning.cases (id),
  version      bigint NOT NULL CHECK (version > 0),
  type         text NOT NULL,
  actor        text NOT NULL,
  event_time   timestamptz NOT NULL,
  -- The change's content; layouts in services/reasoning/events.h.
  data         jsonb NOT NULL,
  PRIMARY KEY (case_id, version)
);

-- Events and decisions are never changed or removed.
CREATE FUNCTION reasoning.refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
END
$$;
CREATE TRIGGER case_events_append_only BEFORE UPDATE OR DELETE ON reasoning.case_events
  FOR EACH ROW EXECUTE FUNCTION reasoning.refuse_change();
CREATE TRIGGER case_events_no_truncate BEFORE TRUNCATE ON reasoning.case_events
  FOR EACH STATEMENT EXECUTE FUNCTION reasoning.refuse_change();

CREATE TABLE reasoning.hypotheses (
  case_id       text NOT NULL REFERENCES reasoning.cases (id),
  ord           integer NOT NULL,
  id            text NOT NULL,
  statement     text NOT NULL,
  prior         double precision NOT NULL CHECK (prior >= 0),
  none_of_these boolean NOT NULL,
  creator       text NOT NULL,
  create_time   timestamptz NOT NULL,
  PRIMARY KEY (case_id, ord),
  UNIQUE (case_id, id)
);

CREATE TABLE reasoning.evidence (
  case_id      text NOT NULL REFERENCES reasoning.cases (id),
  ord          integer NOT NULL,
  id           text NOT NULL,
  description  text NOT NULL,
  source       text NOT NULL DEFAULT '',
  reliability  double precision NOT NULL CHECK (reliability >= 0 AND reliability <= 1),
  observe_time timestamptz NOT NULL,
  -- "h1=0.7;h2=CONSISTENT_STRONG": a likelihood or an ACH rating per rated
  -- hypothesis. Compact text rather than jsonb so that loading a case of
  -- thousands of items for inference stays cheap (see bench/README.md).
  ratings      text NOT NULL DEFAULT '',
  creator      text NOT NULL,
  create_time  timestamptz NOT NULL,
  PRIMARY KEY (case_id, ord),
  UNIQUE (case_id, id)
);

CREATE TABLE reasoning.decisions (
  case_id               text NOT NULL REFERENCES reasoning.cases (id),
  ord                   integer NOT NULL,
  hypothesis_id         text NOT NULL,
  rationale             text NOT NULL,
  confidence            double precision NOT NULL,
  override_reason       text NOT NULL DEFAULT '',
  leading_hypothesis_id text NOT NULL DEFAULT '',
  posterior             double precision NOT NULL,
  decider               text NOT NULL,
  decide_time           timestamptz NOT NULL,
  PRIMARY KEY (case_id, ord)
);
CREATE TRIGGER decisions_immutable BEFORE UPDATE OR DELETE ON reasoning.decisions
  FOR EACH ROW EXECUTE FUNCTION reasoning.refuse_change();
