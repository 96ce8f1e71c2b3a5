-- 0007_growth.sql - growth: live-code scans of acquisition channels, and what
-- community group members do (who spoke or took part, when).

-- Each scan of a channel's live code (GET /c/{code}); ip_hash is a keyed
-- hash of the client address, so that unique scanners can be counted without
-- keeping addresses.
CREATE TABLE channel_scans (
  id          INTEGER PRIMARY KEY,
  channel_id  INTEGER NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
  at          INTEGER NOT NULL,
  ip_hash     TEXT
);
CREATE INDEX channel_scans_channel ON channel_scans(channel_id, at);

-- Activity in a group: one row per member and event (a message, a reply, a
-- game, a live session ...), reported in batches by the integration that
-- watches the group.
CREATE TABLE group_activity (
  id           INTEGER PRIMARY KEY,
  group_id     INTEGER NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
  customer_id  INTEGER NOT NULL,
  at           INTEGER NOT NULL,
  kind         TEXT    NOT NULL DEFAULT 'spoke' CHECK (kind = 'spoke' OR kind = 'took_part'),
  UNIQUE (group_id, customer_id, at, kind)
);
CREATE INDEX group_activity_group ON group_activity(group_id, at, customer_id);
CREATE INDEX group_activity_customer ON group_activity(customer_id, at);
