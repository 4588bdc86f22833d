-- The stats rollup (docs/call-ledger.md, "The stats rollup"): what
-- `GET /api/v1/history/stats` reads instead of scanning a month of calls.
-- Triggers on `calls` and `members` keep it in step with every write, in
-- the same statement and transaction: the drain's merge, erasure, retention
-- and seeding all move it without any code of their own.
-- A call counts once it has an end (`end_rank > 0`), in the 15-minute UTC
-- slot its start falls in (`started_at / 900000`): every UTC offset that is
-- whole quarter hours starts its hours and days on a slot boundary.

-- Per scope ('' the whole app, else a member's UserID), slot and result
-- ('' unknown): the ended calls, the answered ones and their talk time.
CREATE TABLE stats_slots (
  scope    TEXT NOT NULL,
  slot     INTEGER NOT NULL,
  result   TEXT NOT NULL,
  calls    INTEGER NOT NULL,
  answered INTEGER NOT NULL,
  talk_ms  INTEGER NOT NULL,
  PRIMARY KEY (scope, slot, result)
) WITHOUT ROWID;

-- Talk time of the answered calls as a histogram, with the count and the
-- sum of the values in each bin (p50/p95 are read from it).
CREATE TABLE stats_talk (
  scope   TEXT NOT NULL,
  slot    INTEGER NOT NULL,
  bin     INTEGER NOT NULL,
  calls   INTEGER NOT NULL,
  talk_ms INTEGER NOT NULL,
  PRIMARY KEY (scope, slot, bin)
) WITHOUT ROWID;

-- One call's share to add (`sign` 1) or take back (-1), for `scope`, or
-- for the app and each member of the call when `scope` is NULL. The
-- triggers write a row here; `stats_share_applied` applies and deletes it,
-- so the arithmetic lives in one place.
CREATE TABLE stats_share (
  call_id     TEXT NOT NULL,
  scope       TEXT,
  started_at  INTEGER NOT NULL,
  result      TEXT,
  accepted_at INTEGER,
  ended_at    INTEGER,
  sign        INTEGER NOT NULL
);

-- A share's slot, result, talk time (as the stats have always computed
-- it) and talk-time bin: the value's number of digits × 100 + its first two
-- digits rounded down to a step of 1 (10–19), 2 (20–49) or 5 (50–99), so
-- bins keep the values' order and each is narrower than 10 % of its lower
-- bound.
CREATE VIEW stats_share_values AS
SELECT id, call_id, scope, sign, slot, result, answered, talk,
  length(talk) * 100 + lead - lead % iif(lead < 20, 1, iif(lead < 50, 2, 5)) AS bin
FROM (SELECT *, CAST(substr(talk, 1, 2) AS INTEGER) AS lead
  FROM (SELECT rowid AS id, call_id, scope, sign, started_at / 900000 AS slot,
    coalesce(result, '') AS result, accepted_at IS NOT NULL AS answered,
    CAST(iif(accepted_at IS NOT NULL AND ended_at IS NOT NULL,
      max(ended_at - accepted_at, 0), NULL) AS INTEGER) AS talk
    FROM stats_share));

-- Backfill: every ended call already in the ledger, in bulk.
INSERT INTO stats_share (call_id, scope, started_at, result, accepted_at, ended_at, sign)
SELECT call_id, NULL, started_at, result, accepted_at, ended_at, 1 FROM calls WHERE end_rank > 0;

INSERT INTO stats_slots (scope, slot, result, calls, answered, talk_ms)
SELECT s.scope, v.slot, v.result, count(*), sum(v.answered), coalesce(sum(v.talk), 0)
FROM stats_share_values v
JOIN (SELECT call_id, '' AS scope FROM calls UNION ALL SELECT call_id, user_id FROM members) s
  ON s.call_id = v.call_id
GROUP BY s.scope, v.slot, v.result;

INSERT INTO stats_talk (scope, slot, bin, calls, talk_ms)
SELECT s.scope, v.slot, v.bin, count(*), sum(v.talk)
FROM stats_share_values v
JOIN (SELECT call_id, '' AS scope FROM calls UNION ALL SELECT call_id, user_id FROM members) s
  ON s.call_id = v.call_id
WHERE v.talk IS NOT NULL GROUP BY s.scope, v.slot, v.bin;

DELETE FROM stats_share;

