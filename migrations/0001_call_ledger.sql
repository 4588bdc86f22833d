-- The call ledger (docs/call-ledger.md). Times are Unix milliseconds.
-- Applied with `wrangler d1 migrations apply CALL_LEDGER --local|--remote`.

-- One row per call. The `*_rank` columns make every merge order-free:
-- a part is only replaced by a source that outranks the one that set it.
CREATE TABLE calls (
  call_id     TEXT PRIMARY KEY,
  caller      TEXT,
  media_type  TEXT,
  call_type   TEXT,
  result      TEXT,
  started_at  INTEGER NOT NULL,
  accepted_at INTEGER,
  ended_at    INTEGER,
  room_id     TEXT NOT NULL DEFAULT '',
  group_id    TEXT NOT NULL DEFAULT '',
  -- Who set the end facts (result, accept and end time, call type):
  -- 0 none, 1 reconcile, 2 end webhook, 3 Tencent's record.
  fact_rank   INTEGER NOT NULL DEFAULT 0,
  start_src   TEXT NOT NULL,
  -- The end's source ranks webhook 3 > record 2 > reconcile 1.
  end_rank    INTEGER NOT NULL DEFAULT 0,
  record_src  TEXT
) WITHOUT ROWID;

-- The admin's pages, stats and export: a time range, newest first.
CREATE INDEX calls_by_start ON calls (started_at, call_id);

-- One row per (call, user): whom a member's history shows. `started_at`
-- is the call's, copied so a member's page is one index range.
CREATE TABLE members (
  call_id    TEXT NOT NULL,
  user_id    TEXT NOT NULL,
  started_at INTEGER NOT NULL,
  PRIMARY KEY (call_id, user_id)
) WITHOUT ROWID;

CREATE INDEX members_by_user ON members (user_id, started_at, call_id);

-- A member's start always follows the call's (it only moves earlier).
CREATE TRIGGER calls_start_moved AFTER UPDATE OF started_at ON calls
WHEN NEW.started_at <> OLD.started_at
BEGIN
  UPDATE members SET started_at = NEW.started_at WHERE call_id = NEW.call_id;
END;

-- Who was invited, joined, left, when and why. `user_id` is '' for the
-- call's own events, so the unique key also holds for them.
CREATE TABLE timeline (
  call_id TEXT NOT NULL,
  at      INTEGER NOT NULL,
  user_id TEXT NOT NULL,
  event   TEXT NOT NULL,
  reason  TEXT,
  source  TEXT NOT NULL,
  UNIQUE (call_id, user_id, event, at)
);

-- Erasure finds a user's entries without a scan.
CREATE INDEX timeline_by_user ON timeline (user_id);
