-- 0010_deliveries_channel.sql - the outbox filtered by message channel
-- (GET /deliveries?channel_id=) walks this index, newest first.
CREATE INDEX deliveries_channel ON deliveries(channel_id, id) WHERE channel_id IS NOT NULL;
