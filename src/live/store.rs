//! The board's SQLite tables in the Durable Object's storage: calls, the
//! deliveries already applied (replay guard) and the unused socket tickets.

use worker::{Result, SqlStorage, SqlStorageValue};

use crate::board::{LiveCall, Tracked, Viewer};

const SCHEMA: [&str; 3] = [
    "CREATE TABLE IF NOT EXISTS calls (call_id TEXT PRIMARY KEY, body TEXT NOT NULL, \
     members_at INTEGER NOT NULL, live INTEGER NOT NULL, touched_at INTEGER NOT NULL, \
     ended_seen_at INTEGER)",
    "CREATE TABLE IF NOT EXISTS seen (key TEXT PRIMARY KEY, at INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS tickets (ticket TEXT PRIMARY KEY, viewer TEXT NOT NULL, \
     expires_at INTEGER NOT NULL)",
];

pub struct Store {
    sql: SqlStorage,
}

/// One row as SQLite gave it, read by position: typed rows would go
/// through serde_wasm_bindgen, ~10 KB of wasm for five tiny structs.
type Row = Vec<SqlStorageValue>;

fn text(row: &Row, i: usize) -> Result<&str> {
    match row.get(i) {
        Some(SqlStorageValue::String(s)) => Ok(s),
        _ => Err(worker::Error::RustError(format!(
            "board row: column {i} is not text"
        ))),
    }
}

fn integer(row: &Row, i: usize) -> Result<u64> {
    match row.get(i) {
        Some(SqlStorageValue::Integer(n)) => Ok(u64::try_from(*n).unwrap_or(0)),
        _ => Err(worker::Error::RustError(format!(
            "board row: column {i} is not an integer"
        ))),
    }
}

fn int(value: u64) -> SqlStorageValue {
    SqlStorageValue::from(i64::try_from(value).unwrap_or(i64::MAX))
}

impl Store {
    pub fn open(sql: SqlStorage) -> Result<Self> {
        for statement in SCHEMA {
            sql.exec(statement, None)?;
        }
        crate::ledger::outbox::open(&sql)?;
        Ok(Self { sql })
    }

    /// The same storage, for the ledger's queue (`crate::ledger::outbox`).
    pub fn sql(&self) -> &SqlStorage {
        &self.sql
    }

    /// Records a delivery; false when it was already recorded (a replay).
    pub fn first_delivery(&self, key: &str, now_ms: u64) -> Result<bool> {
        let inserted = self.rows(
            "INSERT INTO seen (key, at) VALUES (?, ?) ON CONFLICT DO NOTHING RETURNING key",
            vec![key.into(), int(now_ms)],
        )?;
        Ok(!inserted.is_empty())
    }

    pub fn load(&self, call_id: &str) -> Result<Option<Tracked>> {
        let rows = self.rows(
            "SELECT body, members_at FROM calls WHERE call_id = ?",
            vec![call_id.into()],
        )?;
        let Some(row) = rows.first() else {
            return Ok(None);
        };
        let call: LiveCall = serde_json::from_str(text(row, 0)?)?;
        Ok(Some(Tracked {
            call,
            members_at: integer(row, 1)?,
        }))
    }

    /// Writes the call as it now stands; `now_ms` marks it as heard of.
    pub fn save(&self, tracked: &Tracked, now_ms: u64) -> Result<()> {
        let body = serde_json::to_string(&tracked.call)?;
        let live = i64::from(tracked.call.is_live());
        self.sql.exec(
            "INSERT INTO calls (call_id, body, members_at, live, touched_at, ended_seen_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, CASE WHEN ?4 = 1 THEN NULL ELSE ?5 END) \
             ON CONFLICT (call_id) DO UPDATE SET body = ?2, members_at = ?3, live = ?4, \
             touched_at = ?5, ended_seen_at = CASE WHEN ?4 = 1 THEN NULL \
             ELSE coalesce(ended_seen_at, ?5) END",
            vec![
                tracked.call.call_id.as_str().into(),
                body.into(),
                int(tracked.members_at),
                live.into(),
                int(now_ms),
            ],
        )?;
        Ok(())
    }

