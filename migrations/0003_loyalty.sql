-- 0003: the member club. Every movement of points, money, stock or coupons is a
-- row written in the same transaction as its cause; balances cached on the
-- customer row always equal their ledger's sum.

-- Settings as JSON objects by name: points (rules), coupons (new-member gift
-- pack), daily_pass (when the daily pass last ran).
CREATE TABLE settings (
  key        TEXT    PRIMARY KEY,
  value      TEXT    NOT NULL,
  updated_at INTEGER NOT NULL
) WITHOUT ROWID;

-- Points. A positive row is a lot: `remaining` is what is left of it to spend
-- or expire (oldest expiry first). A negative row takes from lots. So for every
-- customer: points_balance = sum(delta) = sum(remaining). reason is one of
-- order, bind_bonus, review, checkin, redeem, refund, expire, or, for grants and
-- deductions made by hand (ref_type 'manual'), the operator's reason.
-- shortfall: what a refund could not take back because it was already spent
-- (recorded, and never asked for again).
CREATE TABLE points_ledger (
  id          INTEGER PRIMARY KEY,
  customer_id INTEGER NOT NULL REFERENCES customers(id),
  delta       INTEGER NOT NULL,
  reason      TEXT    NOT NULL,
  ref_type    TEXT,
  ref_id      INTEGER,
  note        TEXT,
  expires_at  INTEGER,
  remaining   INTEGER NOT NULL DEFAULT 0 CHECK (remaining >= 0),
  shortfall   INTEGER NOT NULL DEFAULT 0 CHECK (shortfall >= 0),
  created_at  INTEGER NOT NULL,
  -- a row moves points, except a clawback that found nothing left to take
  CHECK (delta != 0 OR shortfall > 0)
);
CREATE INDEX points_ledger_customer ON points_ledger(customer_id, id);
CREATE INDEX points_ledger_ref ON points_ledger(ref_type, ref_id) WHERE ref_id IS NOT NULL;
CREATE INDEX points_lots ON points_ledger(customer_id, expires_at, id) WHERE remaining > 0;
CREATE INDEX points_expiring ON points_ledger(expires_at) WHERE remaining > 0 AND expires_at IS NOT NULL;

-- Stored value in cents: topup, spend, refund, adjust. Never below zero.
CREATE TABLE wallet_ledger (
  id          INTEGER PRIMARY KEY,
  customer_id INTEGER NOT NULL REFERENCES customers(id),
  delta_cents INTEGER NOT NULL CHECK (delta_cents != 0),
  reason      TEXT    NOT NULL CHECK (reason = 'topup' OR reason = 'spend' OR reason = 'refund' OR reason = 'adjust'),
  ref_type    TEXT,
  ref_id      INTEGER,
  note        TEXT,
  created_at  INTEGER NOT NULL
);
CREATE INDEX wallet_ledger_customer ON wallet_ledger(customer_id, id);

-- One check-in per customer per business day (day: days since 1970-01-01 in
-- the business time zone). streak: the day of the schedule this check-in was.
CREATE TABLE checkins (
  customer_id INTEGER NOT NULL REFERENCES customers(id),
  day         INTEGER NOT NULL,
  streak      INTEGER NOT NULL CHECK (streak >= 1),
  points      INTEGER NOT NULL,
  created_at  INTEGER NOT NULL,
  PRIMARY KEY (customer_id, day)
) WITHOUT ROWID;

-- Tiers: basis 'points' (points earned in the last 12 months) or 'spent'
-- (cents paid in the last 12 months), never the spendable balance. A customer
-- holds the highest-ranked tier whose threshold they reach, or an override
-- until its end.
CREATE TABLE tiers (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  name         TEXT    NOT NULL UNIQUE,
  basis        TEXT    NOT NULL CHECK (basis = 'points' OR basis = 'spent'),
  threshold    INTEGER NOT NULL CHECK (threshold >= 0),
  rank         INTEGER NOT NULL,
  discount_pct INTEGER NOT NULL DEFAULT 0 CHECK (discount_pct BETWEEN 0 AND 100),
  perks        TEXT    NOT NULL DEFAULT '[]',
  created_at   INTEGER NOT NULL,
  updated_at   INTEGER NOT NULL
);
ALTER TABLE customers ADD COLUMN tier_id INTEGER REFERENCES tiers(id) ON DELETE SET NULL;
ALTER TABLE customers ADD COLUMN tier_override_id INTEGER REFERENCES tiers(id) ON DELETE SET NULL;
ALTER TABLE customers ADD COLUMN tier_override_until INTEGER;
CREATE INDEX customers_tier ON customers(tier_id) WHERE tier_id IS NOT NULL;

