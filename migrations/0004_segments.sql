-- 0004: segmentation. Every condition of the rule language reads the customer
-- row (or one indexed lookup), so that a preview over a million customers is
-- one scan: "has bought on a platform / in a category" is kept as bitmasks on
-- the customer, recomputed with the order figures; the last check-in day is
-- kept too.

ALTER TABLE customers ADD COLUMN platform_mask INTEGER NOT NULL DEFAULT 0;
ALTER TABLE customers ADD COLUMN category_mask INTEGER NOT NULL DEFAULT 0;
ALTER TABLE customers ADD COLUMN last_checkin_day INTEGER;

-- The bit of each platform and category name (0..61); names beyond 62 of a
-- kind get no bit and cannot be segmented on.
CREATE TABLE purchase_keys (
  kind TEXT    NOT NULL CHECK (kind = 'platform' OR kind = 'category'),
  name TEXT    NOT NULL,
  bit  INTEGER NOT NULL CHECK (bit BETWEEN 0 AND 61),
  PRIMARY KEY (kind, name),
  UNIQUE (kind, bit)
) WITHOUT ROWID;

-- Community groups and their members (the groups API comes with growth
-- analytics; rules can already ask for membership).
CREATE TABLE groups (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  name          TEXT    NOT NULL,
  kind          TEXT    NOT NULL DEFAULT 'basic' CHECK (kind = 'basic' OR kind = 'high_value' OR kind = 'koc'),
  owner_user_id INTEGER REFERENCES users(id),
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL
);
CREATE TABLE group_members (
  group_id    INTEGER NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
  customer_id INTEGER NOT NULL REFERENCES customers(id),
  joined_at   INTEGER NOT NULL,
  PRIMARY KEY (group_id, customer_id)
) WITHOUT ROWID;
CREATE INDEX group_members_customer ON group_members(customer_id, group_id);

-- Saved segments. Membership is kept as of the last evaluation, so that
-- entering and leaving are events (audience.entered / audience.left).
CREATE TABLE audiences (
  id             INTEGER PRIMARY KEY AUTOINCREMENT,
  name           TEXT    NOT NULL UNIQUE,
  rule           TEXT    NOT NULL,
  customer_count INTEGER NOT NULL DEFAULT 0,
  evaluated_at   INTEGER,
  created_by     INTEGER REFERENCES users(id),
  created_at     INTEGER NOT NULL,
  updated_at     INTEGER NOT NULL
);
CREATE TABLE audience_members (
  audience_id INTEGER NOT NULL REFERENCES audiences(id) ON DELETE CASCADE,
  customer_id INTEGER NOT NULL REFERENCES customers(id),
  PRIMARY KEY (audience_id, customer_id)
) WITHOUT ROWID;
CREATE INDEX audience_members_customer ON audience_members(customer_id);
