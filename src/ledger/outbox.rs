//! The ledger's side of the board object's SQLite storage: updates waiting
//! for D1 (written in the same turn as the board, so none is lost when D1
//! is down), records still to fetch after an end, and the backfill's
//! progress. The board's alarm drains them (`super::drain`).

use worker::{Result, SqlStorage, SqlStorageValue};

use super::backfill::{Progress, State};
use super::update::Update;

pub const SCHEMA: [&str; 3] = [
    "CREATE TABLE IF NOT EXISTS ledger_outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, \
     body TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS ledger_fetch (call_id TEXT PRIMARY KEY, due_at INTEGER NOT NULL, \
     attempts INTEGER NOT NULL, give_up_at INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS ledger_backfill (id INTEGER PRIMARY KEY CHECK (id = 1), \
     state TEXT NOT NULL, from_ms INTEGER, to_ms INTEGER, pages INTEGER NOT NULL, \
     records INTEGER NOT NULL, added INTEGER NOT NULL, merged INTEGER NOT NULL, \
     started_at INTEGER, updated_at INTEGER, finished_at INTEGER, error TEXT)",
];

/// Tencent makes a record queryable about 5 s after the end.
pub const FIRST_FETCH_AFTER_MS: u64 = 5_000;
/// How long a record is asked for before the webhook's facts stay final.
pub const FETCH_FOR_MS: u64 = 10 * 60_000;

type Row = Vec<SqlStorageValue>;

pub fn open(sql: &SqlStorage) -> Result<()> {
    for statement in SCHEMA {
        sql.exec(statement, None)?;
    }
    Ok(())
}

fn int(value: u64) -> SqlStorageValue {
    SqlStorageValue::from(i64::try_from(value).unwrap_or(i64::MAX))
}

fn integer(row: &Row, i: usize) -> u64 {
    match row.get(i) {
        Some(SqlStorageValue::Integer(n)) => u64::try_from(*n).unwrap_or(0),
        _ => 0,
    }
}

fn text(row: &Row, i: usize) -> &str {
    match row.get(i) {
        Some(SqlStorageValue::String(s)) => s,
        _ => "",
    }
}

fn rows(sql: &SqlStorage, query: &str, bindings: Vec<SqlStorageValue>) -> Result<Vec<Row>> {
    sql.exec(query, bindings)?.raw().collect()
}

/// Queues an update; an end not from a record also queues the record's fetch.
pub fn push(sql: &SqlStorage, update: &Update, now_ms: u64) -> Result<()> {
    sql.exec(
        "INSERT INTO ledger_outbox (body) VALUES (?)",
        vec![serde_json::to_string(update)?.into()],
    )?;
    if update.is_ended() && update.record_src.is_none() {
        sql.exec(
            "INSERT INTO ledger_fetch (call_id, due_at, attempts, give_up_at) VALUES (?, ?, 0, ?) \
             ON CONFLICT DO NOTHING",
            vec![
                update.call_id.as_str().into(),
                int(now_ms + FIRST_FETCH_AFTER_MS),
                int(now_ms + FETCH_FOR_MS),
            ],
        )?;
    }
    Ok(())
}

/// The oldest `limit` updates as one JSON array (they are never parsed
/// here: D1 unpacks them), how many, and the sequence number to `ack` by.
pub fn take(sql: &SqlStorage, limit: u32) -> Result<(String, usize, u64)> {
    let rows = rows(
        sql,
        "SELECT seq, body FROM ledger_outbox ORDER BY seq LIMIT ?",
        vec![i64::from(limit).into()],
    )?;
    let last = rows.last().map_or(0, |row| integer(row, 0));
    let bodies: Vec<&str> = rows.iter().map(|row| text(row, 1)).collect();
    Ok((format!("[{}]", bodies.join(",")), rows.len(), last))
}

/// Forgets the updates D1 has taken.
pub fn ack(sql: &SqlStorage, up_to_seq: u64) -> Result<()> {
    sql.exec(
        "DELETE FROM ledger_outbox WHERE seq <= ?",
        vec![int(up_to_seq)],
    )?;
    Ok(())
}

/// A record to fetch: its call, and how often it was asked for already.
pub struct Fetch {
    pub call_id: String,
    pub attempts: u32,
    pub give_up_at: u64,
}

