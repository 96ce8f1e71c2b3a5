-- 0009_analytics.sql - the figures the analytics answer from, kept exact by every
-- write. A day is a business day: days since 1970-01-01 of the local date in the
-- business time zone; a month is year * 12 + month - 1.
--
-- Two layers. Facts: one row per paid order and one per customer, with what the
-- figures need worked out (the previous order's day, the order's rank in its
-- month, the earning ambassador, the customer's channel and operator now).
-- Aggregates: sums of the facts by day (and channel, operator ...). Triggers do
-- not compute anything; they only note which customers (or unbound orders)
-- changed, in analytics_dirty. At the end of every write, in the same
-- transaction, the store takes each noted customer's facts out of the
-- aggregates, works them out again from the records, and adds them back
-- (src/store/analytics.c). An empty database, a changed time zone or a newer
-- layout rebuilds everything from the records.

-- kind 0: a customer id; kind 1: an order bound to nobody
CREATE TABLE analytics_dirty (
  kind INTEGER NOT NULL,
  id   INTEGER NOT NULL,
  PRIMARY KEY (kind, id)
) WITHOUT ROWID;

-- One row per paid order. customer_id NULL: bound to nobody (channel_id and
-- owner_id are then -1; 0 is a customer without one). prev_day: the day
-- of the customer's previous paid order (-1: none, -2: no customer);
-- amb_prev_day the same among the customer's orders referred by the same
-- ambassador, ref_prev_day among those referred by any. nth: rank among the
-- customer's paid orders (by paid_at, id); nth_month, nth_quarter: rank within
-- the calendar month or quarter (1, 2, or 3 for the third and later).
CREATE TABLE analytics_orders (
  order_id      INTEGER PRIMARY KEY,
  customer_id   INTEGER,
  day           INTEGER NOT NULL,
  month         INTEGER NOT NULL,
  amount_cents  INTEGER NOT NULL,
  channel_id    INTEGER NOT NULL,
  owner_id      INTEGER NOT NULL,
  join_month    INTEGER NOT NULL,
  prev_day      INTEGER NOT NULL,
  nth           INTEGER NOT NULL,
  nth_month     INTEGER NOT NULL,
  nth_quarter   INTEGER NOT NULL,
  ambassador_id INTEGER NOT NULL,
  amb_prev_day  INTEGER NOT NULL,
  ref_prev_day  INTEGER NOT NULL
);
CREATE INDEX analytics_orders_customer ON analytics_orders(customer_id)
  WHERE customer_id IS NOT NULL;

-- One row per customer: when they joined, through which channel, whose they
-- are, what they have paid, whether they ordered within 24 hours of joining,
-- and whether they did something (order, check-in, group activity) 30 days or
-- more after the day they joined.
CREATE TABLE analytics_customers (
  customer_id  INTEGER PRIMARY KEY,
  day          INTEGER NOT NULL,
  channel_id   INTEGER NOT NULL,
  owner_id     INTEGER NOT NULL,
  orders       INTEGER NOT NULL,
  gmv_cents    INTEGER NOT NULL,
  converted_1d INTEGER NOT NULL,
  retained_30d INTEGER NOT NULL
);

-- Customers by the day they joined: retained_30d counts those active 30 days
-- or more after joining.
CREATE TABLE analytics_customer_days (
  day          INTEGER NOT NULL,
  channel_id   INTEGER NOT NULL,
  owner_id     INTEGER NOT NULL,
  customers    INTEGER NOT NULL,
  buyers       INTEGER NOT NULL,
  converted_1d INTEGER NOT NULL,
  retained_30d INTEGER NOT NULL,
  gmv_cents    INTEGER NOT NULL,
  PRIMARY KEY (day, channel_id, owner_id)
) WITHOUT ROWID;

-- Paid orders by the day they were paid. month_repeats / quarter_repeats: the
-- orders that were a customer's second in their calendar month / quarter.
CREATE TABLE analytics_order_days (
  day                INTEGER NOT NULL,
  channel_id         INTEGER NOT NULL,
  owner_id           INTEGER NOT NULL,
  orders             INTEGER NOT NULL,
  gmv_cents          INTEGER NOT NULL,
  bound_orders       INTEGER NOT NULL,
  referred_orders    INTEGER NOT NULL,
  referred_gmv_cents INTEGER NOT NULL,
  month_repeats      INTEGER NOT NULL,
  quarter_repeats    INTEGER NOT NULL,
  PRIMARY KEY (day, channel_id, owner_id)
) WITHOUT ROWID;

-- Orders by (day paid, day of the same customer's previous order): the buyers
-- of days [F, T) are the orders there whose previous order is before F (or
-- none), which counts each customer once. scope 0: every bound order; -1:
-- orders referred by any ambassador; n > 0: those referred by ambassador n.
CREATE TABLE analytics_gaps (
  scope     INTEGER NOT NULL,
  day       INTEGER NOT NULL,
  prev_day  INTEGER NOT NULL,
  orders    INTEGER NOT NULL,
  gmv_cents INTEGER NOT NULL,
  PRIMARY KEY (scope, day, prev_day)
) WITHOUT ROWID;

-- Bound paid orders by the month the customer joined, their channel and the
-- month paid: buyers (orders first in their month), second orders, GMV.
CREATE TABLE analytics_cohorts (
  join_month    INTEGER NOT NULL,
  channel_id    INTEGER NOT NULL,
  month         INTEGER NOT NULL,
  buyers        INTEGER NOT NULL,
  second_orders INTEGER NOT NULL,
  orders        INTEGER NOT NULL,
  gmv_cents     INTEGER NOT NULL,
  PRIMARY KEY (join_month, channel_id, month)
) WITHOUT ROWID;

-- Points added and taken by day (the ledger is append-only in its deltas).
CREATE TABLE analytics_points_days (
  day    INTEGER PRIMARY KEY,
  issued INTEGER NOT NULL,
  used   INTEGER NOT NULL
);

-- The stage funnel counts live customers per stage from this index alone.
CREATE INDEX customers_funnel ON customers(stage, created_at) WHERE erased_at IS NULL;

-- The triggers: note who changed.
CREATE TRIGGER analytics_order_ins AFTER INSERT ON orders BEGIN
  INSERT OR IGNORE INTO analytics_dirty(kind, id)
    VALUES (NEW.customer_id IS NULL, coalesce(NEW.customer_id, NEW.id));
END;
CREATE TRIGGER analytics_order_upd AFTER UPDATE OF customer_id, status, amount_cents, paid_at
  ON orders BEGIN
  INSERT OR IGNORE INTO analytics_dirty(kind, id)
    VALUES (OLD.customer_id IS NULL, coalesce(OLD.customer_id, OLD.id)),
           (NEW.customer_id IS NULL, coalesce(NEW.customer_id, NEW.id));
END;
CREATE TRIGGER analytics_order_del AFTER DELETE ON orders BEGIN
  INSERT OR IGNORE INTO analytics_dirty(kind, id)
    VALUES (OLD.customer_id IS NULL, coalesce(OLD.customer_id, OLD.id));
END;
CREATE TRIGGER analytics_customer_ins AFTER INSERT ON customers BEGIN
  INSERT OR IGNORE INTO analytics_dirty(kind, id) VALUES (0, NEW.id);
END;
CREATE TRIGGER analytics_customer_upd AFTER UPDATE OF source_channel_id, owner_user_id,
  created_at, last_checkin_day ON customers
  WHEN OLD.source_channel_id IS NOT NEW.source_channel_id
    OR OLD.owner_user_id IS NOT NEW.owner_user_id OR OLD.created_at != NEW.created_at
    OR (OLD.last_checkin_day IS NOT NEW.last_checkin_day
        AND NOT EXISTS (SELECT 1 FROM analytics_customers
                        WHERE customer_id = NEW.id AND retained_30d = 1)) BEGIN
  INSERT OR IGNORE INTO analytics_dirty(kind, id) VALUES (0, NEW.id);
END;
CREATE TRIGGER analytics_customer_del AFTER DELETE ON customers BEGIN
  INSERT OR IGNORE INTO analytics_dirty(kind, id) VALUES (0, OLD.id);
END;
CREATE TRIGGER analytics_commission AFTER INSERT ON commissions BEGIN
  INSERT OR IGNORE INTO analytics_dirty(kind, id)
    SELECT customer_id IS NULL, coalesce(customer_id, id) FROM orders WHERE id = NEW.order_id;
END;
-- settling changes nothing here; reversing (or undoing it) does
CREATE TRIGGER analytics_commission_upd AFTER UPDATE OF status ON commissions
  WHEN (OLD.status = 'reversed') != (NEW.status = 'reversed') BEGIN
  INSERT OR IGNORE INTO analytics_dirty(kind, id)
    SELECT customer_id IS NULL, coalesce(customer_id, id) FROM orders WHERE id = NEW.order_id;
END;
-- activity matters only while it could still make a customer retained
CREATE TRIGGER analytics_activity AFTER INSERT ON group_activity
  WHEN NOT EXISTS (SELECT 1 FROM analytics_customers
                   WHERE customer_id = NEW.customer_id AND retained_30d = 1) BEGIN
  INSERT OR IGNORE INTO analytics_dirty(kind, id) VALUES (0, NEW.customer_id);
END;
CREATE TRIGGER analytics_activity_upd AFTER UPDATE OF customer_id ON group_activity BEGIN
  INSERT OR IGNORE INTO analytics_dirty(kind, id) VALUES (0, NEW.customer_id), (0, OLD.customer_id);
END;
CREATE TRIGGER analytics_activity_del AFTER DELETE ON group_activity BEGIN
  INSERT OR IGNORE INTO analytics_dirty(kind, id) VALUES (0, OLD.customer_id);
END;
CREATE TRIGGER analytics_points AFTER INSERT ON points_ledger WHEN NEW.delta != 0 BEGIN
  INSERT INTO analytics_points_days(day, issued, used)
    VALUES (CAST(julianday(NEW.created_at, 'unixepoch', 'localtime') - 2440587.5 AS INTEGER),
            max(NEW.delta, 0), max(-NEW.delta, 0))
    ON CONFLICT(day) DO UPDATE SET issued = issued + excluded.issued, used = used + excluded.used;
END;
