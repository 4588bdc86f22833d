//! The delivery log's SQLite table in the Durable Object's storage.

use worker::{Result, SqlStorage, SqlStorageValue};

use super::{
    cursor, Attempt, Begun, Delivery, Filter, Page, Status, UrlSummary, IN_FLIGHT_MS, MAX_ROWS,
    MAX_TIME, PAGE_SIZE,
};
use crate::relay::job::Job;

const SCHEMA: [&str; 3] = [
    "CREATE TABLE IF NOT EXISTS deliveries (id TEXT PRIMARY KEY, url TEXT NOT NULL, \
     source TEXT NOT NULL, params TEXT NOT NULL, body TEXT NOT NULL, status TEXT NOT NULL, \
     attempts INTEGER NOT NULL, last_status INTEGER, last_error TEXT, latency_ms INTEGER, \
     accepted_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, delivered_at INTEGER, \
     inflight_at INTEGER)",
    "CREATE INDEX IF NOT EXISTS deliveries_by_time ON deliveries (accepted_at, id)",
    "CREATE INDEX IF NOT EXISTS deliveries_by_url ON deliveries (url, accepted_at)",
];

const COLUMNS: &str = "id, url, source, status, attempts, last_status, last_error, latency_ms, \
                       accepted_at, updated_at, delivered_at";

pub struct Store {
    sql: SqlStorage,
}

/// One row read by position (typed rows would pull in serde_wasm_bindgen).
type Row = Vec<SqlStorageValue>;

fn text(row: &Row, i: usize) -> Result<String> {
    match row.get(i) {
        Some(SqlStorageValue::String(s)) => Ok(s.clone()),
        _ => Err(worker::Error::RustError(format!(
            "relay row: column {i} is not text"
        ))),
    }
}

fn number(row: &Row, i: usize) -> Option<u64> {
    match row.get(i) {
        Some(SqlStorageValue::Integer(n)) => u64::try_from(*n).ok(),
        _ => None,
    }
}

fn int(value: u64) -> SqlStorageValue {
    SqlStorageValue::from(i64::try_from(value).unwrap_or(i64::MAX))
}

fn opt_text(value: Option<&str>) -> SqlStorageValue {
    value.map_or(SqlStorageValue::Null, SqlStorageValue::from)
}

impl Store {
    pub fn open(sql: SqlStorage) -> Result<Self> {
        for statement in SCHEMA {
            sql.exec(statement, None)?;
        }
        Ok(Self { sql })
    }

    /// Claims the next attempt at `job`, unless it was delivered before (and
    /// no admin asked for it again) or another attempt is still in flight.
    /// Synchronous SQL in one request: nothing else runs in between.
    pub fn begin(&self, job: &Job, now_ms: u64) -> Result<Begun> {
        let rows = self.rows(
            "SELECT status, attempts, inflight_at FROM deliveries WHERE id = ?",
            vec![job.id.as_str().into()],
        )?;
        let Some(row) = rows.first() else {
            self.insert(job, now_ms)?;
            return Ok(Begun::Deliver { attempts: 1 });
        };
        let in_flight = number(row, 2).is_some_and(|at| at + IN_FLIGHT_MS > now_ms);
        if text(row, 0)? == Status::Delivered.as_str() && !job.redeliver {
            return Ok(Begun::Skip);
        }
        if in_flight {
            return Ok(Begun::Busy);
        }
        let attempts = number(row, 1).unwrap_or(0) + 1;
        self.sql.exec(
            "UPDATE deliveries SET attempts = ?, inflight_at = ?, updated_at = ? WHERE id = ?",
            vec![
                int(attempts),
                int(now_ms),
                int(now_ms),
                job.id.as_str().into(),
            ],
        )?;
        Ok(Begun::Deliver {
            attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
        })
    }

    fn insert(&self, job: &Job, now_ms: u64) -> Result<()> {
        self.sql.exec(
            "INSERT INTO deliveries (id, url, source, params, body, status, attempts, \
             accepted_at, updated_at, inflight_at) VALUES (?, ?, ?, ?, ?, 'pending', 1, ?, ?, ?)",
            vec![
                job.id.as_str().into(),
                job.url.as_str().into(),
                job.source.as_str().into(),
                serde_json::to_string(&job.params)?.into(),
                job.body.as_str().into(),
                int(job.accepted_at),
                int(now_ms),
                int(now_ms),
            ],
        )?;
        Ok(())
    }

    pub fn finish(&self, attempt: &Attempt, now_ms: u64) -> Result<()> {
        let status = if attempt.delivered {
            Status::Delivered
        } else {
            Status::Retrying
        };
        // A late failure never overwrites a success.
        self.sql.exec(
            "UPDATE deliveries SET status = ?1, last_status = ?2, last_error = ?3, \
             latency_ms = ?4, updated_at = ?5, inflight_at = NULL, \
             delivered_at = CASE WHEN ?1 = 'delivered' THEN ?5 ELSE delivered_at END \
             WHERE id = ?6 AND (status != 'delivered' OR ?1 = 'delivered')",
            vec![
                status.as_str().into(),
                attempt
                    .code
                    .map_or(SqlStorageValue::Null, |c| int(u64::from(c))),
                opt_text(attempt.error.as_deref()),
                int(attempt.latency_ms),
                int(now_ms),
                attempt.id.as_str().into(),
            ],
        )?;
        Ok(())
    }