pub fn due_fetches(sql: &SqlStorage, now_ms: u64, limit: u32) -> Result<Vec<Fetch>> {
    let rows = rows(
        sql,
        "SELECT call_id, attempts, give_up_at FROM ledger_fetch WHERE due_at <= ? \
         ORDER BY due_at LIMIT ?",
        vec![int(now_ms), i64::from(limit).into()],
    )?;
    Ok(rows
        .iter()
        .map(|row| Fetch {
            call_id: text(row, 0).to_owned(),
            attempts: u32::try_from(integer(row, 1)).unwrap_or(u32::MAX),
            give_up_at: integer(row, 2),
        })
        .collect())
}

pub fn retry_fetch(sql: &SqlStorage, call_id: &str, due_ms: u64) -> Result<()> {
    sql.exec(
        "UPDATE ledger_fetch SET due_at = ?, attempts = attempts + 1 WHERE call_id = ?",
        vec![int(due_ms), call_id.into()],
    )?;
    Ok(())
}

pub fn fetch_done(sql: &SqlStorage, call_id: &str) -> Result<()> {
    sql.exec(
        "DELETE FROM ledger_fetch WHERE call_id = ?",
        vec![call_id.into()],
    )?;
    Ok(())
}

/// The backfill's progress, if one ever ran.
pub fn backfill(sql: &SqlStorage) -> Result<Option<Progress>> {
    let rows = rows(
        sql,
        "SELECT state, from_ms, to_ms, pages, records, added, merged, started_at, updated_at, \
         finished_at, error FROM ledger_backfill WHERE id = 1",
        Vec::new(),
    )?;
    let Some(row) = rows.first() else {
        return Ok(None);
    };
    let opt =
        |i: usize| matches!(row.get(i), Some(SqlStorageValue::Integer(_))).then(|| integer(row, i));
    Ok(Some(Progress {
        state: State::parse(text(row, 0)),
        from: opt(1),
        to: opt(2),
        pages: u32::try_from(integer(row, 3)).unwrap_or(u32::MAX),
        records: integer(row, 4),
        added: integer(row, 5),
        merged: integer(row, 6),
        started_at: opt(7),
        updated_at: opt(8),
        finished_at: opt(9),
        error: Some(text(row, 10))
            .filter(|e| !e.is_empty())
            .map(str::to_owned),
    }))
}

/// The backfill's progress as `GET /api/v1/history/backfill` answers it
/// (`Progress`'s fields in order), rendered by SQLite: idle if none ran.
pub fn backfill_json(sql: &SqlStorage) -> Result<String> {
    let rows = rows(
        sql,
        "SELECT json_object('state', state, 'from', from_ms, 'to', to_ms, 'pages', pages, \
         'records', records, 'added', added, 'merged', merged, 'startedAt', started_at, \
         'updatedAt', updated_at, 'finishedAt', finished_at, 'error', nullif(error, '')) \
         FROM ledger_backfill WHERE id = 1",
        Vec::new(),
    )?;
    Ok(match rows.first() {
        Some(row) => text(row, 0).to_owned(),
        None => IDLE.to_owned(),
    })
}

/// A backfill that never ran.
pub const IDLE: &str = "{\"state\":\"idle\",\"from\":null,\"to\":null,\"pages\":0,\"records\":0,\
\"added\":0,\"merged\":0,\"startedAt\":null,\"updatedAt\":null,\"finishedAt\":null,\"error\":null}";

pub fn save_backfill(sql: &SqlStorage, p: &Progress) -> Result<()> {
    let opt = |v: Option<u64>| v.map_or(SqlStorageValue::Null, int);
    sql.exec(
        "INSERT OR REPLACE INTO ledger_backfill (id, state, from_ms, to_ms, pages, records, added, \
         merged, started_at, updated_at, finished_at, error) VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        vec![
            p.state.as_str().into(),
            opt(p.from),
            opt(p.to),
            int(u64::from(p.pages)),
            int(p.records),
            int(p.added),
            int(p.merged),
            opt(p.started_at),
            opt(p.updated_at),
            opt(p.finished_at),
            p.error.as_deref().map_or(SqlStorageValue::Null, SqlStorageValue::from),
        ],
    )?;
    Ok(())
}

/// Whether the alarm has ledger work: updates, records, or a backfill.
pub fn pending(sql: &SqlStorage) -> Result<bool> {
    let rows = rows(
        sql,
        "SELECT (SELECT count(*) FROM ledger_outbox) + (SELECT count(*) FROM ledger_fetch) \
         + (SELECT count(*) FROM ledger_backfill WHERE state = 'running')",
        Vec::new(),
    )?;
    Ok(rows.first().is_some_and(|row| integer(row, 0) > 0))
}
