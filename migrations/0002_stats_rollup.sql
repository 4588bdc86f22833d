-- The stats rollup (docs/call-ledger.md, "Stats"): what
-- `GET /api/v1/history/stats` reads instead of scanning a month of calls.
-- Triggers on `calls` and `members` keep it in step with every write,
-- in the same statement and transaction: the drain's merge, erasure,
-- retention and seeding all move it without any code of their own.
-- A call counts once it has an end (`end_rank > 0`), in the 15-minute UTC
-- slot its start falls in (`started_at / 900000`): every UTC offset that is a
-- whole quarter hour starts its hours and days on a slot boundary.

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
-- sum of the values in each bin. `bin` is the value's number of digits × 100
-- + its first two digits rounded down to a step of 1 (10–19), 2 (20–49) or
-- 5 (50–99): bins in the values' order, each narrower than 10 % of its
-- lower bound (`stats_calls` below computes it). p50/p95 are read from it.
CREATE TABLE stats_talk (
  scope   TEXT NOT NULL,
  slot    INTEGER NOT NULL,
  bin     INTEGER NOT NULL,
  calls   INTEGER NOT NULL,
  talk_ms INTEGER NOT NULL,
  PRIMARY KEY (scope, slot, bin)
) WITHOUT ROWID;

-- A call's talk time and its bin, as the stats have always computed it.
CREATE VIEW stats_calls AS
SELECT call_id, started_at / 900000 AS slot, coalesce(result, '') AS result,
  accepted_at IS NOT NULL AS answered, talk,
  length(talk) * 100 + lead - lead % iif(lead < 20, 1, iif(lead < 50, 2, 5)) AS bin,
  end_rank
FROM (SELECT *, CAST(substr(talk, 1, 2) AS INTEGER) AS lead
  FROM (SELECT *, CAST(iif(accepted_at IS NOT NULL AND ended_at IS NOT NULL,
    max(ended_at - accepted_at, 0), NULL) AS INTEGER) AS talk FROM calls));

-- Backfill: the rows already in the ledger.
INSERT INTO stats_slots (scope, slot, result, calls, answered, talk_ms)
SELECT s.scope, v.slot, v.result, count(*), sum(v.answered), coalesce(sum(v.talk), 0)
FROM stats_calls v
JOIN (SELECT call_id, '' AS scope FROM calls UNION ALL SELECT call_id, user_id FROM members) s
  ON s.call_id = v.call_id
WHERE v.end_rank > 0 GROUP BY s.scope, v.slot, v.result;

INSERT INTO stats_talk (scope, slot, bin, calls, talk_ms)
SELECT s.scope, v.slot, v.bin, count(*), sum(v.talk)
FROM stats_calls v
JOIN (SELECT call_id, '' AS scope FROM calls UNION ALL SELECT call_id, user_id FROM members) s
  ON s.call_id = v.call_id
WHERE v.end_rank > 0 AND v.talk IS NOT NULL GROUP BY s.scope, v.slot, v.bin;

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

-- The triggers below add (+1) or take back (−1) one call's contribution,
-- for the whole app and for each of its members, or for one member.
-- `calls_stats_moved` fires only when what the stats count changed, so a
-- replayed or out-of-order event (which changes nothing) counts nothing.

CREATE TRIGGER calls_stats_added AFTER INSERT ON calls
WHEN NEW.end_rank > 0
BEGIN
  INSERT INTO stats_slots (scope, slot, result, calls, answered, talk_ms)
  SELECT s.scope, v.slot, v.result, 1, v.answered, coalesce(v.talk, 0)
  FROM stats_calls v, (SELECT '' AS scope UNION ALL SELECT user_id FROM members WHERE call_id = NEW.call_id) s
  WHERE v.call_id = NEW.call_id
  ON CONFLICT (scope, slot, result) DO UPDATE SET calls = calls + excluded.calls,
    answered = answered + excluded.answered, talk_ms = talk_ms + excluded.talk_ms;
  INSERT INTO stats_talk (scope, slot, bin, calls, talk_ms)
  SELECT s.scope, v.slot, v.bin, 1, v.talk
  FROM stats_calls v, (SELECT '' AS scope UNION ALL SELECT user_id FROM members WHERE call_id = NEW.call_id) s
  WHERE v.call_id = NEW.call_id AND v.talk IS NOT NULL
  ON CONFLICT (scope, slot, bin) DO UPDATE SET calls = calls + excluded.calls,
    talk_ms = talk_ms + excluded.talk_ms;
