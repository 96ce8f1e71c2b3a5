-- 0008_ambassadors.sql - KOC ambassadors: customers who bring others, with a
-- referral code and a commission rate, and the commission ledger their
-- referred orders earn.

CREATE TABLE ambassadors (
  id                  INTEGER PRIMARY KEY AUTOINCREMENT,
  customer_id         INTEGER NOT NULL UNIQUE REFERENCES customers(id),
  level               INTEGER NOT NULL DEFAULT 1 CHECK (level >= 1 AND level <= 10),
  referral_code       TEXT    NOT NULL UNIQUE,
  commission_pct      INTEGER NOT NULL CHECK (commission_pct >= 0 AND commission_pct <= 100),
  -- kept in the transaction of every change to a referred order
  referred_orders     INTEGER NOT NULL DEFAULT 0,
  referred_gmv_cents  INTEGER NOT NULL DEFAULT 0,
  created_at          INTEGER NOT NULL,
  updated_at          INTEGER NOT NULL
);

-- The commission ledger, append-only but for the state of an earning: an
-- order paid with a referral code earns `pending` commission, settled after
-- the return window; a refund within it reverses the earning, a refund after
-- it appends a negative reversal.
CREATE TABLE commissions (
  id             INTEGER PRIMARY KEY AUTOINCREMENT,
  ambassador_id  INTEGER NOT NULL REFERENCES ambassadors(id),
  order_id       INTEGER NOT NULL REFERENCES orders(id),
  kind           TEXT    NOT NULL CHECK (kind = 'earn' OR kind = 'reversal'),
  amount_cents   INTEGER NOT NULL,
  order_cents    INTEGER NOT NULL,  -- the order's amount the earning was counted on
  status         TEXT    NOT NULL CHECK (status = 'pending' OR status = 'settled' OR status = 'reversed'),
  settle_at      INTEGER NOT NULL,
  created_at     INTEGER NOT NULL,
  updated_at     INTEGER NOT NULL,
  UNIQUE (order_id, kind)
);
CREATE INDEX commissions_ambassador ON commissions(ambassador_id, id);
CREATE INDEX commissions_due ON commissions(settle_at) WHERE status = 'pending';
CREATE INDEX orders_referral ON orders(referral_code) WHERE referral_code IS NOT NULL;
