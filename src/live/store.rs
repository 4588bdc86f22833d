//! The board's SQLite tables in the Durable Object's storage: calls, who
//! takes part in which (to answer a member from an index), the deliveries
//! already applied (replay guard) and the socket tickets already spent.

use std::cell::Cell;

use worker::{Result, SqlStorage, SqlStorageValue};

use super::page::{Key, PageQuery};
use crate::board::{LiveCall, Summary, Tracked, Viewer};

/// The board's order, the same in every shard, the merge and the cursor
/// (`page::Key`): live first, then the call heard of last.
const BOARD_ORDER: &str = "ORDER BY live DESC, touched_at DESC, call_id DESC";

const SCHEMA: [&str; 7] = [
    "CREATE TABLE IF NOT EXISTS calls (call_id TEXT PRIMARY KEY, body TEXT NOT NULL, \
     members_at INTEGER NOT NULL, live INTEGER NOT NULL, touched_at INTEGER NOT NULL, \
     ended_seen_at INTEGER)",
    "CREATE INDEX IF NOT EXISTS calls_by_live ON calls (live, touched_at)",
    "CREATE TABLE IF NOT EXISTS call_members (user_id TEXT NOT NULL, call_id TEXT NOT NULL, \
     PRIMARY KEY (user_id, call_id)) WITHOUT ROWID",
    "CREATE INDEX IF NOT EXISTS call_members_by_call ON call_members (call_id)",
    "CREATE TABLE IF NOT EXISTS seen (key TEXT PRIMARY KEY, at INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS spent (nonce TEXT PRIMARY KEY, expires_at INTEGER NOT NULL)",
    // Tickets live in the ticket itself now (edge-signed); the old table goes.
    "DROP TABLE IF EXISTS tickets",
];

/// Who takes part in a call, from its stored JSON: its members and caller.
/// `{calls}` is `calls` filtered: one call (through its key, never a scan on
/// the webhook path), or all of them for a board stored before the table.
const INDEX_MEMBERS: &str = "INSERT OR IGNORE INTO call_members (user_id, call_id) \
     SELECT json_extract(m.value, '$.userId'), c.call_id FROM {calls} c, json_each(c.body, '$.members') m \
     UNION SELECT json_extract(c.body, '$.caller'), c.call_id FROM {calls} c \
     WHERE json_extract(c.body, '$.caller') IS NOT NULL";

fn index_members(calls: &str) -> String {
    INDEX_MEMBERS.replace("{calls}", calls)
}

pub struct Store {
    sql: SqlStorage,
    /// The admins' counts (over every call), kept until a call is saved or
    /// deleted: each page of `GET /live/calls` and each socket's snapshot
    /// carries them, and counting reads every call's JSON.
    all_calls: Cell<Option<Summary>>,
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

/// The `WHERE` that keeps a member to their calls; `?1` is `viewer_binding`.
fn visible_to(viewer: &Viewer) -> &'static str {
    if viewer.is_admin {
        "WHERE ?1 IS NULL"
    } else {
        "WHERE call_id IN (SELECT call_id FROM call_members WHERE user_id = ?1)"
    }
}

