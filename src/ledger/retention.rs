//! `HISTORY_RETENTION_DAYS`: the Cron Trigger's pruning of calls older than
//! the retention, with their members and timeline, in bounded batches.

use worker::{console_log, Env};

use super::config::LedgerConfig;
use super::db::{int, Ledger, Result};
use super::log::Line;

/// Calls per batch, and batches per run: a run ends in bounded time, and
/// the next trigger goes on where it stopped.
const CALLS_PER_BATCH: u64 = 500;
const BATCHES_PER_RUN: u32 = 20;

const OLDEST: &str = "SELECT call_id FROM calls WHERE started_at < ?1 ORDER BY started_at LIMIT ?2";

pub(crate) fn statements() -> [String; 3] {
    [
        format!("DELETE FROM timeline WHERE call_id IN ({OLDEST})"),
        format!("DELETE FROM members WHERE call_id IN ({OLDEST})"),
        // RETURNING: the calls deleted, whatever the rollup's triggers wrote.
        format!("DELETE FROM calls WHERE call_id IN ({OLDEST}) RETURNING call_id"),
    ]
}

/// Deletes what is past the retention at `now_ms`; the calls deleted.
pub async fn prune(env: &Env, config: &LedgerConfig, now_ms: u64) -> Result<u64> {
    let ledger = Ledger::open(env)?;
    let before = int(config.window_start(now_ms));
    let mut pruned = 0;
    for _ in 0..BATCHES_PER_RUN {
        let batch = statements()
            .iter()
            .map(|sql| ledger.statement(sql, &[before.clone(), int(CALLS_PER_BATCH)]))
            .collect::<Result<Vec<_>>>()?;
        let changed = ledger.batch(batch).await?;
        let calls = changed.last().copied().unwrap_or(0) as u64;
        pruned += calls;
        if calls < CALLS_PER_BATCH {
            break;
        }
    }
    let line = Line {
        pruned: Some(pruned),
        retention_days: Some(config.retention_days),
        ..Line::new("retention")
    };
    console_log!("{}", line.to_json());
    Ok(pruned)
}
