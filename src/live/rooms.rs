//! TRTC's room and media events on the board (docs/trtc-events.md). Each
//! event is taken once (Tencent retries a delivery with the same body for a
//! minute, and a captured one stays valid, so its key is remembered as long
//! as the receiver would accept its `EventMsTs`), applied to its room's
//! presence, and joined to the live call whose `RoomId` it names. A room no
//! call names yet is held, briefly and bounded, for a start webhook to come.
//! With the ledger on, each change of presence is also a timeline entry
//! (`crate::ledger::presence`) for the calls in the room, live or just
//! ended; a room's entries are kept as long as the room, for a call whose
//! start webhook comes after them.

use std::time::Duration;

use callkit_core::models::TrtcEvent;
use worker::{Request, Response, Result, SqlStorage, SqlStorageValue, State};

use super::store::Store;
use super::{Outcome, OUTCOME_HEADER, REPLAY_HEADER};
use crate::board::presence::{self, RoomPresence};
use crate::board::{LiveCall, Tracked};
use crate::ledger::presence as timeline;
use crate::ledger::update::{Entry, Update};

/// How far the receiver lets `EventMsTs` be from now, either way.
pub const MAX_SKEW_MS: u64 = 5 * 60 * 1000;
/// A room not heard of for this long is forgotten.
const HOLD_MS: u64 = 30 * 60 * 1000;
/// At most this many rooms are held; the quietest go first.
const MAX_ROOMS: u32 = 2_000;
/// Timeline entries kept per held room; the oldest go first.
const MAX_LOG_PER_ROOM: u32 = 256;

/// Saves a call whose room changed and sends it to the sockets that may
/// see it (the object's, which coalesces them).
pub type Publish<'a> = dyn Fn(&Tracked, u64) -> Result<()> + 'a;

const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS rooms (room_id TEXT PRIMARY KEY, \
                      body TEXT NOT NULL, updated_at INTEGER NOT NULL)";

/// The rooms' timeline entries, and the calls by room: an event finds the
/// calls in its room, ended ones too, without reading every call.
const LEDGER_SCHEMA: [&str; 3] = [
    "CREATE TABLE IF NOT EXISTS room_log (room_id TEXT NOT NULL, at INTEGER NOT NULL, \
     user_id TEXT NOT NULL, event TEXT NOT NULL, reason TEXT, \
     PRIMARY KEY (room_id, at, user_id, event)) WITHOUT ROWID",
    "CREATE INDEX IF NOT EXISTS room_log_by_at ON room_log (at)",
    "CREATE INDEX IF NOT EXISTS calls_by_room ON calls (json_extract(body, '$.roomId'))",
];

/// `POST /trtc` of the board: the receiver has proven the event. With
/// `ledger_on`, also what the ledger is to record of it.
pub async fn event(
    state: &State,
    store: &Store,
    mut req: Request,
    now_ms: u64,
    publish: &Publish<'_>,
    ledger_on: bool,
) -> Result<(Response, Vec<Update>)> {
    let key = req.headers().get(REPLAY_HEADER)?.unwrap_or_default();
    let body = req.bytes().await?;
    // The board forgets delivery keys after its replay window: kept this
    // much longer, a TRTC key outlives every `EventMsTs` the receiver takes.
    let first = store.first_delivery(&key, now_ms + 2 * MAX_SKEW_MS)?;
    let mut updates = Vec::new();
    if first {
        let event = TrtcEvent::parse(&body)?;
        let entries = apply(state, store, &event, now_ms, publish)?;
        if ledger_on && !entries.is_empty() {
            updates = record(state, store, &event.event_info.room_id, &entries)?;
        }
    }
    let what = if first {
        Outcome::Applied
    } else {
        Outcome::Replay
    };
    let headers = worker::Headers::new();
    headers.set(OUTCOME_HEADER, what.as_str())?;
    Ok((Response::empty()?.with_headers(headers), updates))
}

