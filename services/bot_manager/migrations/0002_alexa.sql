-- Alexa bots: the channel list of bots gains 'alexa' (the skill id lives in
-- the config JSON like the other channel settings).
ALTER TABLE bots DROP CONSTRAINT bots_channel_check;
ALTER TABLE bots ADD CONSTRAINT bots_channel_check
  CHECK (channel IN ('whatsapp', 'telegram', 'mattermost', 'alexa'));
