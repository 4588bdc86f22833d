//! `--simulate-calls`: simulated calls reach a local receiver as real start,
//! member-changed and end webhooks, every one of them ends, and the traffic
//! stops with the server. Delays are in milliseconds here so a run is short.

mod common;

use callkit_core::secret::Secret;
use callkit_emulator::traffic::{DelayRange, SimulationConfig};
use common::*;
use serde_json::json;
use std::collections::HashSet;
use std::time::Duration;

const ALL: [&str; 3] = [
    "Call.CallbackAfterStartCall",
    "Call.CallbackAfterEndCall",
    "Call.CallbackAfterMemberChanged",
];
const START: &str = "Call.CallbackAfterStartCall";
const CHANGED: &str = "Call.CallbackAfterMemberChanged";
const END: &str = "Call.CallbackAfterEndCall";

/// A start every 50–150 ms; a call lasts at most about 1.2 s.
fn fast() -> SimulationConfig {
    SimulationConfig {
        per_minute: 600.0,
        answer_delay: DelayRange::millis(20, 250),
        talk: DelayRange::millis(50, 400),
        hangup_gap: DelayRange::millis(10, 80),
        ring_timeout: Duration::from_millis(500),
        seed: Some(7),
    }
}

async fn simulated() -> (Harness, Receiver) {
    let mut config = config();
    config.simulation = Some(fast());
    config.webhook_token = Some(Secret::new("sim-token"));
    let h = Harness::with(config).await;
    let rx = Receiver::start().await;
    let r = h
        .v4(
            "call_config/set_callback",
            json!({"Url": rx.url, "CallbackCommandList": ALL}),
        )
        .await;
    assert_eq!(r.code(), 0);
    (h, rx)
}

fn command(hook: &Hook) -> String {
    hook.param("CallbackCommand").unwrap_or_default()
}

/// The CallIds of the hooks of one command.
fn call_ids(hooks: &[Hook], which: &str) -> HashSet<String> {
    hooks
        .iter()
        .filter(|h| command(h) == which)
        .filter_map(|h| {
            let id = match which {
                START => &h.body["CallInfo"]["CallId"],
                END => &h.body["CallRecord"]["CallId"],
                _ => &h.body["CallId"],
            };
            id.as_str().map(str::to_owned)
        })
        .collect()
}

/// Every `ActionType` in the member-changed hooks.
fn actions(hooks: &[Hook]) -> Vec<String> {
    hooks
        .iter()
        .filter(|h| command(h) == CHANGED)
        .flat_map(|h| {
            h.body["ChangedUserList"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .filter_map(|m| m["ActionType"].as_str().map(str::to_owned))
        .collect()
}

fn snapshot(rx: &Receiver) -> Vec<Hook> {
    rx.hooks.lock().expect("lock").clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simulated_calls_send_start_member_changed_and_end_webhooks() {
    let (h, rx) = simulated().await;
    let started = eventually("12 simulated starts", Duration::from_secs(10), || async {
        let ids = call_ids(&snapshot(&rx), START);
        (ids.len() >= 12).then_some(ids)
    })
    .await;
    // No call is left live for ever: each one seen starting also ends.
    eventually(
        "an end for every start",
        Duration::from_secs(10),
        || async {
            let ended = call_ids(&snapshot(&rx), END);
            started.is_subset(&ended).then_some(())
        },
    )
    .await;
    let hooks = snapshot(&rx);
    let changed = call_ids(&hooks, CHANGED);
    assert!(started.iter().all(|id| changed.contains(id)), "{hooks:?}");
    let acts: HashSet<String> = actions(&hooks).into_iter().collect();
    for want in ["Answer", "Hangup"] {
        assert!(acts.contains(want), "{want} missing from {acts:?}");
    }
    assert!(
        acts.contains("Reject") || acts.contains("NotAnswer"),
        "{acts:?}"
    );
    for hook in &hooks {
        assert_eq!(hook.param("OptPlatform").as_deref(), Some("Web"));
        assert!(hook.param("Sign").is_some(), "signed like any webhook");
    }
    let first = hooks.iter().find(|h| command(h) == START).expect("a start");
    let members = first.body["UserList"].as_array().expect("members");
    assert!((2..=3).contains(&members.len()), "{members:?}");
    let live = h.get("/_emulator/calls").await.json();
    let live = live["calls"].as_array().map_or(0, Vec::len);
    assert!(live < 30, "{live} calls live at once: calls pile up");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simulation_stops_with_the_server() {
    let (h, rx) = simulated().await;
    eventually("two simulated starts", Duration::from_secs(10), || async {
        (call_ids(&snapshot(&rx), START).len() >= 2).then_some(())
    })
    .await;
    drop(h);
    let stopped = callkit_emulator::clock::now_millis();
    // Several start gaps and more than a call's answer delays: traffic that
    // went on would show by then.
    tokio::time::sleep(Duration::from_millis(800)).await;
    // Deliveries under way at the stop may still land, so no count is
    // compared: every start and every move (but a ring timeout armed before
    // the stop: NotAnswer) must be about something that happened before it.
    // The margin covers a script's step already running when it was aborted.
    let ring_timeout = |hook: &Hook| {
        actions(std::slice::from_ref(hook))
            .iter()
            .all(|a| a == "NotAnswer")
    };
    let counted =
        |hook: &Hook| command(hook) == START || (command(hook) == CHANGED && !ring_timeout(hook));
    let after_stop =
        |hook: &Hook| hook.body["EventTime"].as_u64().expect("EventTime") > stopped + 50;
    let hooks = snapshot(&rx);
    let late: Vec<String> = hooks
        .iter()
        .filter(|h| counted(h) && after_stop(h))
        .map(|h| format!("{} at {}", command(h), h.body["EventTime"]))
        .collect();
    assert!(
        late.is_empty(),
        "webhooks of events after the stop at {stopped}: {late:?}"
    );
}
