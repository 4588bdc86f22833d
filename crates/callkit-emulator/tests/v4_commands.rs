//! The success path of all eight commands, and the call/record life cycle.

mod common;

use common::*;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

fn response(reply: &Reply) -> Value {
    let v = reply.json();
    assert_eq!(v["ErrorCode"], 0, "{v}");
    assert_eq!(v["ActionStatus"], "OK");
    assert_eq!(v["ErrorInfo"], "");
    v["Response"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callback_configuration_round_trip() {
    let h = Harness::start().await;
    let set = h
        .v4(
            "call_config/set_callback",
            json!({"Url": "http://example.com/cb", "CallbackCommandList": ["Call.CallbackAfterStartCall"]}),
        )
        .await;
    assert_eq!(response(&set), Value::Null, "envelope only");
    // Overwrite.
    let set = h
        .v4(
            "call_config/set_callback",
            json!({"Url": "https://example.com/cb2", "CallbackCommandList": [
                "Call.CallbackAfterStartCall", "Call.CallbackAfterEndCall", "Call.CallbackAfterEndCall"
            ]}),
        )
        .await;
    assert_eq!(set.code(), 0);
    let got = response(&h.v4("call_config/get_callback", json!({})).await);
    assert_eq!(
        got,
        json!({"Url": "https://example.com/cb2", "CallbackCommandList": [
            "Call.CallbackAfterStartCall", "Call.CallbackAfterEndCall"
        ]})
    );
    assert_eq!(
        h.v4("call_config/delete_callback", json!({})).await.code(),
        0
    );
    assert_eq!(
        h.v4("call_config/get_callback", json!({})).await.code(),
        100301
    );
    // Deleting nothing is not an error.
    assert_eq!(
        h.v4("call_config/delete_callback", json!({})).await.code(),
        0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn robot_call_life_cycle() {
    let h = Harness::start().await;
    let started = response(
        &h.v4(
            "call_engine_http_srv/start_call_by_robot",
            json!({
                "Robot_Account": "bot",
                "CalleeList_Account": ["alice"],
                "Timeout": 300000,
                "UserData": "userdata-12345687",
                "CallInfo": {"MediaType": "Audio", "RoomIdType": 2, "RoomId": "roomid-1234"},
                "OfflinePushInfo": {"PushFlag": 0, "Title": "t", "Desc": "d", "Ext": "e"}
            }),
        )
        .await,
    );
    let call_id = started["CallId"].as_str().expect("CallId").to_owned();
    assert_eq!(call_id.len(), 36);
    assert_eq!(&call_id[14..15], "4", "UUID v4: {call_id}");
    assert_eq!(
        started["CallResult"],
        json!([{"Callee_Account": "alice", "ResultCode": 0}])
    );

    let info = response(
        &h.v4(
            "call_engine_http_srv/get_call_info",
            json!({"CallId": call_id}),
        )
        .await,
    );
    assert_eq!(
        info,
        json!({
            "CallInfo": {"CallId": call_id, "MediaType": "Audio", "ChatGroupId": "", "RoomId": "roomid-1234", "RoomIdType": 2},
            "UserList": [
                {"User_Account": "bot", "Status": "Calling"},
                {"User_Account": "alice", "Status": "Waiting"}
            ]
        })
    );

    h.control(&format!("calls/{call_id}/answer"), json!({"user": "alice"}))
        .await;
    let info = response(
        &h.v4(
            "call_engine_http_srv/get_call_info",
            json!({"CallId": call_id}),
        )
        .await,
    );
    assert_eq!(info["UserList"][1]["Status"], "Calling");

    let ended = h
        .v4("call_engine_http_srv/end_call", json!({"CallId": call_id}))
        .await;
    assert_eq!(response(&ended), Value::Null);
    assert_eq!(
        h.v4(
            "call_engine_http_srv/get_call_info",
            json!({"CallId": call_id})
        )
        .await
        .code(),
        101004
    );
    assert_eq!(
        h.v4("call_engine_http_srv/end_call", json!({"CallId": call_id}))
            .await
            .code(),
        101004
    );

    let record = response(
        &h.v4(
            "call_record_http_srv/get_record_by_callid",
            json!({"CallId": call_id}),
        )
        .await,
    )["CallRecord"]
        .clone();
    assert_eq!(record["CallId"], call_id.as_str());
    assert_eq!(record["Caller_Account"], "bot");
    assert_eq!(record["CallType"], "SingleCall");
    assert_eq!(record["CallResult"], "NormalEnd");
    assert_eq!(record["CalleeList_Account"], json!(["bot", "alice"]));
    assert_eq!(record["RoomIdType"], 2);
    let start = record["StartTime"].as_u64().expect("start");
    let accept = record["AcceptTime"].as_u64().expect("accept");
    let end = record["EndTime"].as_u64().expect("end");
    assert!(start > 0 && start <= accept && accept <= end);

    let page = response(
        &h.v4("call_record_http_srv/get_record_by_filter", json!({}))
            .await,
    );
    assert_eq!(page["TotalNum"], 1);
    assert_eq!(page["Page"], 1);
    assert_eq!(page["CallRecordList"][0], record);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_appear_after_the_record_delay() {
    // Long enough that the first lookup cannot miss the window on a busy machine.
    let delay = Duration::from_millis(1500);
    let mut config = config();
    config.record_delay = delay;
    let h = Harness::with(config).await;
    let call_id = h.new_call("alice", &["bob"]).await;
    let ended = Instant::now();
    h.control(&format!("calls/{call_id}/reject"), json!({"user": "bob"}))
        .await;
    let by_id = json!({"CallId": call_id});
    let lookup = || h.v4("call_record_http_srv/get_record_by_callid", by_id.clone());
    assert_eq!(lookup().await.code(), 101050);
    let rec = eventually(
        "the record appears after the delay",
        Duration::from_secs(10),
        || async {
            let reply = lookup().await;
            (reply.code() == 0).then(|| response(&reply))
        },
    )
    .await;
    assert!(
        ended.elapsed() >= delay,
        "visible after {:?}",
        ended.elapsed()
    );
    assert_eq!(rec["CallRecord"]["CallResult"], "Reject");
    assert_eq!(rec["CallRecord"]["AcceptTime"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filter_paging_and_conditions() {
    let h = Harness::start().await;
    h.control("seed", json!({"records": 30, "liveCalls": 0}))
        .await;
    let filter = |body: Value| {
        let h = &h;
        async move {
            response(
                &h.v4("call_record_http_srv/get_record_by_filter", body)
                    .await,
            )
        }
    };
    let first = filter(json!({})).await;
    assert_eq!(first["TotalNum"], 30);
    assert_eq!(first["Page"], 1);
    assert_eq!(first["CallRecordList"].as_array().map(Vec::len), Some(10));
    let third = filter(json!({"Page": 3, "NumberPerPage": 12})).await;
    assert_eq!(third["Page"], 3);
    assert_eq!(third["CallRecordList"].as_array().map(Vec::len), Some(6));
    let past = filter(json!({"Page": 4, "NumberPerPage": 10})).await;
    assert_eq!(past["Page"], 0);
    assert_eq!(past["TotalNum"], 30);
    assert_eq!(past["CallRecordList"], json!([]));
    // StartTime 0 is raised to now - 7 days: still everything.
    assert_eq!(filter(json!({"StartTime": 0})).await["TotalNum"], 30);

    let normal = filter(json!({"CallResult": "NormalEnd", "NumberPerPage": 100})).await;
    let list = normal["CallRecordList"].as_array().expect("list");
    assert!(!list.is_empty());
    assert_eq!(normal["TotalNum"].as_u64(), Some(list.len() as u64));
    assert!(list.iter().all(|r| r["CallResult"] == "NormalEnd"));
    let multi = filter(json!({"CallType": "MultiCall", "NumberPerPage": 100})).await;
    let list = multi["CallRecordList"].as_array().expect("list");
    assert!(!list.is_empty() && list.iter().all(|r| r["CallType"] == "MultiCall"));

    // A window around the newest third only.
    let newest = first["CallRecordList"][9]["StartTime"].as_u64().expect("t");
    let end = now_secs();
    let windowed = filter(json!({"StartTime": newest, "EndTime": end, "NumberPerPage": 100})).await;
    let list = windowed["CallRecordList"].as_array().expect("list");
    assert!(list
        .iter()
        .all(|r| r["StartTime"].as_u64().unwrap_or(0) >= newest));
    // Seeded start times are distinct and sorted oldest first: the 10th oldest
    // and the 20 after it.
    assert_eq!(windowed["TotalNum"], 21);
    let all = filter(json!({"NumberPerPage": 100})).await;
    assert_eq!(
        windowed["CallRecordList"].as_array().map(Vec::as_slice),
        all["CallRecordList"].as_array().map(|l| &l[9..])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_app_has_separate_state() {
    let h = Harness::start().await;
    let call_id = h.new_call("alice", &["bob"]).await;
    let sig = callkit_core::usersig::mint_now(OTHER_KEY, OTHER_APP, "ops", 3600, now_secs());
    let r = h
        .post(
            &format!(
                "/v4/call_engine_http_srv/get_call_info?{}",
                query_for(OTHER_APP, "ops", &sig)
            ),
            &json!({"CallId": call_id}).to_string(),
        )
        .await;
    assert_eq!(r.code(), 101004);
    assert_eq!(
        h.v4(
            "call_engine_http_srv/get_call_info",
            json!({"CallId": call_id})
        )
        .await
        .code(),
        0
    );
}
