//! Webhooks reach a local receiver with the documented query, bodies and,
//! with a token, a correct `Sign`.

mod common;

use common::*;
use serde_json::json;
use sha2::{Digest, Sha256};
use std::time::Duration;

const ALL: [&str; 3] = [
    "Call.CallbackAfterStartCall",
    "Call.CallbackAfterEndCall",
    "Call.CallbackAfterMemberChanged",
];

async fn configure(h: &Harness, url: &str, commands: &[&str]) {
    let r = h
        .v4(
            "call_config/set_callback",
            json!({"Url": url, "CallbackCommandList": commands}),
        )
        .await;
    assert_eq!(r.code(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rest_started_call_sends_start_and_end() {
    let h = Harness::start().await;
    let rx = Receiver::start().await;
    configure(&h, &rx.url, &ALL).await;
    let started = h
        .v4(
            "call_engine_http_srv/start_call_by_robot",
            json!({"Robot_Account": "bot", "CalleeList_Account": ["alice"], "Timeout": 60000,
                   "CallInfo": {"MediaType": "Video", "RoomId": "77"}}),
        )
        .await
        .json();
    let call_id = started["Response"]["CallId"]
        .as_str()
        .expect("id")
        .to_owned();
    let hooks = rx.wait_for(1).await;
    let start = &hooks[0];
    assert!(start.path_and_query.starts_with("/callback?"));
    assert_eq!(start.param("SdkAppid").as_deref(), Some("1400000000"));
    assert_eq!(
        start.param("CallbackCommand").as_deref(),
        Some("Call.CallbackAfterStartCall")
    );
    assert_eq!(start.param("contenttype").as_deref(), Some("json"));
    assert_eq!(start.param("ClientIP").as_deref(), Some("127.0.0.1"));
    assert_eq!(start.param("OptPlatform").as_deref(), Some("RESTAPI"));
    assert_eq!(start.param("Sign"), None);
    assert_eq!(start.body["CallbackCommand"], "Call.CallbackAfterStartCall");
    assert_eq!(start.body["CallInfo"]["CallId"], call_id.as_str());
    assert_eq!(start.body["CallInfo"]["MediaType"], "Video");
    assert_eq!(start.body["CallInfo"]["RoomIdType"], 1);
    assert_eq!(
        start.body["UserList"],
        json!([{"User_Account": "bot", "Status": "Calling"}, {"User_Account": "alice", "Status": "Waiting"}])
    );
    let event_ms = start.body["EventTime"].as_u64().expect("ms");
    assert!(event_ms / 1000 >= now_secs() - 5 && event_ms > 1_000_000_000_000);

    h.v4("call_engine_http_srv/end_call", json!({"CallId": call_id}))
        .await;
    let hooks = rx.wait_for(2).await;
    let end = &hooks[1];
    assert_eq!(
        end.param("CallbackCommand").as_deref(),
        Some("Call.CallbackAfterEndCall")
    );
    assert_eq!(end.body["CallRecord"]["CallId"], call_id.as_str());
    assert_eq!(end.body["CallRecord"]["CallResult"], "Cancel");
    assert_eq!(end.body["CallRecord"]["AcceptTime"], 0);

    // The emulator's own log shows the same deliveries with their status. It
    // is written once the receiver has answered, so the last entry may lag.
    let log = eventually(
        "both deliveries in the emulator's log",
        Duration::from_secs(5),
        || async {
            let log = h.get("/_emulator/webhooks").await.json();
            (log.as_array().map(Vec::len) == Some(2)).then_some(log)
        },
    )
    .await;
    let log = log.as_array().expect("log");
    assert_eq!(log[0]["status"], 200);
    assert_eq!(log[0]["command"], "Call.CallbackAfterStartCall");
    assert!(log[0]["url"]
        .as_str()
        .unwrap_or_default()
        .contains("OptPlatform=RESTAPI"));
    assert_eq!(log[1]["body"]["CallRecord"]["CallId"], call_id.as_str());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn control_api_moves_send_member_changed_as_web_and_only_enabled_commands() {
    let h = Harness::start().await;
    let rx = Receiver::start().await;
    configure(&h, &rx.url, &["Call.CallbackAfterMemberChanged"]).await;
    let call_id = h.new_call("alice", &["bob"]).await;
    h.control(&format!("calls/{call_id}/answer"), json!({"user": "bob"}))
        .await;
    h.control(&format!("calls/{call_id}/hangup"), json!({"user": "alice"}))
        .await;
    let hooks = rx.wait_for(2).await;
    // No stray start/end webhook: instead of sleeping, send a sentinel (another
    // call's member change) only after the hang-up's webhook arrived. The
    // hang-up's end-call webhook, had it been sent, goes out in the same
    // delivery task right after its member change, before the sentinel's
    // control request is even answered; the start-call ones were emitted
    // earlier still. So once the sentinel is in, a stray one would be too.
    let sentinel = h.new_call("carol", &["dave"]).await;
    h.control(&format!("calls/{sentinel}/answer"), json!({"user": "dave"}))
        .await;
    let hooks_now = rx.wait_for(3).await;
    assert_eq!(hooks_now.len(), 3, "{hooks_now:?}");
    assert_eq!(
        hooks_now[2].body["CallId"],
        sentinel.as_str(),
        "{hooks_now:?}"
    );
    assert_eq!(
        hooks_now[2].param("CallbackCommand").as_deref(),
        Some("Call.CallbackAfterMemberChanged")
    );
    let hooks = &hooks[..2];
    for hook in hooks {
        assert_eq!(
            hook.param("CallbackCommand").as_deref(),
            Some("Call.CallbackAfterMemberChanged")
        );
        assert_eq!(hook.param("OptPlatform").as_deref(), Some("Web"));
        assert_eq!(hook.body["CallId"], call_id.as_str());
    }
    let mut actions: Vec<String> = hooks
        .iter()
        .map(|h| {
            h.body["ChangedUserList"][0]["ActionType"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    actions.sort();
    assert_eq!(actions, vec!["Answer", "Hangup"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_adds_a_valid_sign() {
    let mut config = config();
    config.webhook_token = Some(callkit_core::secret::Secret::new("xxxxyyyy"));
    let h = Harness::with(config).await;
    let rx = Receiver::start().await;
    configure(&h, &format!("{}?tenant=7", rx.url), &ALL).await;
    h.new_call("alice", &["bob"]).await;
    let hooks = rx.wait_for(1).await;
    let hook = &hooks[0];
    assert_eq!(hook.param("tenant").as_deref(), Some("7"));
    let time = hook.param("RequestTime").expect("RequestTime");
    let t: u64 = time.parse().expect("seconds");
    assert!(t.abs_diff(now_secs()) < 60);
    let want: String = Sha256::digest(format!("xxxxyyyy{time}").as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(hook.param("Sign"), Some(want));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_receiver_is_logged_not_fatal() {
    let h = Harness::start().await;
    // A port nobody listens on.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/cb", dead.local_addr().expect("addr"));
    drop(dead);
    configure(&h, &url, &ALL).await;
    let call_id = h.new_call("alice", &["bob"]).await;
    assert_eq!(
        h.v4(
            "call_engine_http_srv/get_call_info",
            json!({"CallId": call_id})
        )
        .await
        .code(),
        0
    );
    for _ in 0..200 {
        let log = h.get("/_emulator/webhooks").await.json();
        if let Some(entry) = log.as_array().and_then(|l| l.first()) {
            assert_eq!(entry["status"], serde_json::Value::Null);
            assert!(entry["error"].as_str().is_some());
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("no log entry for the failed delivery");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn member_changed_comes_before_end_call() {
    let h = Harness::start().await;
    let rx = Receiver::start().await;
    configure(&h, &rx.url, &ALL).await;
    let call_id = h.new_call("alice", &["bob"]).await;
    h.control(&format!("calls/{call_id}/reject"), json!({"user": "bob"}))
        .await;
    let hooks = rx.wait_for(3).await;
    let position = |command: &str| {
        hooks
            .iter()
            .position(|h| h.param("CallbackCommand").as_deref() == Some(command))
            .expect(command)
    };
    assert!(position("Call.CallbackAfterMemberChanged") < position("Call.CallbackAfterEndCall"));
    let end = &hooks[position("Call.CallbackAfterEndCall")];
    assert_eq!(end.body["CallRecord"]["CallResult"], "Reject");
    assert_eq!(end.param("OptPlatform").as_deref(), Some("Web"));
    let changed = &hooks[position("Call.CallbackAfterMemberChanged")];
    assert_eq!(
        changed.body["ChangedUserList"],
        json!([{"User_Account": "bob", "ActionType": "Reject"}])
    );
}