    pub fn bury(&self, id: &str, now_ms: u64) -> Result<()> {
        self.sql.exec(
            "UPDATE deliveries SET status = 'dead', updated_at = ? WHERE id = ? AND status != 'delivered'",
            vec![int(now_ms), id.into()],
        )?;
        Ok(())
    }

    pub fn exists(&self, id: &str) -> Result<bool> {
        let rows = self.rows("SELECT 1 FROM deliveries WHERE id = ?", vec![id.into()])?;
        Ok(!rows.is_empty())
    }

    /// Sets a delivery back to pending and returns it as a job to send again.
    pub fn redeliver(&self, id: &str, now_ms: u64) -> Result<Option<Job>> {
        let rows = self.rows(
            "UPDATE deliveries SET status = 'pending', attempts = 0, updated_at = ? WHERE id = ? \
             RETURNING url, source, params, body, accepted_at",
            vec![int(now_ms), id.into()],
        )?;
        let Some(row) = rows.first() else {
            return Ok(None);
        };
        let source = serde_json::from_value(serde_json::Value::String(text(row, 1)?))?;
        Ok(Some(Job {
            id: id.to_owned(),
            url: text(row, 0)?,
            source,
            params: serde_json::from_str(&text(row, 2)?)?,
            body: text(row, 3)?,
            accepted_at: number(row, 4).unwrap_or(0),
            redeliver: true,
        }))
    }

    pub fn page(&self, filter: &Filter) -> Result<Page> {
        let (after_at, after_id) = filter.after.clone().unwrap_or((MAX_TIME, String::new()));
        let rows = self.rows(
            &format!(
                "SELECT {COLUMNS} FROM deliveries WHERE (?1 IS NULL OR status = ?1) \
                 AND (?2 IS NULL OR url = ?2) \
                 AND (accepted_at < ?3 OR (accepted_at = ?3 AND id < ?4) OR ?4 = '') \
                 ORDER BY accepted_at DESC, id DESC LIMIT ?5"
            ),
            vec![
                opt_text(filter.status.map(Status::as_str)),
                opt_text(filter.url.as_deref()),
                int(after_at),
                after_id.into(),
                i64::from(PAGE_SIZE + 1).into(),
            ],
        )?;
        let mut deliveries = Vec::with_capacity(rows.len());
        let mut next_cursor = None;
        for (i, row) in rows.iter().enumerate() {
            let delivery = delivery(row)?;
            if i == PAGE_SIZE as usize {
                break;
            }
            if i + 1 == PAGE_SIZE as usize && rows.len() > PAGE_SIZE as usize {
                next_cursor = Some(cursor(delivery.accepted_at, &delivery.id));
            }
            deliveries.push(delivery);
        }
        Ok(Page {
            urls: self.summary()?,
            deliveries,
            next_cursor,
        })
    }

    /// Failing URLs first, then by URL.
    fn summary(&self) -> Result<Vec<UrlSummary>> {
        let rows = self.rows(
            "SELECT url, sum(status = 'pending'), sum(status = 'retrying'), \
             sum(status = 'delivered'), sum(status = 'dead'), max(updated_at) \
             FROM deliveries GROUP BY url",
            Vec::new(),
        )?;
        let mut urls = rows
            .iter()
            .map(|row| {
                Ok(UrlSummary {
                    url: text(row, 0)?,
                    pending: number(row, 1).unwrap_or(0),
                    retrying: number(row, 2).unwrap_or(0),
                    delivered: number(row, 3).unwrap_or(0),
                    dead: number(row, 4).unwrap_or(0),
                    last_attempt_at: number(row, 5).unwrap_or(0),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        urls.sort_by(|a, b| b.failing().cmp(&a.failing()).then(a.url.cmp(&b.url)));
        Ok(urls)
    }

    /// Keeps the newest `MAX_ROWS` deliveries.
    pub fn prune(&self) -> Result<()> {
        self.sql.exec(
            "DELETE FROM deliveries WHERE accepted_at < (SELECT accepted_at FROM deliveries \
             ORDER BY accepted_at DESC LIMIT 1 OFFSET ?)",
            vec![i64::from(MAX_ROWS).into()],
        )?;
        Ok(())
    }

    fn rows(&self, query: &str, bindings: Vec<SqlStorageValue>) -> Result<Vec<Row>> {
        self.sql.exec(query, bindings)?.raw().collect()
    }
}

fn delivery(row: &Row) -> Result<Delivery> {
    Ok(Delivery {
        id: text(row, 0)?,
        url: text(row, 1)?,
        source: text(row, 2)?,
        status: text(row, 3)?,
        attempts: number(row, 4).unwrap_or(0),
        last_status: number(row, 5),
        last_error: text(row, 6).ok(),
        latency_ms: number(row, 7),
        accepted_at: number(row, 8).unwrap_or(0),
        updated_at: number(row, 9).unwrap_or(0),
        delivered_at: number(row, 10),
    })
}
