-- A conversation's messages are answered in the order they arrived: a claim
-- takes only the oldest pending inbox row of each (bot, contact), found
-- through this index.
CREATE INDEX inbox_pending_by_contact ON inbox (bot_id, contact, id) WHERE state = 'pending';

-- Set just before a send calls the channel: a pending row claimed again with
-- it set may already have reached the channel (a crash between the channel's
-- answer and the sent mark, or a timeout); without it, it was never sent.
ALTER TABLE outbox ADD COLUMN send_started_time timestamptz;
