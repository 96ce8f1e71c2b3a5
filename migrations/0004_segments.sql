-- 0004: segmentation. Every condition of the rule language reads the customer
-- row (or one indexed lookup), so that a preview over a million customers is
-- one scan: "has bought on a platform / in a category" is kept as bitmasks on
-- the customer, recomputed with the order figures; the last check-in day is
-- kept too.

ALTER TABLE customers ADD COLUMN platform_mask INTEGER NOT NULL DEFAULT 0;
ALTER TABLE customers ADD COLUMN category_mask INTEGER NOT NULL DEFAULT 0;
ALTER TABLE customers ADD COLUMN last_checkin_day INTEGER;
-- The customer's tags among the first 62 tags (bit id - 1), kept by triggers,
-- so that "has tag" is a bit test in the scan instead of a set of holders
-- built for every preview; later tags are looked up in customer_tags.
ALTER TABLE customers ADD COLUMN tag_mask INTEGER NOT NULL DEFAULT 0;
CREATE TRIGGER customer_tags_mask_add AFTER INSERT ON customer_tags WHEN NEW.tag_id <= 62 BEGIN
  UPDATE customers SET tag_mask = tag_mask | (1 << (NEW.tag_id - 1)) WHERE id = NEW.customer_id;
END;
CREATE TRIGGER customer_tags_mask_del AFTER DELETE ON customer_tags WHEN OLD.tag_id <= 62 BEGIN
  UPDATE customers SET tag_mask = tag_mask & ~(1 << (OLD.tag_id - 1)) WHERE id = OLD.customer_id;
END;

-- The bit of each platform and category name (0..61); names beyond 62 of a
-- kind get no bit and cannot be segmented on.
CREATE TABLE purchase_keys (
  kind TEXT    NOT NULL CHECK (kind = 'platform' OR kind = 'category'),
  name TEXT    NOT NULL,
  bit  INTEGER NOT NULL CHECK (bit BETWEEN 0 AND 61),
  PRIMARY KEY (kind, name),
  UNIQUE (kind, bit)
) WITHOUT ROWID;

-- What a database upgraded to this version already holds: the platforms and
-- categories bought so far get their bits in order of first appearance, and
-- every buyer's masks and every customer's last check-in day are filled in.
INSERT INTO purchase_keys(kind, name, bit)
  SELECT 'platform', platform, row_number() OVER (ORDER BY min(id)) - 1
  FROM orders WHERE status = 'paid' AND customer_id IS NOT NULL GROUP BY platform LIMIT 62;
INSERT INTO purchase_keys(kind, name, bit)
  SELECT 'category', cat, row_number() OVER (ORDER BY first) - 1
  FROM (SELECT json_extract(j.value, '$.category') AS cat, min(o.id) AS first
        FROM orders o, json_each(o.items) j
        WHERE o.status = 'paid' AND o.customer_id IS NOT NULL
          AND json_extract(j.value, '$.category') IS NOT NULL
        GROUP BY cat)
  LIMIT 62;
UPDATE customers SET
  platform_mask = (SELECT coalesce(sum(1 << k.bit), 0) FROM purchase_keys k
    WHERE k.kind = 'platform' AND k.name IN (SELECT platform FROM orders
      WHERE customer_id = customers.id AND status = 'paid')),
  category_mask = (SELECT coalesce(sum(1 << k.bit), 0) FROM purchase_keys k
    WHERE k.kind = 'category' AND k.name IN (SELECT json_extract(j.value, '$.category')
      FROM orders o, json_each(o.items) j WHERE o.customer_id = customers.id AND o.status = 'paid'))
  WHERE id IN (SELECT customer_id FROM orders WHERE status = 'paid');
UPDATE customers SET last_checkin_day = (SELECT max(day) FROM checkins WHERE customer_id = customers.id)
  WHERE id IN (SELECT customer_id FROM checkins);
UPDATE customers SET tag_mask = (SELECT coalesce(sum(1 << (tag_id - 1)), 0) FROM customer_tags
    WHERE customer_id = customers.id AND tag_id <= 62)
  WHERE id IN (SELECT customer_id FROM customer_tags WHERE tag_id <= 62);

-- Every column a rule reads, in one narrow covering index: a preview scans it
-- (tens of bytes a customer) instead of the customer rows with their names,
-- contacts and attrs, three to four times faster on a million customers. Rules
-- on attrs.<key> read the table.
-- erased_at comes last, so that no other query is tempted to search it for
-- "erased_at IS NULL" (every customer) instead of walking the rowids.
CREATE INDEX customers_segment ON customers(order_count, total_spent_cents,
  points_balance, wallet_balance_cents, last_order_at, first_order_at, created_at,
  last_checkin_day, birth_month, birth_day, stage, tier_id, gender, source_channel_id,
  owner_user_id, platform_mask, category_mask, tag_mask, erased_at);


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
