//! `GET /api/v1/history/stats`: per bucket, in SQL, the ended calls, how
//! many were answered, the count of each result, and talk time (sum, and
//! p50/p95 by nearest rank over window functions). Read from the rollup
//! (`rollup`) when the offset is whole quarter hours; from the calls else.

use wasm_bindgen::JsValue;

use super::db::{int, text, Ledger, Result};
use super::filter::StatsQuery;
use super::rollup;

const ALL_CALLS: &str = "FROM calls c WHERE c.started_at >= ?1 AND c.started_at < ?2 \
     AND c.end_rank > 0";
const USER_CALLS: &str = "FROM members m CROSS JOIN calls c ON c.call_id = m.call_id \
     WHERE m.user_id = ?5 AND m.started_at >= ?1 AND m.started_at < ?2 AND c.end_rank > 0";

/// The statement for a member's calls (`for_user`) or every call. `b` is
/// MATERIALIZED: read twice, computed once (a third less time at 300,000 calls).
pub fn sql(for_user: bool) -> String {
    let source = if for_user { USER_CALLS } else { ALL_CALLS };
    format!(
        "WITH b AS MATERIALIZED (SELECT CAST((c.started_at + ?3) / ?4 AS INTEGER) AS k, c.result AS result, \
         c.accepted_at AS acc, CASE WHEN c.accepted_at IS NOT NULL AND c.ended_at IS NOT NULL \
         THEN max(c.ended_at - c.accepted_at, 0) END AS talk {source}), \
         ranked AS (SELECT k, talk, row_number() OVER (PARTITION BY k ORDER BY talk) AS r, \
         count(*) OVER (PARTITION BY k) AS n FROM b WHERE talk IS NOT NULL), \
         pct AS (SELECT k, min(CASE WHEN r * 100 >= n * 50 THEN talk END) AS p50, \
         min(CASE WHEN r * 100 >= n * 95 THEN talk END) AS p95 FROM ranked GROUP BY k) \
         SELECT b.k AS k, b.result AS result, count(*) AS n, count(b.acc) AS acc, \
         total(b.talk) AS talk, pct.p50 AS p50, pct.p95 AS p95 \
         FROM b LEFT JOIN pct ON pct.k = b.k GROUP BY b.k, b.result ORDER BY b.k"
    )
}

pub fn params(q: &StatsQuery, user: Option<&str>) -> Vec<JsValue> {
    let mut params = vec![
        int(q.window.from),
        int(q.window.to),
        JsValue::from_f64(q.offset_ms as f64),
        int(q.bucket.width_ms()),
    ];
    if let Some(user) = user {
        params.push(text(user));
    }
    params
}

/// Folds `rows` (`sql`'s or `rollup::sql`'s: one per bucket and result,
/// columns `k, result, n, acc, talk, p50, p95`) into one row per bucket:
/// the bucket as JSON up to `"answerRate":`, its calls, its answered calls,
/// and the rest of it. The rate is a float: serde_json writes it (shortest
/// round trip), not SQLite (15 digits). `?3` is the offset, `?4` the width.
pub fn per_bucket(rows: &str) -> String {
    format!(
        "SELECT '{{\"start\":' || CAST(r.k * ?4 - ?3 AS INTEGER) || ',\"calls\":' || {n} \
         || ',\"answered\":' || {acc} || ',\"answerRate\":', {n}, {acc}, \
         ',\"results\":' || json_group_object(r.result, r.n ORDER BY r.result) \
         FILTER (WHERE r.result IS NOT NULL) || ',\"talkMs\":' || json_object('sum', \
         CAST(coalesce(sum(r.talk), 0) AS INTEGER), 'p50', CAST(min(r.p50) AS INTEGER), \
         'p95', CAST(min(r.p95) AS INTEGER)) || '}}' FROM ({rows}) r GROUP BY r.k ORDER BY r.k",
        n = "coalesce(sum(r.n), 0)",
        acc = "coalesce(sum(r.acc), 0)",
    )
}

/// `GET /api/v1/history/stats`'s answer, `{"from","to","bucket","tz","buckets"}`.
/// `user`: a member's own calls; `None`: the whole app.
pub async fn stats(ledger: &Ledger, q: &StatsQuery, user: Option<&str>) -> Result<String> {
    let rows = if q.window.is_empty() {
        Vec::new()
    } else if rollup::answers(q) {
        let sql = per_bucket(&rollup::sql(user.is_some()));
        ledger.rows(&sql, &rollup::params(q, user)).await?
    } else {
        // An offset that is not whole quarter hours: the calls themselves.
        let sql = per_bucket(&sql(user.is_some()));
        ledger.rows(&sql, &params(q, user)).await?
    };
    let mut buckets = String::new();
    for (i, row) in rows.iter().enumerate() {
        if i > 0 {
            buckets.push(',');
        }
        let (calls, answered) = (row.int(1).unwrap_or(0), row.int(2).unwrap_or(0));
        let rate = answered as f64 / calls.max(1) as f64;
        buckets.push_str(&row.text(0).unwrap_or_default());
        buckets.push_str(&serde_json::to_string(&rate).unwrap_or_default());
        buckets.push_str(&row.text(3).unwrap_or_default());
    }
    Ok(format!(
        "{{\"from\":{},\"to\":{},\"bucket\":\"{}\",\"tz\":\"{}\",\"buckets\":[{buckets}]}}",
        q.window.from,
        q.window.to,
        q.bucket.as_str(),
        q.tz
    ))
}
