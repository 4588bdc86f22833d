//! The alarm's work: ask Tencent about calls gone quiet (an end webhook can
//! be lost), forget calls ended long enough ago, and expire replay records
//! and spent tickets. The checks scale with the backlog: as many as the
//! shard's share of the app's request budget allows until the next alarm,
//! a few at a time and paced.

use std::time::Duration;

use crate::platform::join_all::join_all;
use worker::{console_log, Delay, Result, State};

use super::sockets;
use super::store::Store;
use super::REPLAY_WINDOW_MS;
use crate::board::{EndedBy, Message};
use crate::ledger::{outbox, Update};
use callkit_core::client::{Client, Runtime, Transport};

use crate::platform::live_config::LiveConfig;

/// Tencent's "the call does not exist or has already ended".
const CALL_ENDED: i64 = 101_004;
/// Of Tencent's 200 requests/s per app, what reconcile may use: half, so
/// the edge API keeps the rest. Split evenly over the shards.
const APP_CHECKS_PER_SEC: u64 = 100;
/// Checks in flight at once.
const PARALLEL: usize = 8;

/// One shard's checks per second.
fn checks_per_sec(live: &LiveConfig) -> u64 {
    (APP_CHECKS_PER_SEC / u64::from(live.shards.max(1))).max(1)
}

/// How many quiet calls one alarm may check: what the shard's rate allows
/// until the next alarm.
pub fn checks_per_alarm(live: &LiveConfig) -> u32 {
    let secs = super::alarm_interval_ms(live) / 1000;
    u32::try_from(checks_per_sec(live) * secs.max(1)).unwrap_or(u32::MAX)
}

pub async fn run<T: Transport, R: Runtime>(
    state: &State,
    store: &Store,
    client: &Client<T, R>,
    live: &LiveConfig,
    ledger_on: bool,
    now_ms: u64,
) -> Result<()> {
    let quiet_since = now_ms.saturating_sub(millis(live.reconcile_after));
    let quiet = store.quiet_calls(quiet_since, checks_per_alarm(live))?;
    let per_sec = checks_per_sec(live);
    for batch in quiet.chunks(PARALLEL) {
        let started = js_sys::Date::now();
        let checks = batch
            .iter()
            .map(|id| check(state, store, client, id, ledger_on, now_ms));
        join_all(checks)
            .await
            .into_iter()
            .collect::<Result<Vec<()>>>()?;
        // Paced: a batch of n takes at least n / per_sec seconds.
        let least_ms = batch.len() as u64 * 1000 / per_sec;
        let spent_ms = (js_sys::Date::now() - started).max(0.0) as u64;
        if spent_ms < least_ms {
            Delay::from(Duration::from_millis(least_ms - spent_ms)).await;
        }
    }
    let shown_since = now_ms.saturating_sub(millis(live.keep_ended));
    for call_id in store.ended_before(shown_since)? {
        forget(state, store, &call_id)?;
    }
    store.prune(now_ms.saturating_sub(REPLAY_WINDOW_MS), now_ms)
}

async fn check<T: Transport, R: Runtime>(
    state: &State,
    store: &Store,
    client: &Client<T, R>,
    call_id: &str,
    ledger_on: bool,
    now_ms: u64,
) -> Result<()> {
    match client.calls().info(call_id).await {
        Err(e) if e.api_code() == Some(CALL_ENDED) => {
            let Some(mut tracked) = store.load(call_id)? else {
                return Ok(());
            };
            let before = tracked.clone();
            tracked.call.end(now_ms, EndedBy::Reconcile);
            // Ending a call changes statuses, not who takes part.
            store.save(&tracked, now_ms, false)?;
            let update = Update::from_board(Some(&before), &tracked, None);
            if ledger_on {
                outbox::push(store.sql(), &update, now_ms)?;
            }
            sockets::broadcast(
                state,
                &tracked.call,
                &Message::Call {
                    call: &tracked.call,
                },
            );
            Ok(())
        }
        Err(e) => {
            // Asked again after another quiet period, not at every alarm.
            console_log!(
                "{}",
                serde_json::json!({"kind": "board", "reconcile": "failed", "callId": call_id, "detail": e.to_string()})
            );
            store.touch(call_id, now_ms)
        }
        Ok(_) => store.touch(call_id, now_ms),
    }
}

fn forget(state: &State, store: &Store, call_id: &str) -> Result<()> {
    if let Some(tracked) = store.load(call_id)? {
        store.delete(call_id)?;
        sockets::broadcast(state, &tracked.call, &Message::Removed { call_id });
    }
    Ok(())
}

pub fn millis(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn live(reconcile: u64, shards: u16) -> LiveConfig {
        LiveConfig::for_tests(reconcile, 600, shards)
    }

    #[test]
    fn checks_scale_with_the_interval_within_the_app_budget() {
        // One shard, an alarm a minute: up to 100/s for 60 s.
        assert_eq!(checks_per_alarm(&live(120, 1)), 6_000);
        // Four shards share the budget: together still 100/s.
        assert_eq!(checks_per_alarm(&live(120, 4)), 1_500);
        // Alarms every second (2 s quiet period): 100 per alarm, not 20.
        assert_eq!(checks_per_alarm(&live(2, 1)), 100);
        assert_eq!(checks_per_alarm(&live(2, 64)), 1);
    }
}