END;

-- An update: the old contribution out (computed from OLD), the new one in.
CREATE TRIGGER calls_stats_moved AFTER UPDATE OF started_at, result, accepted_at, ended_at, end_rank ON calls
WHEN (OLD.end_rank > 0 OR NEW.end_rank > 0) AND (
  (OLD.end_rank > 0) <> (NEW.end_rank > 0) OR OLD.started_at / 900000 <> NEW.started_at / 900000
  OR OLD.result IS NOT NEW.result OR OLD.accepted_at IS NOT NEW.accepted_at
  OR OLD.ended_at IS NOT NEW.ended_at)
BEGIN
  INSERT INTO stats_slots (scope, slot, result, calls, answered, talk_ms)
  SELECT s.scope, OLD.started_at / 900000, coalesce(OLD.result, ''), -1,
    -(OLD.accepted_at IS NOT NULL), -coalesce(o.talk, 0)
  FROM (SELECT talk, CAST(substr(talk, 1, 2) AS INTEGER) AS lead
      FROM (SELECT CAST(iif(OLD.accepted_at IS NOT NULL AND OLD.ended_at IS NOT NULL,
    max(OLD.ended_at - OLD.accepted_at, 0), NULL) AS INTEGER) AS talk)) o,
    (SELECT '' AS scope UNION ALL SELECT user_id FROM members WHERE call_id = OLD.call_id) s
  WHERE OLD.end_rank > 0
  ON CONFLICT (scope, slot, result) DO UPDATE SET calls = calls + excluded.calls,
    answered = answered + excluded.answered, talk_ms = talk_ms + excluded.talk_ms;
  INSERT INTO stats_talk (scope, slot, bin, calls, talk_ms)
  SELECT s.scope, OLD.started_at / 900000,
    length(o.talk) * 100 + o.lead
    - o.lead % iif(o.lead < 20, 1, iif(o.lead < 50, 2, 5)), -1, -o.talk
  FROM (SELECT talk, CAST(substr(talk, 1, 2) AS INTEGER) AS lead
      FROM (SELECT CAST(iif(OLD.accepted_at IS NOT NULL AND OLD.ended_at IS NOT NULL,
    max(OLD.ended_at - OLD.accepted_at, 0), NULL) AS INTEGER) AS talk)) o,
    (SELECT '' AS scope UNION ALL SELECT user_id FROM members WHERE call_id = OLD.call_id) s
  WHERE OLD.end_rank > 0 AND o.talk IS NOT NULL
  ON CONFLICT (scope, slot, bin) DO UPDATE SET calls = calls + excluded.calls,
    talk_ms = talk_ms + excluded.talk_ms;
  INSERT INTO stats_slots (scope, slot, result, calls, answered, talk_ms)
  SELECT s.scope, v.slot, v.result, 1, v.answered, coalesce(v.talk, 0)
  FROM stats_calls v, (SELECT '' AS scope UNION ALL SELECT user_id FROM members WHERE call_id = NEW.call_id) s
  WHERE v.call_id = NEW.call_id AND NEW.end_rank > 0
  ON CONFLICT (scope, slot, result) DO UPDATE SET calls = calls + excluded.calls,
    answered = answered + excluded.answered, talk_ms = talk_ms + excluded.talk_ms;
  INSERT INTO stats_talk (scope, slot, bin, calls, talk_ms)
  SELECT s.scope, v.slot, v.bin, 1, v.talk
  FROM stats_calls v, (SELECT '' AS scope UNION ALL SELECT user_id FROM members WHERE call_id = NEW.call_id) s
  WHERE v.call_id = NEW.call_id AND NEW.end_rank > 0 AND v.talk IS NOT NULL
  ON CONFLICT (scope, slot, bin) DO UPDATE SET calls = calls + excluded.calls,
    talk_ms = talk_ms + excluded.talk_ms;
END;