/// Applies the event to its room; the timeline entries of what changed.
fn apply(
    state: &State,
    store: &Store,
    event: &TrtcEvent,
    now_ms: u64,
    publish: &Publish<'_>,
) -> Result<Vec<Entry>> {
    let sql = state.storage().sql();
    sql.exec(SCHEMA, None)?;
    let room_id = &event.event_info.room_id;
    let mut people = load(&sql, room_id)?;
    let before = people.clone();
    if !presence::apply(&mut people, event) {
        return Ok(Vec::new());
    }
    save(&sql, room_id, &people, now_ms)?;
    for call_id in live_calls_in(&sql, room_id)? {
        let Some(mut tracked) = store.load(&call_id)? else {
            continue;
        };
        tracked.call.room.clone_from(&people);
        // Someone came back: no longer an empty room.
        tracked.call.room_empty &= presence::empty_since(&people).is_some();
        publish(&tracked, now_ms)?;
    }
    Ok(timeline::entries(&before, &people))
}

/// Keeps the room's new entries, and gives each call in the room (live or
/// ended) those of its time, as ledger updates.
fn record(state: &State, store: &Store, room_id: &str, entries: &[Entry]) -> Result<Vec<Update>> {
    let sql = state.storage().sql();
    for statement in LEDGER_SCHEMA {
        sql.exec(statement, None)?;
    }
    log(&sql, room_id, entries)?;
    let mut updates = Vec::new();
    for call_id in texts(
        &sql,
        "SELECT call_id FROM calls WHERE json_extract(body, '$.roomId') = ?",
        vec![room_id.into()],
    )? {
        let Some(tracked) = store.load(&call_id)? else {
            continue;
        };
        let mine = timeline::within(&tracked.call, entries);
        if !mine.is_empty() {
            updates.push(timeline::update(&tracked.call, mine));
        }
    }
    Ok(updates)
}

/// Gives a call the presence of its room, if events for it came first.
/// `None` if the call is unchanged; else the room's timeline entries of
/// the call's time, for the ledger (none with `ledger_on` false).
pub fn join(state: &State, call: &mut LiveCall, ledger_on: bool) -> Result<Option<Vec<Entry>>> {
    if call.room_id.is_empty() || !call.is_live() {
        return Ok(None);
    }
    let sql = state.storage().sql();
    sql.exec(SCHEMA, None)?;
    let people = load(&sql, &call.room_id)?;
    if people.is_empty() || people == call.room {
        return Ok(None);
    }
    call.room = people;
    if !ledger_on {
        return Ok(Some(Vec::new()));
    }
    for statement in LEDGER_SCHEMA {
        sql.exec(statement, None)?;
    }
    Ok(Some(timeline::within(call, &logged(&sql, &call.room_id)?)))
}

/// Adds a room's entries to its log, within `MAX_LOG_PER_ROOM`, and drops
/// those older than a held room.
fn log(sql: &SqlStorage, room_id: &str, entries: &[Entry]) -> Result<()> {
    let int = |n: u64| SqlStorageValue::from(i64::try_from(n).unwrap_or(i64::MAX));
    for e in entries {
        let reason = e
            .reason
            .as_deref()
            .map_or(SqlStorageValue::Null, Into::into);
        sql.exec(
            "INSERT OR IGNORE INTO room_log (room_id, at, user_id, event, reason) \
             VALUES (?, ?, ?, ?, ?)",
            vec![
                room_id.into(),
                int(e.at),
                e.user_id.as_str().into(),
                e.event.as_str().into(),
                reason,
            ],
        )?;
    }
    sql.exec(
        "DELETE FROM room_log WHERE room_id = ?1 AND at < (SELECT at FROM room_log \
         WHERE room_id = ?1 ORDER BY at DESC LIMIT 1 OFFSET ?2)",
        vec![room_id.into(), i64::from(MAX_LOG_PER_ROOM - 1).into()],
    )?;
    let oldest = entries.iter().map(|e| e.at).min().unwrap_or(0);
    sql.exec(
        "DELETE FROM room_log WHERE at < ?",
        vec![int(oldest.saturating_sub(HOLD_MS))],
    )?;
    Ok(())
}

