//! `GET /api/v1/history/stats`: per bucket, in SQL, the ended calls, how
//! many were answered, the count of each result, and talk time (sum, and
//! p50/p95 by nearest rank over window functions). Read from the rollup
//! (`rollup`) when the offset is whole quarter hours; from the calls else.

use serde::Serialize;
use serde_json::{Map, Value};
use wasm_bindgen::JsValue;

use super::db::{int, text, Ledger, Result, Row};
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
         SELECT b.k, b.result, count(*), count(b.acc), total(b.talk), pct.p50, pct.p95 \
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

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Talk {
    pub sum: u64,
    pub p50: Option<u64>,
    pub p95: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Bucket {
    pub start: i64,
    pub calls: u64,
    pub answered: u64,
    pub answer_rate: f64,
    /// Result → count; serde_json's map, which the bundle has already.
    pub results: Map<String, Value>,
    pub talk_ms: Talk,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    pub from: u64,
    pub to: u64,
    pub bucket: &'static str,
    pub tz: String,
    pub buckets: Vec<Bucket>,
}

/// `user`: a member's own calls; `None`: the whole app.
pub async fn stats(ledger: &Ledger, q: &StatsQuery, user: Option<&str>) -> Result<Stats> {
    let rows = if q.window.is_empty() {
        Vec::new()
    } else if rollup::answers(q) {
        ledger
            .rows(&rollup::sql(user.is_some()), &rollup::params(q, user))
            .await?
    } else {
        // An offset that is not whole quarter hours: the calls themselves.
        ledger.rows(&sql(user.is_some()), &params(q, user)).await?
    };
    Ok(Stats {
        from: q.window.from,
        to: q.window.to,
        bucket: q.bucket.as_str(),
        tz: q.tz.clone(),
        buckets: buckets(&rows, q),
    })
}

/// One row per (bucket, result), ordered by bucket, folded into buckets.
fn buckets(rows: &[Row], q: &StatsQuery) -> Vec<Bucket> {
    let mut out: Vec<Bucket> = Vec::new();
    for row in rows {
        let key = row.int(0).unwrap_or(0) as i64;
        let start = key * q.bucket.width_ms() as i64 - q.offset_ms;
        if out.last().is_none_or(|b| b.start != start) {
            out.push(Bucket {
                start,
                calls: 0,
                answered: 0,
                answer_rate: 0.0,
                results: Map::new(),
                talk_ms: Talk {
                    sum: 0,
                    p50: row.int(5),
                    p95: row.int(6),
                },
            });
        }
        let Some(bucket) = out.last_mut() else {
            continue;
        };
        let calls = row.int(2).unwrap_or(0);
        bucket.calls += calls;
        bucket.answered += row.int(3).unwrap_or(0);
        bucket.talk_ms.sum += row.int(4).unwrap_or(0);
        // One row per (bucket, result): each result comes once per bucket.
        if let Some(result) = row.text(1) {
            bucket.results.insert(result, Value::from(calls));
        }
        bucket.answer_rate = bucket.answered as f64 / bucket.calls.max(1) as f64;
    }
    out
}
