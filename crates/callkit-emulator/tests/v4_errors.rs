//! Every refusal path of `/v4/`, over HTTP, in the server's order.

mod common;

use callkit_core::usersig::mint_now;
use callkit_emulator::config::{DEMO_KEY, DEMO_SDKAPPID};
use common::*;
use hyper::Method;
use serde_json::json;

const INFO: &str = "/v4/call_engine_http_srv/get_call_info";
const BODY: &str = r#"{"CallId":"055662e1-bc8a-469c-a334-1126c8c17d58"}"#;

fn is_request_id(s: &str) -> bool {
    let Some((hex, seq)) = s.strip_prefix("Id-").and_then(|r| r.split_once("-O-Seq-")) else {
        return false;
    };
    hex.len() == 32
        && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        && !seq.is_empty()
        && seq.bytes().all(|b| b.is_ascii_digit())
}

/// Asserts HTTP 200, a FAIL envelope with `code`, and a well-formed RequestId.
fn assert_fail(reply: &Reply, code: i64) {
    assert_eq!(reply.status, 200);
    assert_eq!(reply.content_type, "application/json");
    let v = reply.json();
    assert_eq!(v["ErrorCode"], code, "{v}");
    assert_eq!(v["ActionStatus"], "FAIL");
    assert!(!v["ErrorInfo"].as_str().unwrap_or_default().is_empty());
    assert!(
        is_request_id(v["RequestId"].as_str().unwrap_or_default()),
        "{v}"
    );
    assert!(v.get("Response").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn routing_and_query_checks() {
    let h = Harness::start().await;
    let q = query();

    let get = h
        .send(Method::GET, &format!("{INFO}?{q}"), "")
        .await
        .expect("answer");
    assert_fail(&get, 60002);
    assert_fail(
        &h.post(&format!("/v4/call_engine_http_srv/kick?{q}"), BODY)
            .await,
        60009,
    );
    assert_fail(
        &h.post(&format!("/v4/call_config/get_call_info?{q}"), BODY)
            .await,
        60009,
    );

    let sig = admin_sig();
    let cases = [
        (
            format!("identifier={ADMIN}&usersig={sig}&random=1&contenttype=json"),
            60012,
        ),
        (query_for_raw("abc", ADMIN, &sig, "1", "json"), 60006),
        (query_for_raw("1399999999", ADMIN, &sig, "1", "json"), 60006),
        (query_for_raw("1400000000", ADMIN, &sig, "1", "xml"), 60002),
        (
            format!("sdkappid=1400000000&identifier={ADMIN}&usersig={sig}&random=1"),
            60002,
        ),
        (
            query_for_raw("1400000000", ADMIN, &sig, "4294967296", "json"),
            60002,
        ),
        (
            query_for_raw("1400000000", ADMIN, &sig, "abc", "json"),
            60002,
        ),
        (
            format!("sdkappid=1400000000&identifier={ADMIN}&usersig={sig}&contenttype=json"),
            60002,
        ),
        (
            query_for_raw("1400000000", "alice", &sig, "1", "json"),
            60010,
        ),
        (
            format!("sdkappid=1400000000&usersig={sig}&random=1&contenttype=json"),
            60010,
        ),
    ];
    for (q, code) in cases {
        let r = h.post(&format!("{INFO}?{q}"), BODY).await;
        assert_fail(&r, code);
    }
    // The upper bound of random is still valid.
    let r = h
        .post(
            &format!(
                "{INFO}?{}",
                query_for_raw("1400000000", ADMIN, &sig, "4294967295", "json")
            ),
            BODY,
        )
        .await;
    assert_fail(&r, 101004);
}

fn query_for_raw(sdkappid: &str, identifier: &str, sig: &str, random: &str, ct: &str) -> String {
    format!("sdkappid={sdkappid}&identifier={identifier}&usersig={sig}&random={random}&contenttype={ct}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn usersig_checks() {
    let h = Harness::start().await;
    let now = now_secs();
    let post = |q: String| {
        let h = &h;
        async move { h.post(&format!("{INFO}?{q}"), BODY).await }
    };
    let expired = mint_now(DEMO_KEY, DEMO_SDKAPPID, ADMIN, 60, now - 3600);
    assert_fail(
        &post(query_for(DEMO_SDKAPPID, ADMIN, &expired)).await,
        70001,
    );
    assert_fail(
        &post(query_for(DEMO_SDKAPPID, ADMIN, "not-a-sig")).await,
        70003,
    );
    assert_fail(&post(query_for(DEMO_SDKAPPID, ADMIN, "")).await, 70003);
    let wrong_key = mint_now(OTHER_KEY, DEMO_SDKAPPID, ADMIN, 3600, now);
    assert_fail(
        &post(query_for(DEMO_SDKAPPID, ADMIN, &wrong_key)).await,
        70009,
    );
    // Another admin's sig: the identifier inside differs from the query's.
    let admin2 = mint_now(OTHER_KEY, OTHER_APP, "admin2", 3600, now);
    assert_fail(&post(query_for(OTHER_APP, "ops", &admin2)).await, 70013);
    // The demo app's sig sent for another app.
    assert_fail(
        &post(query_for(OTHER_APP, ADMIN, &admin_sig())).await,
        60010,
    );
    let demo_for_ops = mint_now(DEMO_KEY, DEMO_SDKAPPID, "ops", 3600, now);
    assert_fail(
        &post(query_for(OTHER_APP, "ops", &demo_for_ops)).await,
        70014,
    );
    // The other app works with its own key and admin.
    let ops = mint_now(OTHER_KEY, OTHER_APP, "ops", 3600, now);
    assert_fail(&post(query_for(OTHER_APP, "ops", &ops)).await, 101004);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limit_per_command() {
    let mut config = config();
    config.rate_limit = 2;
    let h = Harness::with(config).await;
    let q = query();
    for _ in 0..2 {
        assert_fail(&h.post(&format!("{INFO}?{q}"), BODY).await, 101004);
    }
    assert_fail(&h.post(&format!("{INFO}?{q}"), BODY).await, 60007);
    // Another command has its own budget.
    assert_fail(
        &h.post(&format!("/v4/call_config/get_callback?{q}"), "{}")
            .await,
        100301,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn body_checks() {
    let h = Harness::start().await;
    let q = query();
    assert_fail(&h.post(&format!("{INFO}?{q}"), "").await, 60003);
    assert_fail(&h.post(&format!("{INFO}?{q}"), "  \n").await, 60003);
    assert_fail(&h.post(&format!("{INFO}?{q}"), "{\"CallId\":").await, 60003);
    assert_fail(&h.post(&format!("{INFO}?{q}"), "not json").await, 60003);
    // Well-formed JSON with missing or mistyped fields.
    assert_fail(
        &h.v4("call_engine_http_srv/get_call_info", json!({})).await,
        101002,
    );
    assert_fail(
        &h.v4("call_engine_http_srv/get_call_info", json!({"CallId": 7}))
            .await,
        101002,
    );
    assert_fail(
        &h.v4("call_engine_http_srv/get_call_info", json!({"CallId": ""}))
            .await,
        101002,
    );
    assert_fail(
        &h.v4("call_engine_http_srv/end_call", json!({})).await,
        101002,
    );
    assert_fail(
        &h.v4("call_record_http_srv/get_record_by_callid", json!([]))
            .await,
        101002,
    );
    assert_fail(
        &h.v4(
            "call_record_http_srv/get_record_by_filter",
            json!({"Page": 0}),
        )
        .await,
        101002,
    );
    assert_fail(
        &h.v4(
            "call_record_http_srv/get_record_by_filter",
            json!({"Page": -1}),
        )
        .await,
        101002,
    );
    assert_fail(
        &h.v4(
            "call_record_http_srv/get_record_by_filter",
            json!({"NumberPerPage": 0}),
        )
        .await,
        101002,
    );
    assert_fail(
        &h.v4(
            "call_record_http_srv/get_record_by_filter",
            json!({"CallResult": "Exploded"}),
        )
        .await,
        101002,
    );
    assert_fail(&h.v4("call_config/set_callback", json!({})).await, 100002);
    assert_fail(
        &h.v4(
            "call_config/set_callback",
            json!({"Url": "http://x/cb", "CallbackCommandList": ["Call.Nope"]}),
        )
        .await,
        100002,
    );
    assert_fail(
        &h.v4(
            "call_config/set_callback",
            json!({"Url": "ftp://x/cb", "CallbackCommandList": []}),
        )
        .await,
        100002,
    );
    assert_fail(
        &h.v4(
            "call_config/set_callback",
            json!({"Url": "http://", "CallbackCommandList": []}),
        )
        .await,
        100002,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn not_found_codes() {
    let h = Harness::start().await;
    let id = json!({"CallId": "055662e1-bc8a-469c-a334-1126c8c17d58"});
    assert_fail(
        &h.v4("call_engine_http_srv/get_call_info", id.clone()).await,
        101004,
    );
    assert_fail(
        &h.v4("call_engine_http_srv/end_call", id.clone()).await,
        101004,
    );
    assert_fail(
        &h.v4("call_record_http_srv/get_record_by_callid", id).await,
        101050,
    );
    assert_fail(&h.v4("call_config/get_callback", json!({})).await, 100301);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_call_by_robot_validation() {
    let h = Harness::start().await;
    let base = json!({
        "Robot_Account": "bot",
        "CalleeList_Account": ["alice"],
        "Timeout": 30000,
        "UserData": "hello",
        "CallInfo": {"MediaType": "Audio"}
    });
    let with = |k: &str, v: serde_json::Value| {
        let mut b = base.clone();
        b[k] = v;
        b
    };
    let path = "call_engine_http_srv/start_call_by_robot";
    for bad in [
        with("Timeout", json!(9999)),
        with("Timeout", json!(600001)),
        with("Timeout", json!(-1)),
        with("UserData", json!("x".repeat(1001))),
        with("CalleeList_Account", json!([])),
        with("CalleeList_Account", json!(["bot"])),
        with("CalleeList_Account", json!([""])),
        with("Robot_Account", json!("")),
        with("CallInfo", json!({"MediaType": "Hologram"})),
        with("CallInfo", json!({})),
    ] {
        assert_fail(&h.v4(path, bad).await, 101002);
    }
    // The documented bounds themselves are accepted.
    for ok in [
        with("Timeout", json!(10000)),
        with("Timeout", json!(600000)),
        with("UserData", json!("x".repeat(1000))),
    ] {
        assert_eq!(h.v4(path, ok).await.code(), 0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_routes_outside_v4() {
    let h = Harness::start().await;
    assert_eq!(h.get("/").await.status, 404);
    assert_eq!(h.get("/_emulator/nope").await.status, 404);
    let r = h
        .send(Method::DELETE, "/_emulator/health", "")
        .await
        .expect("answer");
    assert_eq!(r.status, 405);
}
