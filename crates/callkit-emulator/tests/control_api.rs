//! `/_emulator/`: health, reset, seed, simulated calls, counters and faults.

mod common;

use common::*;
use hyper::Method;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const INFO: &str = "call_engine_http_srv/get_call_info";
const START: &str = "call_engine_http_srv/start_call_by_robot";

fn robot_call() -> Value {
    json!({
        "Robot_Account": "bot",
        "CalleeList_Account": ["alice", "bob"],
        "Timeout": 60000,
        "CallInfo": {"MediaType": "Video"}
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_apps_and_reset() {
    let h = Harness::start().await;
    assert_eq!(h.get("/_emulator/health").await.json(), json!({"ok": true}));
    let apps = h.get("/_emulator/apps").await.json();
    assert_eq!(apps[0]["sdkappid"], 1_400_000_000u64);
    assert_eq!(apps[0]["admins"], json!(["administrator"]));
    assert!(!apps.to_string().contains("5bd2850f"), "no keys: {apps}");

    let call_id = h.new_call("alice", &["bob"]).await;
    h.v4(INFO, json!({"CallId": call_id})).await;
    h.control("faults", json!({"kind": "html502", "count": 5}))
        .await;
    assert_eq!(h.control("reset", json!({})).await, json!({"ok": true}));
    assert_eq!(
        h.get(&format!("/_emulator/calls/{call_id}")).await.status,
        404
    );
    assert_eq!(h.counters().await["received"]["get_call_info"], 0);
    assert_eq!(h.get("/_emulator/faults").await.json(), json!([]));
    assert_eq!(h.v4(INFO, json!({"CallId": call_id})).await.code(), 101004);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_makes_records_and_live_calls_among_demo_users() {
    let h = Harness::start().await;
    let out = h.control("seed", json!({})).await;
    assert_eq!(out["records"], 50);
    let ids: Vec<String> = out["liveCalls"]
        .as_array()
        .expect("ids")
        .iter()
        .map(|v| v.as_str().expect("id").to_owned())
        .collect();
    assert_eq!(ids.len(), 3);
    let mut alice_in = 0;
    for id in &ids {
        let r = h.v4(INFO, json!({"CallId": id})).await;
        assert_eq!(r.code(), 0);
        let users = r.json()["Response"]["UserList"].to_string();
        if users.contains("\"alice\"") {
            alice_in += 1;
        }
    }
    assert!(
        (1..3).contains(&alice_in),
        "alice is in some calls, not all"
    );
    let page = h
        .v4(
            "call_record_http_srv/get_record_by_filter",
            json!({"NumberPerPage": 100}),
        )
        .await
        .json();
    assert_eq!(page["Response"]["TotalNum"], 50);
    let results: std::collections::HashSet<String> = page["Response"]["CallRecordList"]
        .as_array()
        .expect("list")
        .iter()
        .map(|r| r["CallResult"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert!(results.len() >= 5, "{results:?}");
    // Unknown apps and oversized requests are refused.
    let r = h.post("/_emulator/seed", r#"{"sdkappid": 5}"#).await;
    assert_eq!(r.status, 404);
    let r = h.post("/_emulator/seed", r#"{"records": 999999}"#).await;
    assert_eq!(r.status, 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simulated_members() {
    let h = Harness::start().await;
    let r = h
        .post(
            "/_emulator/calls",
            &json!({"caller": "alice", "callees": ["bob", "carol"], "mediaType": "Audio",
                    "groupId": "g1", "roomId": "123", "roomIdType": 1})
            .to_string(),
        )
        .await;
    assert_eq!(r.status, 200);
    let call_id = r.json()["callId"].as_str().expect("id").to_owned();
    let view = h.get(&format!("/_emulator/calls/{call_id}")).await.json();
    assert_eq!(view["state"], "ringing");
    assert_eq!(view["callType"], "MultiCall");
    assert_eq!(view["chatGroupId"], "g1");
    assert_eq!(view["roomIdType"], 1);

    let v = h
        .control(&format!("calls/{call_id}/answer"), json!({"user": "bob"}))
        .await;
    assert_eq!(v["state"], "connected");
    let v = h
        .control(&format!("calls/{call_id}/reject"), json!({"user": "carol"}))
        .await;
    assert_eq!(
        v["members"],
        json!([{"user": "alice", "status": "Calling"}, {"user": "bob", "status": "Calling"}])
    );
    // Bob cannot answer twice; strangers cannot act.
    let again = h
        .post(
            &format!("/_emulator/calls/{call_id}/answer"),
            r#"{"user":"bob"}"#,
        )
        .await;
    assert_eq!(again.status, 409);
    let stranger = h
        .post(
            &format!("/_emulator/calls/{call_id}/hangup"),
            r#"{"user":"mallory"}"#,
        )
        .await;
    assert_eq!(stranger.status, 409);

    let v = h
        .control(&format!("calls/{call_id}/hangup"), json!({"user": "bob"}))
        .await;
    assert_eq!(v["state"], "ended");
    assert_eq!(v["callResult"], "NormalEnd");
    assert_eq!(v["members"], json!([]));
    let after = h
        .post(
            &format!("/_emulator/calls/{call_id}/hangup"),
            r#"{"user":"alice"}"#,
        )
        .await;
    assert_eq!(after.status, 409);
    let rec = h
        .v4(
            "call_record_http_srv/get_record_by_callid",
            json!({"CallId": call_id}),
        )
        .await
        .json();
    assert_eq!(
        rec["Response"]["CallRecord"]["CalleeList_Account"],
        json!(["alice", "bob", "carol"])
    );

    assert_eq!(h.get("/_emulator/calls/no-such-call").await.status, 404);
    let bad = h
        .post("/_emulator/calls", r#"{"caller":"alice","callees":[]}"#)
        .await;
    assert_eq!(bad.status, 400);
    let bad = h.post("/_emulator/calls", r#"{"caller":"alice"}"#).await;
    assert_eq!(bad.status, 400);
    let bad = h
        .post(
            &format!("/_emulator/calls/{call_id}/dance"),
            r#"{"user":"bob"}"#,
        )
        .await;
    assert_eq!(bad.status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ring_timeout_from_the_control_api() {
    let h = Harness::start().await;
    let r = h
        .post(
            "/_emulator/calls",
            r#"{"caller":"alice","callees":["bob"],"mediaType":"Video","timeoutMs":100}"#,
        )
        .await;
    let call_id = r.json()["callId"].as_str().expect("id").to_owned();
    let path = format!("/_emulator/calls/{call_id}");
    let view = eventually(
        "the 100 ms ring timeout ends the call",
        Duration::from_secs(5),
        || async {
            let view = h.get(&path).await.json();
            (view["state"] == "ended").then_some(view)
        },
    )
    .await;
    assert_eq!(view["callResult"], "NotAnswer");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counters_count_received_and_succeeded() {
    let h = Harness::start().await;
    let call_id = h.new_call("alice", &["bob"]).await;
    h.v4(INFO, json!({"CallId": call_id})).await;
    h.v4(INFO, json!({"CallId": "nope"})).await;
    h.v4("call_engine_http_srv/end_call", json!({"CallId": call_id}))
        .await;
    let c = h.counters().await;
    assert_eq!(c["received"]["get_call_info"], 2);
    assert_eq!(c["succeeded"]["get_call_info"], 1);
    assert_eq!(c["received"]["end_call"], 1);
    assert_eq!(c["succeeded"]["end_call"], 1);
    assert_eq!(c["received"]["start_call_by_robot"], 0);
    assert_eq!(c["received"].as_object().map(|o| o.len()), Some(8));
    // Requests for an unknown app show in the total only.
    h.post(
        &format!("/v4/{INFO}?sdkappid=42&identifier=x&usersig=y&random=1&contenttype=json"),
        "{}",
    )
    .await;
    let total = h.get("/_emulator/counters").await.json();
    assert_eq!(total["received"]["get_call_info"], 3);
    assert_eq!(h.counters().await["received"]["get_call_info"], 2);
    assert_eq!(h.get("/_emulator/counters?sdkappid=42").await.status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fault_delay_then_normal() {
    let h = Harness::start().await;
    let call_id = h.new_call("alice", &["bob"]).await;
    // A delay far above a local round trip, so neither bound is a close call.
    let delay = Duration::from_millis(1500);
    h.control(
        "faults",
        json!({"kind": "delay", "count": 1, "delayMs": delay.as_millis() as u64}),
    )
    .await;
    let t0 = Instant::now();
    assert_eq!(h.v4(INFO, json!({"CallId": call_id})).await.code(), 0);
    assert!(t0.elapsed() >= delay, "answered after {:?}", t0.elapsed());
    // The one delay is used up: none is pending, and the next answer does not wait for it.
    assert_eq!(h.get("/_emulator/faults").await.json(), json!([]));
    let t1 = Instant::now();
    assert_eq!(h.v4(INFO, json!({"CallId": call_id})).await.code(), 0);
    assert!(t1.elapsed() < delay, "answered after {:?}", t1.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fault_html502_and_error_code() {
    let h = Harness::start().await;
    let pending = h
        .control(
            "faults",
            json!({"kind": "html502", "count": 2, "command": "get_call_info"}),
        )
        .await;
    assert_eq!(pending[0]["remaining"], 2);
    // Another command is not affected.
    assert_eq!(
        h.v4("call_config/get_callback", json!({})).await.code(),
        100301
    );
    for _ in 0..2 {
        let r = h.v4(INFO, json!({"CallId": "x"})).await;
        assert_eq!(r.status, 502);
        assert_eq!(r.content_type, "text/html");
        assert!(String::from_utf8_lossy(&r.body).contains("502 Bad Gateway"));
    }
    assert_eq!(h.v4(INFO, json!({"CallId": "x"})).await.status, 200);

    h.control(
        "faults",
        json!({"kind": "error", "count": 1, "errorCode": 60018}),
    )
    .await;
    let r = h.v4(INFO, json!({"CallId": "x"})).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.code(), 60018);
    assert_eq!(r.json()["ActionStatus"], "FAIL");
    assert_eq!(h.v4(INFO, json!({"CallId": "x"})).await.code(), 101004);

    let c = h.counters().await;
    assert_eq!(c["received"]["get_call_info"], 5);
    assert_eq!(c["succeeded"]["get_call_info"], 0);

    let bad = h.post("/_emulator/faults", r#"{"kind":"delay"}"#).await;
    assert_eq!(bad.status, 400);
    h.control("faults", json!({"kind": "html502", "count": 9}))
        .await;
    let cleared = h
        .send(Method::DELETE, "/_emulator/faults", "")
        .await
        .expect("answer");
    assert_eq!(cleared.status, 200);
    assert_eq!(h.v4(INFO, json!({"CallId": "x"})).await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fault_drop_before_execute_does_nothing() {
    let h = Harness::start().await;
    h.control(
        "faults",
        json!({"kind": "drop", "count": 1, "command": "start_call_by_robot"}),
    )
    .await;
    let q = query();
    let dropped = h
        .send(
            Method::POST,
            &format!("/v4/{START}?{q}"),
            &robot_call().to_string(),
        )
        .await;
    assert!(dropped.is_err(), "the connection closes without an answer");
    let calls = h.get("/_emulator/calls").await.json();
    assert_eq!(calls["calls"], json!([]));
    let c = h.counters().await;
    assert_eq!(c["received"]["start_call_by_robot"], 1);
    assert_eq!(c["succeeded"]["start_call_by_robot"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fault_drop_after_execute_starts_the_call_once() {
    let h = Harness::start().await;
    h.control(
        "faults",
        json!({"kind": "drop", "count": 1, "command": "start_call_by_robot", "afterExecute": true}),
    )
    .await;
    let dropped = h
        .send(
            Method::POST,
            &format!("/v4/{START}?{}", query()),
            &robot_call().to_string(),
        )
        .await;
    assert!(dropped.is_err());
    let calls = h.get("/_emulator/calls").await.json();
    let calls = calls["calls"].as_array().expect("calls");
    assert_eq!(calls.len(), 1, "the command ran although no answer came");
    assert_eq!(calls[0]["caller"], "bot");
    let c = h.counters().await;
    assert_eq!(c["received"]["start_call_by_robot"], 1);
    assert_eq!(c["succeeded"]["start_call_by_robot"], 1);
}
