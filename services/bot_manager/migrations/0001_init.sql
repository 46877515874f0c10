-- Bot manager schema: bots, conversations and their messages, the webhook
-- inbox (idempotent per channel message id), the reply outbox, proactive
-- messages and contacts (approval for proactive messages).
CREATE TABLE bots (
  id text PRIMARY KEY,
  channel text NOT NULL CHECK (channel IN ('whatsapp', 'telegram', 'mattermost')),
  config jsonb NOT NULL,
  version bigint NOT NULL DEFAULT 1,
  create_time timestamptz NOT NULL DEFAULT now(),
  update_time timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE conversations (
  id bigserial PRIMARY KEY,
  bot_id text NOT NULL REFERENCES bots (id) ON DELETE CASCADE,
  contact text NOT NULL,
  state text NOT NULL DEFAULT 'bot'
    CHECK (state IN ('bot', 'handoff_waiting', 'handoff_active', 'closed')),
  handoff_reason text NOT NULL DEFAULT '',
  agent text NOT NULL DEFAULT '',
  failures int NOT NULL DEFAULT 0,
  create_time timestamptz NOT NULL DEFAULT now(),
  update_time timestamptz NOT NULL DEFAULT now(),
  handoff_time timestamptz,
  UNIQUE (bot_id, contact)
);
CREATE INDEX conversations_handoff ON conversations (handoff_time)
  WHERE state = 'handoff_waiting';

CREATE TABLE messages (
  id bigserial PRIMARY KEY,
  conversation_id bigint NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
  author text NOT NULL CHECK (author IN ('contact', 'bot', 'human')),
  agent text NOT NULL DEFAULT '',
  text text NOT NULL,
  create_time timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX messages_by_conversation ON messages (conversation_id, id);

-- One row per inbound channel message; (bot, external id) makes redeliveries no-ops.
CREATE TABLE inbox (
  id bigserial PRIMARY KEY,
  bot_id text NOT NULL REFERENCES bots (id) ON DELETE CASCADE,
  channel text NOT NULL,
  external_id text NOT NULL,
  contact text NOT NULL,
  reply_to text NOT NULL,
  text text NOT NULL,
  state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done', 'failed')),
  attempts int NOT NULL DEFAULT 0,
  lease_until timestamptz,
  error text NOT NULL DEFAULT '',
  create_time timestamptz NOT NULL DEFAULT now(),
  UNIQUE (bot_id, channel, external_id)
);
CREATE INDEX inbox_pending ON inbox (id) WHERE state = 'pending';

CREATE TABLE proactive_messages (
  id text PRIMARY KEY,
  bot_id text NOT NULL REFERENCES bots (id) ON DELETE CASCADE,
  recipient text NOT NULL,
  text text NOT NULL,
  state text NOT NULL,
  request_id text,
  send_time timestamptz NOT NULL,
  day date NOT NULL,
  error text NOT NULL DEFAULT '',
  create_time timestamptz NOT NULL DEFAULT now(),
  UNIQUE (bot_id, request_id)
);
CREATE INDEX proactive_by_day ON proactive_messages (bot_id, recipient, day);

-- Replies to send. inbox_id is unique: one reply per inbound message, ever.
CREATE TABLE outbox (
  id bigserial PRIMARY KEY,
  bot_id text NOT NULL REFERENCES bots (id) ON DELETE CASCADE,
  channel text NOT NULL,
  contact text NOT NULL,
  recipient text NOT NULL,
  text text NOT NULL,
  inbox_id bigint UNIQUE REFERENCES inbox (id) ON DELETE SET NULL,
  proactive_id text REFERENCES proactive_messages (id) ON DELETE CASCADE,
  request_id text,
  idempotency_key text NOT NULL UNIQUE,
  state text NOT NULL DEFAULT 'pending'
    CHECK (state IN ('pending', 'sent', 'delivered', 'read', 'failed', 'sandboxed', 'held')),
  attempts int NOT NULL DEFAULT 0,
  next_attempt_time timestamptz NOT NULL DEFAULT now(),
  lease_until timestamptz,
  external_id text,
  error text NOT NULL DEFAULT '',
  create_time timestamptz NOT NULL DEFAULT now(),
  send_time timestamptz,
  UNIQUE (bot_id, request_id)
);
CREATE INDEX outbox_due ON outbox (next_attempt_time) WHERE state = 'pending';
CREATE INDEX outbox_external ON outbox (bot_id, external_id);

CREATE TABLE contacts (
  bot_id text NOT NULL REFERENCES bots (id) ON DELETE CASCADE,
  contact text NOT NULL,
  approved boolean NOT NULL DEFAULT false,
  PRIMARY KEY (bot_id, contact)
);
