-- 0001_init: users, sessions, API tokens, the audit log and idempotency keys.
-- Times are Unix seconds (UTC). Migrations are applied in one transaction each
-- and must never be edited once released: add a new file instead.

CREATE TABLE users (
  id            INTEGER PRIMARY KEY,
  username      TEXT    NOT NULL COLLATE NOCASE UNIQUE,
  display_name  TEXT    NOT NULL DEFAULT '',
  role          TEXT    NOT NULL CHECK (role IN ('admin', 'operator', 'viewer')),
  password_hash TEXT    NOT NULL,
  disabled      INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL
);

-- Dashboard sessions. Only the SHA-256 of the cookie value is stored.
CREATE TABLE sessions (
  id           INTEGER PRIMARY KEY,
  token_hash   BLOB    NOT NULL UNIQUE,
  user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  csrf_token   TEXT    NOT NULL,
  ip           TEXT,
  user_agent   TEXT,
  created_at   INTEGER NOT NULL,
  last_seen_at INTEGER NOT NULL,
  expires_at   INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);
CREATE INDEX sessions_expires ON sessions(expires_at);

-- API tokens for integrations. Only the SHA-256 of the token is stored; the
-- prefix (first characters) lets people tell tokens apart in lists.
CREATE TABLE api_tokens (
  id           INTEGER PRIMARY KEY,
  name         TEXT    NOT NULL,
  role         TEXT    NOT NULL CHECK (role IN ('admin', 'operator', 'viewer')),
  token_hash   BLOB    NOT NULL UNIQUE,
  prefix       TEXT    NOT NULL,
  created_by   INTEGER REFERENCES users(id) ON DELETE SET NULL,
  created_at   INTEGER NOT NULL,
  last_used_at INTEGER,
  expires_at   INTEGER,
  revoked_at   INTEGER
);

-- Every write, with who did it. detail is a JSON object without secrets.
CREATE TABLE audit_log (
  id          INTEGER PRIMARY KEY,
  at          INTEGER NOT NULL,
  actor       TEXT    NOT NULL,            -- user:ID, token:ID, cli, system
  actor_name  TEXT,
  action      TEXT    NOT NULL,            -- user.create, token.revoke, ...
  target_type TEXT,
  target_id   INTEGER,
  method      TEXT,
  path        TEXT,
  status      INTEGER,
  ip          TEXT,
  detail      TEXT
);
CREATE INDEX audit_log_at ON audit_log(at);
CREATE INDEX audit_log_actor ON audit_log(actor, id);
CREATE INDEX audit_log_target ON audit_log(target_type, target_id, id);

-- Stored answers for Idempotency-Key, per principal. request_hash covers the
-- method, path and body, so a reused key with another body is detected.
CREATE TABLE idempotency_keys (
  principal    TEXT    NOT NULL,
  key          TEXT    NOT NULL,
  request_hash BLOB    NOT NULL,
  status       INTEGER NOT NULL,
  body         TEXT    NOT NULL,
  location     TEXT,
  created_at   INTEGER NOT NULL,
  PRIMARY KEY (principal, key)
) WITHOUT ROWID;
CREATE INDEX idempotency_created ON idempotency_keys(created_at);