    /// Marks a call as heard of without changing it.
    pub fn touch(&self, call_id: &str, now_ms: u64) -> Result<()> {
        self.sql.exec(
            "UPDATE calls SET touched_at = ? WHERE call_id = ?",
            vec![int(now_ms), call_id.into()],
        )?;
        Ok(())
    }

    /// Every call on the board, newest first.
    pub fn calls(&self) -> Result<Vec<LiveCall>> {
        let rows = self.rows(
            "SELECT body FROM calls ORDER BY live DESC, touched_at DESC",
            Vec::new(),
        )?;
        rows.iter()
            .map(|row| Ok(serde_json::from_str(text(row, 0)?)?))
            .collect()
    }

    /// Live calls not heard of since `before_ms`, oldest first.
    pub fn quiet_calls(&self, before_ms: u64, limit: u32) -> Result<Vec<String>> {
        self.ids(
            "SELECT call_id FROM calls WHERE live = 1 AND touched_at < ? \
             ORDER BY touched_at LIMIT ?",
            vec![int(before_ms), i64::from(limit).into()],
        )
    }

    /// Ended calls the board has shown since before `before_ms`.
    pub fn ended_before(&self, before_ms: u64) -> Result<Vec<String>> {
        self.ids(
            "SELECT call_id FROM calls WHERE live = 0 AND ended_seen_at < ?",
            vec![int(before_ms)],
        )
    }

    pub fn delete(&self, call_id: &str) -> Result<()> {
        self.sql
            .exec("DELETE FROM calls WHERE call_id = ?", vec![call_id.into()])?;
        Ok(())
    }

    /// Forgets deliveries and tickets older than their windows.
    pub fn prune(&self, seen_before_ms: u64, now_ms: u64) -> Result<()> {
        self.sql
            .exec("DELETE FROM seen WHERE at < ?", vec![int(seen_before_ms)])?;
        self.sql.exec(
            "DELETE FROM tickets WHERE expires_at < ?",
            vec![int(now_ms)],
        )?;
        Ok(())
    }

    /// Whether anything is left for the alarm to look after.
    pub fn is_empty(&self) -> Result<bool> {
        let rows = self.rows(
            "SELECT (SELECT count(*) FROM calls) + (SELECT count(*) FROM seen) \
             + (SELECT count(*) FROM tickets)",
            Vec::new(),
        )?;
        Ok(rows.first().map(|row| integer(row, 0)).transpose()? == Some(0))
    }

    pub fn put_ticket(&self, ticket: &str, viewer: &Viewer, expires_ms: u64) -> Result<()> {
        self.sql.exec(
            "INSERT INTO tickets (ticket, viewer, expires_at) VALUES (?, ?, ?)",
            vec![
                ticket.into(),
                serde_json::to_string(viewer)?.into(),
                int(expires_ms),
            ],
        )?;
        Ok(())
    }

    /// The viewer a ticket was issued to, once: the ticket is gone after.
    pub fn take_ticket(&self, ticket: &str, now_ms: u64) -> Result<Option<Viewer>> {
        let rows = self.rows(
            "DELETE FROM tickets WHERE ticket = ? AND expires_at >= ? RETURNING viewer",
            vec![ticket.into(), int(now_ms)],
        )?;
        match rows.first() {
            Some(row) => Ok(Some(serde_json::from_str(text(row, 0)?)?)),
            None => Ok(None),
        }
    }

    fn ids(&self, query: &str, bindings: Vec<SqlStorageValue>) -> Result<Vec<String>> {
        let rows = self.rows(query, bindings)?;
        rows.iter()
            .map(|row| Ok(text(row, 0)?.to_owned()))
            .collect()
    }

    fn rows(&self, query: &str, bindings: Vec<SqlStorageValue>) -> Result<Vec<Row>> {
        self.sql.exec(query, bindings)?.raw().collect()
    }
}