/// A room's logged entries, oldest first.
fn logged(sql: &SqlStorage, room_id: &str) -> Result<Vec<Entry>> {
    let rows: Vec<Vec<SqlStorageValue>> = sql
        .exec(
            "SELECT at, user_id, event, reason FROM room_log WHERE room_id = ? ORDER BY at",
            vec![room_id.into()],
        )?
        .raw()
        .collect::<Result<_>>()?;
    let text = |v: &SqlStorageValue| match v {
        SqlStorageValue::String(s) => Some(s.clone()),
        _ => None,
    };
    Ok(rows
        .iter()
        .filter_map(|row| match row.as_slice() {
            [SqlStorageValue::Integer(at), user, event, reason] => Some(Entry {
                at: u64::try_from(*at).unwrap_or(0),
                user_id: text(user)?,
                event: text(event)?,
                reason: text(reason),
                source: timeline::SOURCE.to_owned(),
            }),
            _ => None,
        })
        .collect())
}

/// The alarm's part: a live call whose room has been empty for `after` is
/// flagged `roomEmpty`, and marked quiet so the reconcile that follows asks
/// Tencent about it now. The board never ends a call by itself.
pub fn flag_empty(
    state: &State,
    store: &Store,
    now_ms: u64,
    after: Duration,
    publish: &Publish<'_>,
) -> Result<()> {
    let sql = state.storage().sql();
    let flaggable = texts(
        &sql,
        "SELECT call_id FROM calls WHERE live = 1 AND json_extract(body, '$.room') IS NOT NULL \
         AND json_extract(body, '$.roomEmpty') IS NULL",
        Vec::new(),
    )?;
    let threshold = u64::try_from(after.as_millis()).unwrap_or(u64::MAX);
    for call_id in &flaggable {
        let Some(mut tracked) = store.load(call_id)? else {
            continue;
        };
        let empty_long = presence::empty_since(&tracked.call.room)
            .is_some_and(|since| now_ms.saturating_sub(since) >= threshold);
        if !empty_long {
            continue;
        }
        tracked.call.room_empty = true;
        publish(&tracked, now_ms)?;
        // Quiet now: the reconcile that follows asks Tencent about it.
        sql.exec(
            "UPDATE calls SET touched_at = 0 WHERE call_id = ?",
            vec![call_id.as_str().into()],
        )?;
    }
    Ok(())
}

fn load(sql: &SqlStorage, room_id: &str) -> Result<Vec<RoomPresence>> {
    let bodies = texts(
        sql,
        "SELECT body FROM rooms WHERE room_id = ?",
        vec![room_id.into()],
    )?;
    match bodies.first() {
        Some(body) => Ok(serde_json::from_str(body)?),
        None => Ok(Vec::new()),
    }
}

fn save(sql: &SqlStorage, room_id: &str, people: &[RoomPresence], now_ms: u64) -> Result<()> {
    let at = SqlStorageValue::from(i64::try_from(now_ms).unwrap_or(i64::MAX));
    sql.exec(
        "INSERT INTO rooms (room_id, body, updated_at) VALUES (?1, ?2, ?3) \
         ON CONFLICT (room_id) DO UPDATE SET body = ?2, updated_at = ?3",
        vec![room_id.into(), serde_json::to_string(people)?.into(), at],
    )?;
    let before = SqlStorageValue::from(i64::try_from(now_ms.saturating_sub(HOLD_MS)).unwrap_or(0));
    sql.exec("DELETE FROM rooms WHERE updated_at < ?", vec![before])?;
    sql.exec(
        "DELETE FROM rooms WHERE room_id IN (SELECT room_id FROM rooms \
         ORDER BY updated_at DESC LIMIT -1 OFFSET ?)",
        vec![i64::from(MAX_ROOMS).into()],
    )?;
    Ok(())
}

/// The live calls on the board whose `RoomId` is `room_id`.
fn live_calls_in(sql: &SqlStorage, room_id: &str) -> Result<Vec<String>> {
    texts(
        sql,
        "SELECT call_id FROM calls WHERE live = 1 AND json_extract(body, '$.roomId') = ?",
        vec![room_id.into()],
    )
}

/// The first column of each row, as text.
fn texts(sql: &SqlStorage, query: &str, bindings: Vec<SqlStorageValue>) -> Result<Vec<String>> {
    let rows: Vec<Vec<SqlStorageValue>> =
        sql.exec(query, bindings)?.raw().collect::<Result<_>>()?;
    Ok(rows
        .into_iter()
        .filter_map(|row| match row.into_iter().next() {
            Some(SqlStorageValue::String(text)) => Some(text),
            _ => None,
        })
        .collect())
}
