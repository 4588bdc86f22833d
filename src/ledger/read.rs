//! The history page and one call with its timeline. Each is one fixed SQL
//! text with bound parameters; a missing filter binds NULL. SQLite renders
//! each call (`super::view`); the answers are those texts joined.

use wasm_bindgen::JsValue;

use super::db::{int, opt_text, text, Ledger, Result, Row};
use super::filter::{encode_cursor, Cursor, ListQuery};
use super::view::CALL_JSON;

/// Every call of a window, newest first, from the calls' start index.
pub const PAGE_ALL: &str = "FROM calls c \
     WHERE c.started_at >= ?1 AND c.started_at <= ?2 \
     AND (?3 IS NULL OR c.started_at < ?2 OR c.call_id < ?3) \
     AND (?4 IS NULL OR c.result = ?4) AND (?5 IS NULL OR c.media_type = ?5) \
     AND (?6 IS NULL OR c.call_type = ?6) \
     ORDER BY c.started_at DESC, c.call_id DESC LIMIT ?7";

/// One user's calls, newest first, from the members' user index.
pub const PAGE_USER: &str = "FROM members m CROSS JOIN calls c ON c.call_id = m.call_id \
     WHERE m.user_id = ?8 AND m.started_at >= ?1 AND m.started_at <= ?2 \
     AND (?3 IS NULL OR m.started_at < ?2 OR m.call_id < ?3) \
     AND (?4 IS NULL OR c.result = ?4) AND (?5 IS NULL OR c.media_type = ?5) \
     AND (?6 IS NULL OR c.call_type = ?6) \
     ORDER BY m.started_at DESC, m.call_id DESC LIMIT ?7";

pub const ONE_CALL: &str = "FROM calls c WHERE c.call_id = ?1 AND (?2 IS NULL OR EXISTS \
     (SELECT 1 FROM members m WHERE m.call_id = c.call_id AND m.user_id = ?2))";

/// The call's timeline as a JSON array, oldest first.
pub const TIMELINE: &str = "SELECT json_group_array(json_object('at', at, 'userId', \
     nullif(user_id, ''), 'event', event, 'reason', reason, 'source', source) ORDER BY at, rowid) \
     FROM timeline WHERE call_id = ?1";

/// The parameters of `PAGE_ALL`/`PAGE_USER`: the newest `limit` calls at or
/// before `upper` (ms, inclusive) and after the cursor. D1 wants exactly as
/// many as the statement names.
pub fn page_params(q: &ListQuery, upper: u64, after: Option<&Cursor>, limit: u32) -> Vec<JsValue> {
    let mut params = vec![
        int(q.window.from),
        int(upper),
        opt_text(after.map(|c| c.call_id.as_str())),
        opt_text(q.result.as_deref()),
        opt_text(q.media_type.as_deref()),
        opt_text(q.call_type.as_deref()),
        int(u64::from(limit)),
    ];
    if let Some(user) = &q.user {
        params.push(text(user));
    }
    params
}

/// `columns`: how each call is rendered (`super::view`).
pub fn page_sql(q: &ListQuery, columns: &str) -> String {
    let from = if q.user.is_some() {
        PAGE_USER
    } else {
        PAGE_ALL
    };
    format!("SELECT {columns} {from}")
}

/// `GET /api/v1/history`'s answer: `{"calls","nextCursor","from","to"}`.
pub async fn page(ledger: &Ledger, q: &ListQuery) -> Result<String> {
    let mut rows = after(ledger, q, q.cursor.as_ref(), q.limit + 1, CALL_JSON).await?;
    let mut next = None;
    if rows.len() > q.limit as usize {
        rows.truncate(q.limit as usize);
        next = rows
            .last()
            .map(|last| encode_cursor(&cursor_of(last), &q.fingerprint));
    }
    let next = next.map_or("null".to_owned(), |c| format!("\"{c}\""));
    Ok(format!(
        "{{\"calls\":[{}],\"nextCursor\":{next},\"from\":{},\"to\":{}}}",
        join(&rows, ","),
        q.window.from,
        q.window.to
    ))
}

/// The rendered calls (each row's first column) with `separator` between.
pub fn join(rows: &[Row], separator: &str) -> String {
    let mut out = String::new();
    for (i, row) in rows.iter().enumerate() {
        if i > 0 {
            out.push_str(separator);
        }
        out.push_str(&row.text(0).unwrap_or_default());
    }
    out
}

/// The keyset of a rendered call: its last two columns.
pub fn cursor_of(row: &Row) -> Cursor {
    Cursor {
        started_at: row.int(1).unwrap_or(0),
        call_id: row.text(2).unwrap_or_default(),
    }
}

/// The newest `limit` calls of `q`'s window that come after `cursor`,
/// rendered as `columns` says.
pub async fn after(
    ledger: &Ledger,
    q: &ListQuery,
    cursor: Option<&Cursor>,
    limit: u32,
    columns: &str,
) -> Result<Vec<Row>> {
    if q.window.is_empty() {
        return Ok(Vec::new());
    }
    let mut upper = q.window.to - 1;
    if let Some(c) = cursor {
        upper = upper.min(c.started_at);
    }
    ledger
        .rows(&page_sql(q, columns), &page_params(q, upper, cursor, limit))
        .await
}

/// `GET /api/v1/history/{callId}`'s answer, `{"call","timeline"}`, if
/// `viewer` may see the call (`None`: an admin, who sees every call).
pub async fn one(ledger: &Ledger, call_id: &str, viewer: Option<&str>) -> Result<Option<String>> {
    let sql = format!("SELECT {CALL_JSON} {ONE_CALL}");
    let rows = ledger
        .rows(&sql, &[text(call_id), opt_text(viewer)])
        .await?;
    let Some(call) = rows.first().and_then(|row| row.text(0)) else {
        return Ok(None);
    };
    let timeline = ledger.rows(TIMELINE, &[text(call_id)]).await?;
    Ok(Some(format!(
        "{{\"call\":{call},\"timeline\":{}}}",
        join(&timeline, ",")
    )))
}
