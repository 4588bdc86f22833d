//! `GET /api/v1/history/stats` from the rollup (migrations/0002_stats_rollup.sql):
//! whole 15-minute slots are read from `stats_slots` and `stats_talk`, which
//! triggers keep in step with every write; only the partial slots at the
//! window's ends are read from the calls. p50/p95 come from the talk-time
//! histogram: the mean of the bin that holds the exact nearest-rank value
//! (bins narrower than 10 %; docs/call-ledger.md states the bound).

use wasm_bindgen::JsValue;

use super::db::{int, text};
use super::filter::StatsQuery;

/// The rollup's slot: every quarter-hour UTC offset starts its hours and
/// days on a slot boundary.
pub const SLOT_MS: u64 = 900_000;

/// Whether the rollup answers `q` exactly: its offset is whole slots.
pub fn answers(q: &StatsQuery) -> bool {
    q.offset_ms % SLOT_MS as i64 == 0
}

/// The ended calls of `[?lo, ?hi)` (the whole app, or member ?5's).
fn edge(for_user: bool, lo: u8, hi: u8) -> String {
    let talk = "CAST(CASE WHEN c.accepted_at IS NOT NULL AND c.ended_at IS NOT NULL \
         THEN max(c.ended_at - c.accepted_at, 0) END AS INTEGER)";
    let source = if for_user {
        format!(
            "FROM members m CROSS JOIN calls c ON c.call_id = m.call_id WHERE m.user_id = ?5 \
             AND m.started_at >= ?{lo} AND m.started_at < ?{hi} AND c.end_rank > 0"
        )
    } else {
        format!(
            "FROM calls c WHERE c.started_at >= ?{lo} AND c.started_at < ?{hi} AND c.end_rank > 0"
        )
    };
    format!("SELECT c.started_at AS at, c.result AS result, c.accepted_at AS acc, {talk} AS talk {source}")
}

/// One row per (bucket, result), in the shape of `stats::sql`'s.
pub fn sql(for_user: bool) -> String {
    let key = |at: &str| format!("CAST(({at} + ?3) / ?4 AS INTEGER)");
    let slot = key(&format!("{{t}}.slot * {SLOT_MS}"));
    let (sl, st) = (slot.replace("{t}", "sl"), slot.replace("{t}", "st"));
    format!(
        "WITH edge AS ({lower} UNION ALL {upper}), \
         counts AS (SELECT {sl} AS k, sl.result AS result, sl.calls AS n, sl.answered AS acc, \
         sl.talk_ms AS talk FROM stats_slots sl WHERE sl.scope = ?5 AND sl.slot >= ?8 AND sl.slot < ?9 \
         UNION ALL SELECT {at}, coalesce(result, ''), 1, acc IS NOT NULL, coalesce(talk, 0) FROM edge), \
         bins AS (SELECT {st} AS k, st.bin AS bin, st.calls AS n, st.talk_ms AS talk \
         FROM stats_talk st WHERE st.scope = ?5 AND st.slot >= ?8 AND st.slot < ?9 \
         UNION ALL SELECT {at}, length(talk) * 100 + lead - lead % CASE WHEN lead < 20 THEN 1 \
         WHEN lead < 50 THEN 2 ELSE 5 END, 1, talk \
         FROM (SELECT *, CAST(substr(talk, 1, 2) AS INTEGER) AS lead FROM edge WHERE talk IS NOT NULL)), \
         h AS (SELECT k, bin, sum(n) AS n, sum(talk) AS talk FROM bins GROUP BY k, bin), \
         cum AS (SELECT k, talk / n AS mean, sum(n) OVER (PARTITION BY k ORDER BY bin) AS below, \
         sum(n) OVER (PARTITION BY k) AS total FROM h), \
         pct AS (SELECT k, min(CASE WHEN below * 100 >= total * 50 THEN mean END) AS p50, \
         min(CASE WHEN below * 100 >= total * 95 THEN mean END) AS p95 FROM cum GROUP BY k) \
         SELECT t.k AS k, nullif(t.result, '') AS result, sum(t.n) AS n, sum(t.acc) AS acc, \
         sum(t.talk) AS talk, pct.p50 AS p50, pct.p95 AS p95 \
         FROM counts t LEFT JOIN pct ON pct.k = t.k GROUP BY t.k, t.result HAVING sum(t.n) > 0 \
         ORDER BY t.k",
        lower = edge(for_user, 1, 6),
        upper = edge(for_user, 7, 2),
        at = key("at"),
    )
}

/// The window split at slot boundaries: `[from, a)` and `[b, to)` are read
/// from the calls, the slots `[first, end)` from the rollup.
#[derive(Debug, PartialEq, Eq)]
pub struct Split {
    pub a: u64,
    pub b: u64,
    pub first: u64,
    pub end: u64,
}

pub fn split(from: u64, to: u64) -> Split {
    let (first, end) = (from.div_ceil(SLOT_MS), to / SLOT_MS);
    let a = (first * SLOT_MS).min(to);
    Split {
        a,
        b: (end * SLOT_MS).max(a),
        first,
        end,
    }
}

/// `?1`–`?9`; `user` `None` reads the whole app's rollup (scope '').
pub fn params(q: &StatsQuery, user: Option<&str>) -> Vec<JsValue> {
    let s = split(q.window.from, q.window.to);
    vec![
        int(q.window.from),
        int(q.window.to),
        JsValue::from_f64(q.offset_ms as f64),
        int(q.bucket.width_ms()),
        text(user.unwrap_or("")),
        int(s.a),
        int(s.b),
        int(s.first),
        int(s.end),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_splits_at_slot_boundaries_without_gap_or_overlap() {
        let m = SLOT_MS;
        // Aligned: no edges.
        assert_eq!(
            split(4 * m, 8 * m),
            Split {
                a: 4 * m,
                b: 8 * m,
                first: 4,
                end: 8
            }
        );
        // Unaligned ends: partial slots on both sides.
        assert_eq!(
            split(4 * m + 1, 8 * m + 5),
            Split {
                a: 5 * m,
                b: 8 * m,
                first: 5,
                end: 8
            }
        );
        // Inside one slot: all of it from the calls, no slot, no second edge.
        let s = split(4 * m + 1, 4 * m + 9);
        assert_eq!((s.a, s.b), (4 * m + 9, 4 * m + 9));
        assert!(s.first >= s.end);
        // Two partial slots that meet.
        let s = split(4 * m + 1, 5 * m + 1);
        assert_eq!((s.a, s.b, s.first, s.end), (5 * m, 5 * m, 5, 5));
    }

    #[test]
    fn each_parameter_is_used_and_the_member_query_reads_only_their_rows() {
        for for_user in [false, true] {
            let sql = sql(for_user);
            for n in 1..=9 {
                assert!(sql.contains(&format!("?{n}")), "?{n} in {sql}");
            }
            assert!(sql.contains("sl.scope = ?5") && sql.contains("st.scope = ?5"));
            assert_eq!(sql.contains("m.user_id = ?5"), for_user);
        }
    }
}