-- Coupons. kind amount_off (value: cents off), percent_off (value: percent
-- off, 1..99), gift (value unused, 0). Expiry: valid_days after issue (to the
-- end of that business day) and/or valid_until, whichever comes first.
CREATE TABLE coupon_templates (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  name            TEXT    NOT NULL,
  kind            TEXT    NOT NULL CHECK (kind = 'amount_off' OR kind = 'percent_off' OR kind = 'gift'),
  value           INTEGER NOT NULL DEFAULT 0 CHECK (value >= 0),
  min_spend_cents INTEGER NOT NULL DEFAULT 0 CHECK (min_spend_cents >= 0),
  valid_days      INTEGER CHECK (valid_days > 0),
  valid_until     INTEGER,
  active          INTEGER NOT NULL DEFAULT 1 CHECK (active = 0 OR active = 1),
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL,
  CHECK (valid_days IS NOT NULL OR valid_until IS NOT NULL)
);

CREATE TABLE coupons (
  id          INTEGER PRIMARY KEY,
  customer_id INTEGER NOT NULL REFERENCES customers(id),
  template_id INTEGER NOT NULL REFERENCES coupon_templates(id),
  code        TEXT    NOT NULL UNIQUE,
  status      TEXT    NOT NULL DEFAULT 'active' CHECK (status = 'active' OR status = 'used' OR status = 'expired'),
  source      TEXT    NOT NULL,            -- manual, gift_pack, reward, lottery, sop, audience
  issued_at   INTEGER NOT NULL,
  expires_at  INTEGER NOT NULL,
  used_at     INTEGER,
  order_id    INTEGER REFERENCES orders(id),
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL
);
CREATE INDEX coupons_customer ON coupons(customer_id, id);
CREATE INDEX coupons_template ON coupons(template_id);
CREATE INDEX coupons_active_expiry ON coupons(expires_at) WHERE status = 'active';

-- The points mall. stock NULL: unlimited. per_customer_limit 0: no limit.
-- prizes (lottery): [{"name", "weight", "coupon_template_id"|null}], a prize
-- without a template being "nothing".
CREATE TABLE rewards (
  id                 INTEGER PRIMARY KEY AUTOINCREMENT,
  name               TEXT    NOT NULL,
  kind               TEXT    NOT NULL CHECK (kind = 'gift' OR kind = 'coupon' OR kind = 'lottery' OR kind = 'flash_sale'),
  points_cost        INTEGER NOT NULL CHECK (points_cost >= 0),
  stock              INTEGER CHECK (stock >= 0),
  per_customer_limit INTEGER NOT NULL DEFAULT 0 CHECK (per_customer_limit >= 0),
  starts_at          INTEGER,
  ends_at            INTEGER,
  coupon_template_id INTEGER REFERENCES coupon_templates(id),
  prizes             TEXT    NOT NULL DEFAULT '[]',
  active             INTEGER NOT NULL DEFAULT 1 CHECK (active = 0 OR active = 1),
  created_at         INTEGER NOT NULL,
  updated_at         INTEGER NOT NULL
);

CREATE TABLE redemptions (
  id          INTEGER PRIMARY KEY,
  reward_id   INTEGER NOT NULL REFERENCES rewards(id),
  customer_id INTEGER NOT NULL REFERENCES customers(id),
  points      INTEGER NOT NULL,
  prize       TEXT,                        -- lottery: the prize drawn (JSON)
  coupon_id   INTEGER REFERENCES coupons(id),
  created_at  INTEGER NOT NULL
);
CREATE INDEX redemptions_reward_customer ON redemptions(reward_id, customer_id);
CREATE INDEX redemptions_reward ON redemptions(reward_id, id);
CREATE INDEX redemptions_customer ON redemptions(customer_id, id);

-- Reviews, buyer shows and shares. A review of a bound order earns the review
-- bonus once per order (the unique index makes "once" hold under any race).
CREATE TABLE content (
  id             INTEGER PRIMARY KEY,
  customer_id    INTEGER NOT NULL REFERENCES customers(id),
  kind           TEXT    NOT NULL CHECK (kind = 'review' OR kind = 'buyer_show' OR kind = 'share'),
  order_id       INTEGER REFERENCES orders(id),
  url            TEXT,
  note           TEXT,
  points_awarded INTEGER NOT NULL DEFAULT 0,
  created_at     INTEGER NOT NULL
);
CREATE INDEX content_customer ON content(customer_id, id);
CREATE UNIQUE INDEX content_review_bonus ON content(order_id) WHERE kind = 'review' AND points_awarded > 0;
