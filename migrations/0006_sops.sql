-- 0006_sops.sql - SOP automation: the procedures, each occurrence of one for
-- one customer (fired at most once), and the tasks they hand to operators.

-- trigger, audience and actions are JSON as sent (checked when saved).
-- Scheduler state: next_at is the next time a schedule or date SOP looks at
-- (a cron time; the day's "at" time); cursor the last timeline entry an event
-- SOP has seen.
CREATE TABLE sops (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  name        TEXT    NOT NULL UNIQUE,
  enabled     INTEGER NOT NULL DEFAULT 1,
  trigger     TEXT    NOT NULL,
  audience    TEXT,
  actions     TEXT    NOT NULL,
  created_by  INTEGER REFERENCES users(id),
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL,
  next_at     INTEGER,
  cursor      INTEGER NOT NULL DEFAULT 0
);

-- One occurrence of a SOP for one customer (customer_id 0: a run for no one,
-- such as a scheduled group message). The unique key is what makes "at most
-- once" hold across crashes, restarts and catch-ups: a run is inserted once,
-- and its actions are done in the transaction that marks it done.
CREATE TABLE sop_runs (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  sop_id       INTEGER NOT NULL REFERENCES sops(id) ON DELETE CASCADE,
  customer_id  INTEGER NOT NULL DEFAULT 0,
  occurrence   TEXT    NOT NULL,
  due_at       INTEGER NOT NULL,
  status       TEXT    NOT NULL DEFAULT 'scheduled'
                 CHECK (status IN ('scheduled', 'done', 'skipped', 'failed')),
  result       TEXT,
  ref_type     TEXT,
  ref_id       INTEGER,
  created_at   INTEGER NOT NULL,
  fired_at     INTEGER,
  depth        INTEGER NOT NULL DEFAULT 0, -- SOPs in the chain of events that led here
  UNIQUE (sop_id, customer_id, occurrence)
);
CREATE INDEX sop_runs_due ON sop_runs(due_at, id) WHERE status = 'scheduled';
CREATE INDEX sop_runs_sop ON sop_runs(sop_id, id);

CREATE TABLE tasks (
  id                INTEGER PRIMARY KEY AUTOINCREMENT,
  sop_id            INTEGER REFERENCES sops(id) ON DELETE SET NULL,
  sop_run_id        INTEGER,
  customer_id       INTEGER,
  assignee_user_id  INTEGER REFERENCES users(id),
  text              TEXT    NOT NULL,
  message           TEXT,
  done              INTEGER NOT NULL DEFAULT 0,
  done_at           INTEGER,
  done_by           INTEGER REFERENCES users(id),
  created_at        INTEGER NOT NULL,
  updated_at        INTEGER NOT NULL
);
CREATE INDEX tasks_assignee ON tasks(assignee_user_id, done, id);
CREATE INDEX tasks_open ON tasks(done, id);
