//! The alarm's work: ask Tencent about calls gone quiet (an end webhook can
//! be lost), forget calls ended long enough ago, and expire replay records
//! and tickets.

use worker::{console_log, Result, State};

use super::sockets;
use super::store::Store;
use super::REPLAY_WINDOW_MS;
use crate::board::{EndedBy, Message};
use crate::ledger::{outbox, Update};
use callkit_core::client::{Client, Runtime, Transport};

use crate::platform::live_config::LiveConfig;

/// Tencent's "the call does not exist or has already ended".
const CALL_ENDED: i64 = 101_004;
/// Keeps one alarm well inside Tencent's per-second limits.
const MAX_CHECKS_PER_ALARM: u32 = 20;

pub async fn run<T: Transport, R: Runtime>(
    state: &State,
    store: &Store,
    client: &Client<T, R>,
    live: &LiveConfig,
    now_ms: u64,
) -> Result<()> {
    let quiet_since = now_ms.saturating_sub(millis(live.reconcile_after));
    for call_id in store.quiet_calls(quiet_since, MAX_CHECKS_PER_ALARM)? {
        check(state, store, client, &call_id, now_ms).await?;
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
    now_ms: u64,
) -> Result<()> {
    match client.calls().info(call_id).await {
        Err(e) if e.api_code() == Some(CALL_ENDED) => {
            let Some(mut tracked) = store.load(call_id)? else {
                return Ok(());
            };
            let before = tracked.clone();
            tracked.call.end(now_ms, EndedBy::Reconcile);
            store.save(&tracked, now_ms)?;
            let update = Update::from_board(Some(&before), &tracked, None);
            outbox::push(store.sql(), &update, now_ms)?;
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
