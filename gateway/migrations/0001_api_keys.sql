-- API keys of bots and agents. Only the SHA-256 of the secret is stored; the
-- key itself (gk_<id>_<secret>) is shown once, at creation.
CREATE TABLE gateway.api_keys (
  id            text PRIMARY KEY,
  name          text NOT NULL,
  roles         text NOT NULL,  -- comma-separated
  secret_sha256 text NOT NULL,
  create_time   timestamptz NOT NULL DEFAULT now(),
  expire_time   timestamptz,
  revoke_time   timestamptz
);