-- Retention: the whole app's share (members' rows are deleted first, and
-- take theirs with them; any left are taken here).
CREATE TRIGGER calls_stats_removed AFTER DELETE ON calls
WHEN OLD.end_rank > 0
BEGIN
  INSERT INTO stats_slots (scope, slot, result, calls, answered, talk_ms)
  SELECT s.scope, OLD.started_at / 900000, coalesce(OLD.result, ''), -1,
    -(OLD.accepted_at IS NOT NULL), -coalesce(o.talk, 0)
  FROM (SELECT talk, CAST(substr(talk, 1, 2) AS INTEGER) AS lead
      FROM (SELECT CAST(iif(OLD.accepted_at IS NOT NULL AND OLD.ended_at IS NOT NULL,
    max(OLD.ended_at - OLD.accepted_at, 0), NULL) AS INTEGER) AS talk)) o,
    (SELECT '' AS scope UNION ALL SELECT user_id FROM members WHERE call_id = OLD.call_id) s
  WHERE true
  ON CONFLICT (scope, slot, result) DO UPDATE SET calls = calls + excluded.calls,
    answered = answered + excluded.answered, talk_ms = talk_ms + excluded.talk_ms;
  INSERT INTO stats_talk (scope, slot, bin, calls, talk_ms)
  SELECT s.scope, OLD.started_at / 900000,
    length(o.talk) * 100 + o.lead
    - o.lead % iif(o.lead < 20, 1, iif(o.lead < 50, 2, 5)), -1, -o.talk
  FROM (SELECT talk, CAST(substr(talk, 1, 2) AS INTEGER) AS lead
      FROM (SELECT CAST(iif(OLD.accepted_at IS NOT NULL AND OLD.ended_at IS NOT NULL,
    max(OLD.ended_at - OLD.accepted_at, 0), NULL) AS INTEGER) AS talk)) o,
    (SELECT '' AS scope UNION ALL SELECT user_id FROM members WHERE call_id = OLD.call_id) s
  WHERE o.talk IS NOT NULL
  ON CONFLICT (scope, slot, bin) DO UPDATE SET calls = calls + excluded.calls,
    talk_ms = talk_ms + excluded.talk_ms;
END;

-- A member added to an ended call counts it in their own stats.
CREATE TRIGGER members_stats_added AFTER INSERT ON members
BEGIN
  INSERT INTO stats_slots (scope, slot, result, calls, answered, talk_ms)
  SELECT NEW.user_id, v.slot, v.result, 1, v.answered, coalesce(v.talk, 0)
  FROM stats_calls v WHERE v.call_id = NEW.call_id AND v.end_rank > 0
  ON CONFLICT (scope, slot, result) DO UPDATE SET calls = calls + excluded.calls,
    answered = answered + excluded.answered, talk_ms = talk_ms + excluded.talk_ms;
  INSERT INTO stats_talk (scope, slot, bin, calls, talk_ms)
  SELECT NEW.user_id, v.slot, v.bin, 1, v.talk
  FROM stats_calls v WHERE v.call_id = NEW.call_id AND v.end_rank > 0 AND v.talk IS NOT NULL
  ON CONFLICT (scope, slot, bin) DO UPDATE SET calls = calls + excluded.calls,
    talk_ms = talk_ms + excluded.talk_ms;
END;

-- Erasure and retention: a member's row goes, and their share with it.
CREATE TRIGGER members_stats_removed AFTER DELETE ON members
BEGIN
  INSERT INTO stats_slots (scope, slot, result, calls, answered, talk_ms)
  SELECT OLD.user_id, v.slot, v.result, -1, -v.answered, -coalesce(v.talk, 0)
  FROM stats_calls v WHERE v.call_id = OLD.call_id AND v.end_rank > 0
  ON CONFLICT (scope, slot, result) DO UPDATE SET calls = calls + excluded.calls,
    answered = answered + excluded.answered, talk_ms = talk_ms + excluded.talk_ms;
  INSERT INTO stats_talk (scope, slot, bin, calls, talk_ms)
  SELECT OLD.user_id, v.slot, v.bin, -1, -v.talk
  FROM stats_calls v WHERE v.call_id = OLD.call_id AND v.end_rank > 0 AND v.talk IS NOT NULL
  ON CONFLICT (scope, slot, bin) DO UPDATE SET calls = calls + excluded.calls,
    talk_ms = talk_ms + excluded.talk_ms;
END;
