use callkit_core::models::{CallRecord, WebhookEvent};
use serde_json::{json, Value};

use super::*;
use crate::board::{apply, Tracked};

fn event(body: Value) -> WebhookEvent {
    serde_json::from_value(body).unwrap()
}

fn start(at: u64) -> WebhookEvent {
    event(json!({
        "CallbackCommand": "Call.CallbackAfterStartCall",
        "CallInfo": {"CallId": "c-1", "MediaType": "Video", "ChatGroupId": "", "RoomId": "77", "RoomIdType": 1},
        "UserList": [
            {"User_Account": "alice", "Status": "Calling"},
            {"User_Account": "bob", "Status": "Waiting"}
        ],
        "EventTime": at
    }))
}

fn answered(at: u64) -> WebhookEvent {
    event(json!({
        "CallbackCommand": "Call.CallbackAfterMemberChanged",
        "CallId": "c-1",
        "UserList": [{"User_Account": "alice", "Status": "Calling"}, {"User_Account": "bob", "Status": "Calling"}],
        "ChangedUserList": [{"User_Account": "bob", "ActionType": "Answer"}],
        "EventTime": at
    }))
}

fn record(end_secs: u64) -> CallRecord {
    serde_json::from_value(json!({
        "CallId": "c-1", "Caller_Account": "alice", "MediaType": "Video",
        "CallType": "SingleCall", "StartTime": 1000, "EndTime": end_secs, "AcceptTime": 1003,
        "CallResult": "NormalEnd", "CalleeList_Account": ["alice", "bob"],
        "RoomId": "77", "RoomIdType": 1
    }))
    .unwrap()
}

fn end(at: u64) -> WebhookEvent {
    let mut body = json!({"CallbackCommand": "Call.CallbackAfterEndCall", "EventTime": at});
    body["CallRecord"] = serde_json::to_value(record(at / 1000)).unwrap();
    event(body)
}

/// Applies `events` as the board object does, collecting the ledger's updates.
fn run(events: &[WebhookEvent]) -> Vec<Update> {
    let mut tracked: Option<Tracked> = None;
    let mut out = Vec::new();
    for e in events {
        let (after, changed) = apply(tracked.clone(), e);
        if changed {
            out.push(Update::from_board(tracked.as_ref(), &after, Some(e)));
        }
        tracked = Some(after);
    }
    out
}

fn events(u: &Update) -> Vec<(String, String, Option<String>)> {
    u.timeline
        .iter()
        .map(|e| (e.user_id.clone(), e.event.clone(), e.reason.clone()))
        .collect()
}

#[test]
fn a_call_becomes_a_started_joined_left_ended_timeline() {
    let updates = run(&[start(1_000_000), answered(1_003_000), end(1_060_000)]);
    assert_eq!(updates.len(), 3);
    let s = |a: &str, b: &str, c: Option<&str>| (a.to_owned(), b.to_owned(), c.map(str::to_owned));
    assert_eq!(
        events(&updates[0]),
        vec![s("alice", "started", None), s("bob", "invited", None)]
    );
    assert_eq!(
        events(&updates[1]),
        vec![s("bob", "joined", Some("Answer"))]
    );
    assert_eq!(updates[1].accepted_at, Some(1_003_000));
    assert_eq!(updates[1].fact_rank, fact::NONE);
    let ended = &updates[2];
    assert!(events(ended).contains(&s("", "ended", Some("NormalEnd"))));
    assert!(events(ended).contains(&s("bob", "left", Some("Answer"))));
    assert_eq!(ended.accepted_at, Some(1_003_000), "the end's AcceptTime");
    assert_eq!(
        (ended.fact_rank, ended.end_rank),
        (fact::WEBHOOK, end::WEBHOOK)
    );
    assert_eq!(ended.result.as_deref(), Some("NormalEnd"));
    assert_eq!(ended.members, vec!["alice", "bob"]);
    assert!(ended.is_ended() && ended.record_src.is_none());
}

#[test]
fn duplicates_and_stale_events_give_no_update() {
    let updates = run(&[
        start(1_000_000),
        start(1_000_000),
        answered(1_003_000),
        answered(1_003_000),
        end(1_060_000),
        end(1_060_000),
        answered(1_003_000),
    ]);
    assert_eq!(updates.len(), 3, "{updates:#?}");
}

#[test]
fn a_record_carries_the_authoritative_facts() {
    let u = Update::from_record(&record(1_060), RecordSource::Backfill);
    assert_eq!(u.started_at, 1_000_000);
    assert_eq!(u.accepted_at, Some(1_003_000));
    assert_eq!(u.ended_at, Some(1_060_000));
    assert_eq!((u.fact_rank, u.end_rank), (fact::RECORD, end::RECORD));
    assert_eq!(u.record_src.as_deref(), Some("backfill"));
    assert_eq!(u.start_src, "record");
    assert_eq!(u.members, vec!["alice", "bob"]);
    assert!(u.timeline.iter().all(|e| e.source == "record"));
    assert_eq!(end::source(end::WEBHOOK), Some("webhook"));
    assert_eq!(end::source(end::NONE), None);
}

#[test]
fn the_queued_json_has_the_fields_the_sql_reads() {
    let u = Update::from_record(&record(1_060), RecordSource::Fetch);
    let json = serde_json::to_value(&u).unwrap();
    let sql = [
        crate::ledger::write::upsert_calls(),
        crate::ledger::write::insert_timeline(),
        crate::ledger::write::insert_members(),
    ]
    .concat();
    let fields: Vec<&str> = sql
        .split("'$.")
        .skip(1)
        .map(|rest| rest.split('\'').next().unwrap())
        .collect();
    assert!(fields.len() > 15);
    for f in fields {
        let found = json.get(f).is_some() || json["timeline"][0].get(f).is_some();
        assert!(found, "the SQL reads `{f}`, which the update does not have");
    }
    assert_eq!(json["timeline"][0]["user_id"], "alice");
}
