-- 0002: the core records. Customers with their order figures kept on the row,
-- orders (upserted on platform + external id) with their items, tags, the
-- timeline, acquisition channels (referenced by customers) and merges.

-- Enumerations are checked with OR chains rather than IN lists: SQLite 3.40
-- builds a temporary table for an IN list on every row it checks.

CREATE TABLE channels (
  id          INTEGER PRIMARY KEY,
  name        TEXT    NOT NULL,
  kind        TEXT    NOT NULL CHECK (kind = 'package_card' OR kind = 'sms' OR kind = 'qr' OR kind = 'live' OR kind = 'other'),
  units       INTEGER NOT NULL DEFAULT 0 CHECK (units >= 0),
  cost_cents  INTEGER NOT NULL DEFAULT 0 CHECK (cost_cents >= 0),
  code        TEXT    UNIQUE,
  contact_url TEXT,
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL
);

-- order_count, total_spent_cents, first_order_at and last_order_at count the
-- customer's paid orders; they are rewritten in the transaction of every order
-- change, never computed on read. birth_month/birth_day repeat the birthday for
-- segment queries. An erased customer keeps its row (orders point at it) with
-- every personal field cleared. AUTOINCREMENT: the id of a merged-away profile
-- is never given to someone else.
CREATE TABLE customers (
  id                   INTEGER PRIMARY KEY AUTOINCREMENT,
  name                 TEXT,
  phone                TEXT,
  email                TEXT,
  unionid              TEXT,
  gender               TEXT    NOT NULL DEFAULT 'u' CHECK (gender = 'm' OR gender = 'f' OR gender = 'u'),
  birthday             TEXT,
  birth_month          INTEGER CHECK (birth_month BETWEEN 1 AND 12),
  birth_day            INTEGER CHECK (birth_day BETWEEN 1 AND 31),
  source_channel_id    INTEGER REFERENCES channels(id),
  owner_user_id        INTEGER REFERENCES users(id),
  stage                TEXT    NOT NULL DEFAULT 'added'
                       CHECK (stage = 'added' OR stage = 'observing' OR stage = 'interested' OR stage = 'converted' OR stage = 'sharing' OR stage = 'repurchasing'),
  stage_manual         INTEGER NOT NULL DEFAULT 0 CHECK (stage_manual = 0 OR stage_manual = 1),
  points_balance       INTEGER NOT NULL DEFAULT 0,
  wallet_balance_cents INTEGER NOT NULL DEFAULT 0,
  order_count          INTEGER NOT NULL DEFAULT 0,
  total_spent_cents    INTEGER NOT NULL DEFAULT 0,
  first_order_at       INTEGER,
  last_order_at        INTEGER,
  attrs                TEXT    NOT NULL DEFAULT '{}',
  erased_at            INTEGER,
  created_at           INTEGER NOT NULL,
  updated_at           INTEGER NOT NULL
);
CREATE UNIQUE INDEX customers_phone ON customers(phone) WHERE phone IS NOT NULL;
CREATE UNIQUE INDEX customers_unionid ON customers(unionid) WHERE unionid IS NOT NULL;
CREATE INDEX customers_email ON customers(email) WHERE email IS NOT NULL;
CREATE INDEX customers_name ON customers(name) WHERE name IS NOT NULL;
CREATE INDEX customers_stage ON customers(stage);
CREATE INDEX customers_owner ON customers(owner_user_id) WHERE owner_user_id IS NOT NULL;
CREATE INDEX customers_channel ON customers(source_channel_id) WHERE source_channel_id IS NOT NULL;

-- A merged-away profile: its id answers "merged into" instead of "no such".
CREATE TABLE customer_merges (
  from_id    INTEGER PRIMARY KEY,
  into_id    INTEGER NOT NULL REFERENCES customers(id),
  created_at INTEGER NOT NULL
);

-- items: a JSON array of {sku, name, category, quantity, price_cents}.
-- buyer_phone is normalised like customer phones. bound_by: phone (matched on
-- arrival or when the customer got that phone), bind (the binding flow),
-- customer_id (sent with the order); a merge keeps it.
CREATE TABLE orders (
  id            INTEGER PRIMARY KEY,
  platform      TEXT    NOT NULL,
  external_id   TEXT    NOT NULL,
  customer_id   INTEGER REFERENCES customers(id),
  buyer_phone   TEXT,
  amount_cents  INTEGER NOT NULL CHECK (amount_cents >= 0),
  status        TEXT    NOT NULL CHECK (status = 'paid' OR status = 'refunded' OR status = 'cancelled'),
  paid_at       INTEGER NOT NULL,
  items         TEXT    NOT NULL DEFAULT '[]',
  referral_code TEXT,
  bound_at      INTEGER,
  bound_by      TEXT,
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL,
  UNIQUE (platform, external_id)
);
-- covering: a customer's figures and 12-month spend are read from the index alone
CREATE INDEX orders_customer ON orders(customer_id, paid_at, status, amount_cents) WHERE customer_id IS NOT NULL;
CREATE INDEX orders_unbound_phone ON orders(buyer_phone) WHERE customer_id IS NULL AND buyer_phone IS NOT NULL;
CREATE INDEX orders_paid_at ON orders(paid_at);

-- kind 'auto' tags (with a rule) arrive with segmentation; customer_count is
-- kept exact by the triggers below, whatever path adds or removes a tag.
CREATE TABLE tags (
  id             INTEGER PRIMARY KEY AUTOINCREMENT,
  name           TEXT    NOT NULL UNIQUE,
  tag_group      TEXT,
  color          TEXT,
  kind           TEXT    NOT NULL DEFAULT 'manual' CHECK (kind = 'manual' OR kind = 'auto'),
  rule           TEXT,
  customer_count INTEGER NOT NULL DEFAULT 0,
  created_at     INTEGER NOT NULL,
  updated_at     INTEGER NOT NULL
);

CREATE TABLE customer_tags (
  customer_id INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
  tag_id      INTEGER NOT NULL REFERENCES tags(id) ON DELETE CASCADE,
  created_at  INTEGER NOT NULL,
  PRIMARY KEY (customer_id, tag_id)
) WITHOUT ROWID;
CREATE INDEX customer_tags_tag ON customer_tags(tag_id, customer_id);

CREATE TRIGGER customer_tags_count_add AFTER INSERT ON customer_tags BEGIN
  UPDATE tags SET customer_count = customer_count + 1 WHERE id = NEW.tag_id;
END;
CREATE TRIGGER customer_tags_count_del AFTER DELETE ON customer_tags BEGIN
  UPDATE tags SET customer_count = customer_count - 1 WHERE id = OLD.tag_id;
END;

-- The customer timeline, and the event stream automation reads later:
-- kind is customer.created, customer.updated, order.bound, order.refunded,
-- tag.added, tag.removed, customer.merged ...; data is a small JSON object.
CREATE TABLE customer_events (
  id          INTEGER PRIMARY KEY,
  customer_id INTEGER NOT NULL REFERENCES customers(id),
  at          INTEGER NOT NULL,
  kind        TEXT    NOT NULL,
  ref_type    TEXT,
  ref_id      INTEGER,
  data        TEXT    NOT NULL DEFAULT '{}'
);
CREATE INDEX customer_events_customer ON customer_events(customer_id, at, id);