CREATE TRIGGER stats_share_applied AFTER INSERT ON stats_share
BEGIN
  INSERT INTO stats_slots (scope, slot, result, calls, answered, talk_ms)
  SELECT s.scope, v.slot, v.result, v.sign, v.sign * v.answered, v.sign * coalesce(v.talk, 0)
  FROM stats_share_values v,
    (SELECT '' AS scope WHERE NEW.scope IS NULL
     UNION ALL SELECT user_id FROM members WHERE NEW.scope IS NULL AND call_id = NEW.call_id
     UNION ALL SELECT NEW.scope WHERE NEW.scope IS NOT NULL) s
  WHERE v.id = NEW.rowid
  ON CONFLICT (scope, slot, result) DO UPDATE SET calls = calls + excluded.calls,
    answered = answered + excluded.answered, talk_ms = talk_ms + excluded.talk_ms;
  INSERT INTO stats_talk (scope, slot, bin, calls, talk_ms)
  SELECT s.scope, v.slot, v.bin, v.sign, v.sign * v.talk
  FROM stats_share_values v,
    (SELECT '' AS scope WHERE NEW.scope IS NULL
     UNION ALL SELECT user_id FROM members WHERE NEW.scope IS NULL AND call_id = NEW.call_id
     UNION ALL SELECT NEW.scope WHERE NEW.scope IS NOT NULL) s
  WHERE v.id = NEW.rowid AND v.talk IS NOT NULL
  ON CONFLICT (scope, slot, bin) DO UPDATE SET calls = calls + excluded.calls,
    talk_ms = talk_ms + excluded.talk_ms;
  DELETE FROM stats_share WHERE rowid = NEW.rowid;
END;

-- An emptied row goes, so moved calls leave nothing behind.
CREATE TRIGGER stats_slots_emptied AFTER UPDATE OF calls ON stats_slots
WHEN NEW.calls = 0
BEGIN
  DELETE FROM stats_slots WHERE scope = NEW.scope AND slot = NEW.slot AND result = NEW.result;
END;

CREATE TRIGGER stats_talk_emptied AFTER UPDATE OF calls ON stats_talk
WHEN NEW.calls = 0
BEGIN
  DELETE FROM stats_talk WHERE scope = NEW.scope AND slot = NEW.slot AND bin = NEW.bin;
END;

CREATE TRIGGER calls_stats_added AFTER INSERT ON calls
WHEN NEW.end_rank > 0
BEGIN
  INSERT INTO stats_share VALUES
    (NEW.call_id, NULL, NEW.started_at, NEW.result, NEW.accepted_at, NEW.ended_at, 1);
END;

-- An update that changes what the stats count: the old share out, the new
-- one in. A replayed or out-of-order event changes nothing, so counts nothing.
CREATE TRIGGER calls_stats_moved AFTER UPDATE OF started_at, result, accepted_at, ended_at, end_rank ON calls
WHEN (OLD.end_rank > 0 OR NEW.end_rank > 0) AND (
  (OLD.end_rank > 0) <> (NEW.end_rank > 0) OR OLD.started_at / 900000 <> NEW.started_at / 900000
  OR OLD.result IS NOT NEW.result OR OLD.accepted_at IS NOT NEW.accepted_at
  OR OLD.ended_at IS NOT NEW.ended_at)
BEGIN
  INSERT INTO stats_share
  SELECT OLD.call_id, NULL, OLD.started_at, OLD.result, OLD.accepted_at, OLD.ended_at, -1
  WHERE OLD.end_rank > 0;
  INSERT INTO stats_share
  SELECT NEW.call_id, NULL, NEW.started_at, NEW.result, NEW.accepted_at, NEW.ended_at, 1
  WHERE NEW.end_rank > 0;
END;

-- Retention deletes the members first (each takes their share), then the
-- call (the app's share, and any member's left).
CREATE TRIGGER calls_stats_removed AFTER DELETE ON calls
WHEN OLD.end_rank > 0
BEGIN
  INSERT INTO stats_share VALUES
    (OLD.call_id, NULL, OLD.started_at, OLD.result, OLD.accepted_at, OLD.ended_at, -1);
END;

-- A member added to an ended call counts it in their own stats.
CREATE TRIGGER members_stats_added AFTER INSERT ON members
BEGIN
  INSERT INTO stats_share
  SELECT call_id, NEW.user_id, started_at, result, accepted_at, ended_at, 1
  FROM calls WHERE call_id = NEW.call_id AND end_rank > 0;
END;

-- Erasure and retention: a member's row goes, and their share with it.
CREATE TRIGGER members_stats_removed AFTER DELETE ON members
BEGIN
  INSERT INTO stats_share
  SELECT call_id, OLD.user_id, started_at, result, accepted_at, ended_at, -1
  FROM calls WHERE call_id = OLD.call_id AND end_rank > 0;
END;
