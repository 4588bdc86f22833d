//! The history page and one call with its timeline. Each is one fixed SQL
//! text with bound parameters; a missing filter binds NULL.

use serde::Serialize;
use wasm_bindgen::JsValue;

use super::db::{int, opt_text, text, Ledger, Result};
use super::filter::{encode_cursor, Cursor, ListQuery};
use super::view::{HistoryCall, SELECT_CALL};

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

pub const TIMELINE: &str = "SELECT at, user_id, event, reason, source FROM timeline \
     WHERE call_id = ?1 ORDER BY at, rowid";

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Page {
    pub calls: Vec<HistoryCall>,
    pub next_cursor: Option<String>,
    pub from: u64,
    pub to: u64,
}

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

pub fn page_sql(q: &ListQuery) -> String {
    let from = if q.user.is_some() {
        PAGE_USER
    } else {
        PAGE_ALL
    };
    format!("SELECT {SELECT_CALL} {from}")
}

pub async fn page(ledger: &Ledger, q: &ListQuery) -> Result<Page> {
    let mut page = Page {
        calls: after(ledger, q, q.cursor.as_ref(), q.limit + 1).await?,
        next_cursor: None,
        from: q.window.from,
        to: q.window.to,
    };
    if page.calls.len() > q.limit as usize {
        page.calls.truncate(q.limit as usize);
        page.next_cursor = page
            .calls
            .last()
            .map(|last| encode_cursor(&cursor_of(last), &q.fingerprint));
    }
    Ok(page)
}

pub fn cursor_of(call: &HistoryCall) -> Cursor {
    Cursor {
        started_at: call.started_at,
        call_id: call.call_id.clone(),
    }
}

/// The newest `limit` calls of `q`'s window that come after `cursor`.
pub async fn after(
    ledger: &Ledger,
    q: &ListQuery,
    cursor: Option<&Cursor>,
    limit: u32,
) -> Result<Vec<HistoryCall>> {
    if q.window.is_empty() {
        return Ok(Vec::new());
    }
    let mut upper = q.window.to - 1;
    if let Some(c) = cursor {
        upper = upper.min(c.started_at);
    }
    let rows = ledger
        .rows(&page_sql(q), &page_params(q, upper, cursor, limit))
        .await?;
    Ok(rows.iter().map(HistoryCall::from_row).collect())
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    pub at: u64,
    pub user_id: Option<String>,
    pub event: String,
    pub reason: Option<String>,
    pub source: String,
}

#[derive(Debug, Serialize)]
pub struct OneCall {
    pub call: HistoryCall,
    pub timeline: Vec<Entry>,
}

/// The call if `viewer` may see it (`None`: an admin, who sees every call).
pub async fn one(ledger: &Ledger, call_id: &str, viewer: Option<&str>) -> Result<Option<OneCall>> {
    let sql = format!("SELECT {SELECT_CALL} {ONE_CALL}");
    let rows = ledger
        .rows(&sql, &[text(call_id), opt_text(viewer)])
        .await?;
    let Some(row) = rows.first() else {
        return Ok(None);
    };
    let call = HistoryCall::from_row(row);
    let timeline = ledger
        .rows(TIMELINE, &[text(call_id)])
        .await?
        .iter()
        .map(|r| Entry {
            at: r.int(0).unwrap_or(0),
            user_id: r.text(1).filter(|u| !u.is_empty()),
            event: r.text(2).unwrap_or_default(),
            reason: r.text(3),
            source: r.text(4).unwrap_or_default(),
        })
        .collect();
    Ok(Some(OneCall { call, timeline }))
}
