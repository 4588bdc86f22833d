//! `DELETE /api/v1/history/users/{userId}`: erasure (GDPR Art. 17). The
//! user's member rows and timeline entries go; calls they placed keep an
//! anonymous caller, so the other members' history stays whole.

use serde::Serialize;

use super::db::{text, Ledger, Result};
use super::view::ERASED;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Erased {
    pub user_id: String,
    pub calls: usize,
    pub members: usize,
    pub timeline: usize,
    pub callers: usize,
}

/// Each statement finds the user's rows through an index, in one batch.
pub const STATEMENTS: [&str; 3] = [
    "UPDATE calls SET caller = ?2 WHERE call_id IN \
     (SELECT call_id FROM members WHERE user_id = ?1) AND caller = ?1",
    "DELETE FROM timeline WHERE user_id = ?1",
    // RETURNING: D1's change count also counts the rows the stats
    // rollup's triggers write; the rows returned are the members deleted.
    "DELETE FROM members WHERE user_id = ?1 RETURNING call_id",
];

pub async fn erase(ledger: &Ledger, user_id: &str) -> Result<Erased> {
    let callers = ledger.statement(STATEMENTS[0], &[text(user_id), text(ERASED)])?;
    let timeline = ledger.statement(STATEMENTS[1], &[text(user_id)])?;
    let members = ledger.statement(STATEMENTS[2], &[text(user_id)])?;
    let changed = ledger.batch(vec![callers, timeline, members]).await?;
    let count = |i: usize| changed.get(i).copied().unwrap_or(0);
    Ok(Erased {
        user_id: user_id.to_owned(),
        calls: count(2),
        members: count(2),
        timeline: count(1),
        callers: count(0),
    })
}