/// The member's id, or NULL for an admin.
fn viewer_binding(viewer: &Viewer) -> Vec<SqlStorageValue> {
    vec![if viewer.is_admin {
        SqlStorageValue::Null
    } else {
        viewer.user_id.as_str().into()
    }]
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
        let store = Self {
            sql,
            all_calls: Cell::default(),
        };
        let unindexed = store.rows(
            "SELECT 1 FROM calls WHERE NOT EXISTS (SELECT 1 FROM call_members) LIMIT 1",
            Vec::new(),
        )?;
        if !unindexed.is_empty() {
            store.sql.exec(&index_members("calls"), None)?;
        }
        Ok(store)
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
    /// `reindex`: who takes part changed, so `call_members` is rewritten
    /// (most events change a status, not the people).
    pub fn save(&self, tracked: &Tracked, now_ms: u64, reindex: bool) -> Result<()> {
        self.all_calls.set(None);
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
        if !reindex {
            return Ok(());
        }
        let id: SqlStorageValue = tracked.call.call_id.as_str().into();
        self.sql.exec(
            "DELETE FROM call_members WHERE call_id = ?",
            vec![id.clone()],
        )?;
        self.sql.exec(
            &index_members("(SELECT call_id, body FROM calls WHERE call_id = ?1)"),
            vec![id],
        )?;
        Ok(())
    }

    /// Calls on the board: live ones, and ended ones not yet forgotten.
    pub fn count(&self) -> Result<u64> {
        let rows = self.rows("SELECT count(*) FROM calls", Vec::new())?;
        rows.first().map_or(Ok(0), |row| integer(row, 0))
    }

    /// Marks a call as heard of without changing it.
    pub fn touch(&self, call_id: &str, now_ms: u64) -> Result<()> {
        self.sql.exec(
            "UPDATE calls SET touched_at = ? WHERE call_id = ?",
            vec![int(now_ms), call_id.into()],
        )?;
        Ok(())
    }

    /// The calls `viewer` may see, live first, newest first, the first
    /// `limit` of them: an admin's are all, a member's come from the
    /// `call_members` index, not a scan.
    pub fn calls_for(&self, viewer: &Viewer, limit: Option<u32>) -> Result<Vec<LiveCall>> {
        let mut bindings = viewer_binding(viewer);
        bindings.push(i64::from(limit.unwrap_or(u32::MAX)).into());
        let rows = self.rows(
            &format!(
                "SELECT body FROM calls {} {BOARD_ORDER} LIMIT ?2",
                visible_to(viewer)
            ),
            bindings,
        )?;
        rows.iter()
            .map(|row| Ok(serde_json::from_str(text(row, 0)?)?))
            .collect()
    }

    /// A page of the calls `viewer` may see, filtered, in the board's order,
    /// each as stored with its key. The filters go through indexes: the
    /// member index for `user`, the key for `callId`.
    pub fn page_for(&self, viewer: &Viewer, query: &PageQuery) -> Result<Vec<(String, Key)>> {
        let after = query.after.as_ref();
        let mut bindings = viewer_binding(viewer);
        let optional = |v: Option<&String>| v.map_or(SqlStorageValue::Null, |s| s.as_str().into());
        bindings.extend([
            optional(query.user.as_ref()),
            optional(query.call_id.as_ref()),
            after.map_or(SqlStorageValue::Null, |k| i64::from(k.0).into()),
            after.map_or(SqlStorageValue::Null, |k| int(k.1)),
            optional(after.map(|k| &k.2)),
            i64::from(query.limit).into(),
        ]);
        let rows = self.rows(
            &format!(
                "SELECT body, live, touched_at, call_id FROM calls {} \
                 AND (?2 IS NULL OR call_id IN (SELECT call_id FROM call_members WHERE user_id = ?2)) \
                 AND (?3 IS NULL OR call_id = ?3) \
                 AND (?4 IS NULL OR (live, touched_at, call_id) < (?4, ?5, ?6)) \
                 {BOARD_ORDER} LIMIT ?7",
                visible_to(viewer)
            ),
            bindings,
        )?;
        rows.iter()
            .map(|row| {
                let live = u8::from(integer(row, 1)? != 0);
                let key = Key(live, integer(row, 2)?, text(row, 3)?.to_owned());
                Ok((text(row, 0)?.to_owned(), key))
            })
            .collect()
    }

    /// Counts over every call `viewer` may see.
    pub fn summary_for(&self, viewer: &Viewer) -> Result<Summary> {
        if let (true, Some(kept)) = (viewer.is_admin, self.all_calls.get()) {
            return Ok(kept);
        }
        let summary = self.count_for(viewer)?;
        if viewer.is_admin {
            self.all_calls.set(Some(summary));
        }
        Ok(summary)
    }

    fn count_for(&self, viewer: &Viewer) -> Result<Summary> {
        let rows = self.rows(
            &format!(
                "SELECT count(*), coalesce(sum(live), 0), \
                 coalesce(sum(json_extract(body, '$.mediaType') = 'Audio'), 0), \
                 coalesce(sum(json_extract(body, '$.mediaType') = 'Video'), 0) FROM calls {}",
                visible_to(viewer)
            ),
            viewer_binding(viewer),
        )?;
        let Some(row) = rows.first() else {
            return Ok(Summary::default());
        };
        let (total, live) = (integer(row, 0)?, integer(row, 1)?);
        Ok(Summary {
            total,
            live,
            ended: total.saturating_sub(live),
            audio: integer(row, 2)?,
            video: integer(row, 3)?,
        })
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
        self.all_calls.set(None);
        self.sql
            .exec("DELETE FROM calls WHERE call_id = ?", vec![call_id.into()])?;
        self.sql.exec(
            "DELETE FROM call_members WHERE call_id = ?",
            vec![call_id.into()],
        )?;
        Ok(())
    }

    /// Forgets deliveries and tickets older than their windows.
    pub fn prune(&self, seen_before_ms: u64, now_ms: u64) -> Result<()> {
        self.sql
            .exec("DELETE FROM seen WHERE at < ?", vec![int(seen_before_ms)])?;
        self.sql
            .exec("DELETE FROM spent WHERE expires_at < ?", vec![int(now_ms)])?;
        Ok(())
    }

    /// Whether anything is left for the alarm to look after.
    pub fn is_empty(&self) -> Result<bool> {
        let rows = self.rows(
            "SELECT (SELECT count(*) FROM calls) + (SELECT count(*) FROM seen) \
             + (SELECT count(*) FROM spent)",
            Vec::new(),
        )?;
        Ok(rows.first().map(|row| integer(row, 0)).transpose()? == Some(0))
    }

    /// Spends a ticket's nonce; false when it was spent before.
    pub fn spend(&self, nonce: &str, expires_ms: u64) -> Result<bool> {
        let inserted = self.rows(
            "INSERT INTO spent (nonce, expires_at) VALUES (?, ?) ON CONFLICT DO NOTHING RETURNING nonce",
            vec![nonce.into(), int(expires_ms)],
        )?;
        Ok(!inserted.is_empty())
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
