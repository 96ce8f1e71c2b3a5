-- 0005_notify.sql - outbound delivery: the message channels SOPs send through,
-- the event webhooks integrations subscribe to, and the outbox every outbound
-- message is written to, in the same transaction as its cause, before a sender
-- thread delivers it.

-- Where messages go. Secrets (the robot's key inside its URL, the webhook
-- signing secret, the WeCom corp secret) are stored here and never answered.
CREATE TABLE message_channels (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  name         TEXT    NOT NULL UNIQUE,
  kind         TEXT    NOT NULL CHECK (kind IN ('wecom_bot', 'wecom_customer', 'webhook', 'log')),
  url          TEXT,            -- wecom_bot: robot webhook URL; webhook: endpoint; wecom_customer: API base or NULL
  secret       TEXT,            -- webhook: HMAC-SHA256 signing secret
  corp_id      TEXT,            -- wecom_customer
  corp_secret  TEXT,            -- wecom_customer
  sender       TEXT,            -- wecom_customer: the WeCom user the messages go out as (optional)
  enabled      INTEGER NOT NULL DEFAULT 1,
  created_at   INTEGER NOT NULL,
  updated_at   INTEGER NOT NULL
);

CREATE TABLE webhooks (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  url         TEXT    NOT NULL,
  events      TEXT    NOT NULL,   -- JSON array of event names, as sent
  secret      TEXT    NOT NULL,
  enabled     INTEGER NOT NULL DEFAULT 1,
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL
);
-- one row per subscribed event, so that an event finds its webhooks by index
CREATE TABLE webhook_events (
  webhook_id  INTEGER NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
  event       TEXT    NOT NULL,
  PRIMARY KEY (event, webhook_id)
) WITHOUT ROWID;

-- The outbox. A delivery is pending until first tried; failed (to be tried
-- again at next_attempt_at) after a passing fault; delivered; or dead, when
-- the fault is permanent or it kept failing past the configured time.
-- sending marks the rows a sender has claimed: after a crash they are sent
-- again, with the same X-SCRM-Delivery id so that a receiver can tell.
CREATE TABLE deliveries (
  id               INTEGER PRIMARY KEY AUTOINCREMENT,
  channel_id       INTEGER REFERENCES message_channels(id) ON DELETE SET NULL,
  webhook_id       INTEGER REFERENCES webhooks(id) ON DELETE SET NULL,
  kind             TEXT    NOT NULL,  -- the channel kind, or 'event' for a webhook
  customer_id      INTEGER,           -- no foreign key: the log outlives merges
  event            TEXT,              -- event deliveries: the event name
  event_id         INTEGER,           -- event deliveries: the timeline entry, if any
  payload          TEXT    NOT NULL,  -- JSON: the event, or {"text", "markdown", ...}
  status           TEXT    NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'sending', 'failed', 'delivered', 'dead')),
  attempts         INTEGER NOT NULL DEFAULT 0,
  next_attempt_at  INTEGER NOT NULL,
  last_error       TEXT,
  last_http_status INTEGER,
  created_at       INTEGER NOT NULL,
  updated_at       INTEGER NOT NULL,
  delivered_at     INTEGER,
  retried_at       INTEGER            -- the last retry by hand: dead_after counts from it
);
CREATE INDEX deliveries_due ON deliveries(next_attempt_at, id)
  WHERE status IN ('pending', 'failed');
CREATE INDEX deliveries_status ON deliveries(status, id);
CREATE INDEX deliveries_webhook ON deliveries(webhook_id, id) WHERE webhook_id IS NOT NULL;
CREATE INDEX deliveries_channel_sent ON deliveries(channel_id, delivered_at)
  WHERE channel_id IS NOT NULL AND delivered_at IS NOT NULL;

-- Event webhooks are fed here, by triggers, in the transaction that records the
-- event: every timeline entry (whichever code path wrote it, one at a time or a
-- whole audience at once) and every new order, bound or not. An event nobody
-- subscribed to costs one index probe.
CREATE TRIGGER customer_events_webhooks AFTER INSERT ON customer_events
WHEN EXISTS (SELECT 1 FROM webhook_events WHERE event IN (NEW.kind, '*'))
BEGIN
  INSERT INTO deliveries(webhook_id, kind, customer_id, event, event_id, payload,
                         next_attempt_at, created_at, updated_at)
  SELECT w.id, 'event', NEW.customer_id, NEW.kind, NEW.id,
    json_object('event', NEW.kind, 'event_id', NEW.id,
      'at', strftime('%Y-%m-%dT%H:%M:%SZ', NEW.at, 'unixepoch'),
      'customer_id', NEW.customer_id, 'ref_type', NEW.ref_type, 'ref_id', NEW.ref_id,
      'data', json(NEW.data)),
    NEW.at, NEW.at, NEW.at
  FROM webhooks w
  WHERE w.enabled = 1
    AND w.id IN (SELECT webhook_id FROM webhook_events WHERE event IN (NEW.kind, '*'));
END;

CREATE TRIGGER orders_webhooks AFTER INSERT ON orders
WHEN EXISTS (SELECT 1 FROM webhook_events WHERE event IN ('order.created', '*'))
BEGIN
  INSERT INTO deliveries(webhook_id, kind, customer_id, event, payload,
                         next_attempt_at, created_at, updated_at)
  SELECT w.id, 'event', NEW.customer_id, 'order.created',
    json_object('event', 'order.created', 'event_id', NULL,
      'at', strftime('%Y-%m-%dT%H:%M:%SZ', NEW.created_at, 'unixepoch'),
      'customer_id', NEW.customer_id, 'ref_type', 'order', 'ref_id', NEW.id,
      'data', json_object('id', NEW.id, 'platform', NEW.platform,
        'external_id', NEW.external_id, 'amount_cents', NEW.amount_cents,
        'status', NEW.status,
        'paid_at', strftime('%Y-%m-%dT%H:%M:%SZ', NEW.paid_at, 'unixepoch'),
        'items', json(NEW.items), 'referral_code', NEW.referral_code)),
    NEW.created_at, NEW.created_at, NEW.created_at
  FROM webhooks w
  WHERE w.enabled = 1
    AND w.id IN (SELECT webhook_id FROM webhook_events WHERE event IN ('order.created', '*'));
END;
