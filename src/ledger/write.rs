//! Merges a batch of queued updates into D1 with three statements, whatever
//! the batch's size: the batch is one JSON array parameter, which SQLite's
//! `json_each` unpacks. First the timeline rows (each kept only if the
//! call's end, as it stood before this batch, does not rule it out), then
//! the calls (each fact replaced only by a source that outranks the one
//! that set it, so order, duplicates and replays never move it back), then
//! the member rows.

use worker::D1PreparedStatement;

use super::db::{text, Ledger, Result};

/// A field of one update of the batch.
fn field(name: &str) -> String {
    format!("json_extract(batch.value, '$.{name}')")
}

/// A fact of the update wins over the stored one only with a higher rank.
fn fact(column: &str) -> String {
    format!(
        "{column} = CASE WHEN excluded.fact_rank > fact_rank \
         THEN coalesce(excluded.{column}, {column}) ELSE coalesce({column}, excluded.{column}) END"
    )
}

pub(crate) fn upsert_calls() -> String {
    let columns = [
        "call_id",
        "caller",
        "media_type",
        "call_type",
        "result",
        "started_at",
        "accepted_at",
        "ended_at",
        "room_id",
        "group_id",
        "fact_rank",
        "start_src",
        "end_rank",
        "record_src",
    ];
    let values: Vec<String> = columns.iter().map(|c| field(c)).collect();
    let facts: Vec<String> = [
        "caller",
        "media_type",
        "call_type",
        "result",
        "accepted_at",
        "ended_at",
    ]
    .iter()
    .map(|c| fact(c))
    .collect();
    format!(
        "INSERT INTO calls ({}) SELECT {} FROM json_each(?1) AS batch WHERE true \
         ON CONFLICT (call_id) DO UPDATE SET {}, \
         started_at = min(started_at, excluded.started_at), \
         room_id = CASE WHEN room_id = '' THEN excluded.room_id ELSE room_id END, \
         group_id = CASE WHEN group_id = '' THEN excluded.group_id ELSE group_id END, \
         fact_rank = max(fact_rank, excluded.fact_rank), \
         start_src = CASE WHEN start_src = 'webhook' THEN start_src ELSE excluded.start_src END, \
         end_rank = max(end_rank, excluded.end_rank), \
         record_src = coalesce(record_src, excluded.record_src)",
        columns.join(", "),
        values.join(", "),
        facts.join(", ")
    )
}

/// A webhook's entry is dropped once an end webhook was applied (rank 3);
/// a record's once the call is known at all (its webhooks tell more); a
/// TRTC room entry never (end ranks stop at 3): exits follow the end.
pub(crate) fn insert_timeline() -> String {
    let entry = |name: &str| format!("json_extract(entry.value, '$.{name}')");
    format!(
        "INSERT OR IGNORE INTO timeline (call_id, at, user_id, event, reason, source) \
         SELECT {call}, {at}, {user}, {event}, {reason}, {source} \
         FROM json_each(?1) AS batch, json_each(batch.value, '$.timeline') AS entry \
         WHERE NOT EXISTS (SELECT 1 FROM calls c WHERE c.call_id = {call} \
         AND c.end_rank >= CASE {source} WHEN 'record' THEN 0 WHEN 'trtc' THEN 4 ELSE 3 END)",
        call = field("call_id"),
        at = entry("at"),
        user = entry("user_id"),
        event = entry("event"),
        reason = entry("reason"),
        source = entry("source"),
    )
}

pub(crate) fn insert_members() -> String {
    format!(
        "INSERT INTO members (call_id, user_id, started_at) \
         SELECT c.call_id, member.value, c.started_at \
         FROM json_each(?1) AS batch, json_each(batch.value, '$.members') AS member \
         JOIN calls c ON c.call_id = {} WHERE true \
         ON CONFLICT (call_id, user_id) DO NOTHING",
        field("call_id")
    )
}

/// The three statements that merge `batch`, a JSON array of updates.
pub fn statements(ledger: &Ledger, batch: &str) -> Result<Vec<D1PreparedStatement>> {
    [insert_timeline(), upsert_calls(), insert_members()]
        .iter()
        .map(|sql| ledger.statement(sql, &[text(batch)]))
        .collect()
}

/// Merges `batch` (a JSON array of updates) as one D1 batch: all or
/// nothing. The number of statements written.
pub async fn merge(ledger: &Ledger, batch: &str) -> Result<usize> {
    let statements = statements(ledger, batch)?;
    let count = statements.len();
    ledger.batch(statements).await?;
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_statement_takes_the_batch_as_its_one_parameter() {
        for sql in [insert_timeline(), upsert_calls(), insert_members()] {
            assert_eq!(sql.matches('?').count(), 1, "{sql}");
            assert!(sql.contains("json_each(?1) AS batch"), "{sql}");
        }
        assert!(upsert_calls().contains(
            "result = CASE WHEN excluded.fact_rank > fact_rank THEN coalesce(excluded.result, result) \
             ELSE coalesce(result, excluded.result) END"
        ));
    }
}
