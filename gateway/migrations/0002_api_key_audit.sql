-- Who created or revoked which API key, written in the same transaction as the
-- change (genesis-gateway-admin). Never the key or its hash.
CREATE TABLE gateway.api_key_audit (
  id      bigserial PRIMARY KEY,
  time    timestamptz NOT NULL DEFAULT now(),
  actor   text NOT NULL,  -- user@host of the operator who ran the command
  action  text NOT NULL,  -- create | revoke
  key_id  text NOT NULL,
  name    text NOT NULL DEFAULT '',
  roles   text NOT NULL DEFAULT ''
);
CREATE INDEX api_key_audit_time ON gateway.api_key_audit (time);
