//! The board alarm's ledger step: queued updates go to D1 in one batch,
//! then the records due after an end are fetched (101050, "not yet", is
//! retried with backoff for a bounded time), then the backfill advances.
//! Whatever D1 refuses stays queued for the next alarm: nothing is lost.

use callkit_core::client::{Client, Runtime, Transport};
use worker::{console_log, Env, SqlStorage};

use super::db::{Ledger, Result};
use super::log::Line;
use super::update::{RecordSource, Update};
use super::{backfill, outbox, write};

/// Updates per D1 batch (a few hundred calls), and batches per alarm.
const UPDATES_PER_BATCH: u32 = 1_000;
const BATCHES_PER_DRAIN: u32 = 5;
/// Records fetched per alarm, far inside Tencent's 200/s.
const FETCHES_PER_DRAIN: u32 = 20;
/// Tencent's "the call record does not exist" (yet).
const NO_RECORD: i64 = 101_050;

/// What one drain did, for the log.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Drained {
    pub updates: usize,
    pub statements: usize,
    pub fetched: usize,
}

pub async fn run<T: Transport, R: Runtime>(
    env: &Env,
    sql: &SqlStorage,
    client: &Client<T, R>,
    now_ms: u64,
) -> Result<Drained> {
    let ledger = Ledger::open(env)?;
    let mut drained = Drained::default();
    for _ in 0..BATCHES_PER_DRAIN {
        let (batch, count, last) = outbox::take(sql, UPDATES_PER_BATCH)?;
        if count == 0 {
            break;
        }
        drained.statements += write::merge(&ledger, &batch).await?;
        // Updates queued while D1 worked have later numbers and stay.
        outbox::ack(sql, last)?;
        drained.updates += count;
        if count < UPDATES_PER_BATCH as usize {
            break;
        }
    }
    drained.fetched = fetch_records(sql, client, now_ms).await?;
    backfill::step(&ledger, sql, client, now_ms).await?;
    Ok(drained)
}

/// Asks for the records due; a fetched record is queued like any update.
async fn fetch_records<T: Transport, R: Runtime>(
    sql: &SqlStorage,
    client: &Client<T, R>,
    now_ms: u64,
) -> Result<usize> {
    let mut fetched = 0;
    for due in outbox::due_fetches(sql, now_ms, FETCHES_PER_DRAIN)? {
        match client.records().by_call_id(due.call_id.as_str()).await {
            Ok(reply) => {
                let update = Update::from_record(&reply.data.call_record, RecordSource::Fetch);
                outbox::push(sql, &update, now_ms)?;
                outbox::fetch_done(sql, &due.call_id)?;
                fetched += 1;
            }
            Err(e) if now_ms < due.give_up_at && retried(e.api_code()) => {
                outbox::retry_fetch(sql, &due.call_id, now_ms + backoff_ms(due.attempts))?;
            }
            Err(e) => {
                let line = Line {
                    call_id: Some(&due.call_id),
                    detail: Some(e.to_string()),
                    ..Line::new("record fetch gave up")
                };
                console_log!("{}", line.to_json());
                outbox::fetch_done(sql, &due.call_id)?;
            }
        }
    }
    Ok(fetched)
}

/// "Not yet", or a failure that may pass (no API code: the network).
fn retried(code: Option<i64>) -> bool {
    matches!(code, None | Some(NO_RECORD))
}

/// 2 s, 4 s, 8 s … up to a minute between asks.
pub fn backoff_ms(attempts: u32) -> u64 {
    (2_000u64 << attempts.min(5)).min(60_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_a_minute() {
        assert_eq!(backoff_ms(0), 2_000);
        assert_eq!(backoff_ms(1), 4_000);
        assert_eq!(backoff_ms(4), 32_000);
        assert_eq!(backoff_ms(5), 60_000);
        assert_eq!(backoff_ms(30), 60_000);
        assert!(retried(Some(NO_RECORD)) && retried(None) && !retried(Some(101_001)));
    }
}
