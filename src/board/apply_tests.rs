use callkit_core::models::{CallResult, CallType, MediaType, WebhookEvent};
use serde_json::{json, Value};

use super::*;
use crate::board::call::{CallState, EndedBy, MemberStatus};

const SAMPLES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/crates/callkit-core/tests/resources/"
);

fn sample(name: &str) -> WebhookEvent {
    let text = std::fs::read_to_string(format!("{SAMPLES}webhook.{name}.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn event(body: Value) -> WebhookEvent {
    serde_json::from_value(body).unwrap()
}

fn start(at: u64) -> WebhookEvent {
    event(json!({
        "CallbackCommand": "Call.CallbackAfterStartCall",
        "CallInfo": {"CallId": "c-1", "MediaType": "Video", "ChatGroupId": "", "RoomId": "77", "RoomIdType": 1},
        "UserList": [
            {"User_Account": "alice", "Status": "Calling"},
            {"User_Account": "bob", "Status": "Waiting"},
            {"User_Account": "carol", "Status": "Waiting"}
        ],
        "EventTime": at
    }))
}

fn changed(at: u64, present: &[(&str, &str)], changes: &[(&str, &str)]) -> WebhookEvent {
    let users: Vec<Value> = present
        .iter()
        .map(|(u, s)| json!({"User_Account": u, "Status": s}))
        .collect();
    let changes: Vec<Value> = changes
        .iter()
        .map(|(u, a)| json!({"User_Account": u, "ActionType": a}))
        .collect();
    event(json!({
        "CallbackCommand": "Call.CallbackAfterMemberChanged",
        "CallId": "c-1", "UserList": users, "ChangedUserList": changes, "EventTime": at
    }))
}

fn end(at: u64) -> WebhookEvent {
    event(json!({
        "CallbackCommand": "Call.CallbackAfterEndCall",
        "CallRecord": {
            "CallId": "c-1", "Caller_Account": "alice", "MediaType": "Video",
            "CallType": "MultiCall", "StartTime": 1, "EndTime": at / 1000, "AcceptTime": 2,
            "CallResult": "NormalEnd", "CalleeList_Account": ["alice", "bob", "carol", "dave"],
            "RoomId": "77", "RoomIdType": 1
        },
        "EventTime": at
    }))
}

/// Bob answers alice's call; carol is no longer listed.
fn bob_answers(at: u64) -> WebhookEvent {
    changed(
        at,
        &[("alice", "Calling"), ("bob", "Calling")],
        &[("bob", "Answer")],
    )
}

/// Applies events in order, from nothing.
fn run(events: &[WebhookEvent]) -> Tracked {
    let mut tracked = None;
    for e in events {
        tracked = Some(apply(tracked, e).0);
    }
    tracked.unwrap()
}

fn status_of(t: &Tracked, user: &str) -> (MemberStatus, Option<String>) {
    let m = t.call.members.iter().find(|m| m.user_id == user).unwrap();
    (m.status, m.last_action.clone())
}

#[test]
fn the_documented_samples_apply_and_the_end_is_final() {
    let t = run(&[sample("after_start_call")]);
    assert_eq!(t.call.state, CallState::Live);
    assert_eq!(
        t.call.media_type,
        Some(MediaType::Audio),
        "CallMediaType read"
    );
    assert_eq!(
        t.call.caller.as_deref(),
        Some("144115212830834855"),
        "numeric account read"
    );
    assert_eq!(t.call.members.len(), 2);
    assert_eq!(
        t.call.call_type,
        Some(CallType::SingleCall),
        "one callee, no group"
    );

    // The samples' end event carries an older EventTime than the start's.
    let t = run(&[
        sample("after_start_call"),
        sample("after_member_changed"),
        sample("after_end_call"),
    ]);
    assert_eq!(t.call.state, CallState::Ended);
    assert_eq!(t.call.call_result, Some(CallResult::NotAnswer));
    assert_eq!(t.call.ended_at, Some(1741231296000));
    assert_eq!(t.call.ended_by, Some(EndedBy::Webhook));
    assert!(t
        .call
        .members
        .iter()
        .all(|m| m.status == MemberStatus::Left));
}

#[test]
fn a_start_then_answers_then_an_end() {
    let t = run(&[start(1_000)]);
    assert_eq!(t.call.caller.as_deref(), Some("alice"));
    assert_eq!(t.call.call_type, Some(CallType::MultiCall), "two callees");
    assert_eq!(status_of(&t, "bob"), (MemberStatus::Waiting, None));

    let t = run(&[
        start(1_000),
        changed(
            2_000,
            &[("alice", "Calling"), ("bob", "Calling")],
            &[("carol", "Reject")],
        ),
    ]);
    assert_eq!(status_of(&t, "bob").0, MemberStatus::Calling);
    assert_eq!(
        status_of(&t, "carol"),
        (MemberStatus::Left, Some("Reject".to_owned()))
    );
    assert_eq!(t.call.updated_at, 2_000);

    let t = run(&[start(1_000), bob_answers(2_000), end(9_000)]);
    assert_eq!(t.call.state, CallState::Ended);
    assert_eq!(t.call.ended_at, Some(9_000));
    assert_eq!(
        status_of(&t, "bob"),
        (MemberStatus::Left, Some("Answer".to_owned()))
    );
    assert_eq!(
        status_of(&t, "dave").0,
        MemberStatus::Left,
        "callees from the record"
    );
}

#[test]
fn a_duplicate_changes_nothing() {
    let events = [start(1_000), bob_answers(2_000), end(9_000)];
    let mut tracked = None;
    for e in &events {
        let (once, first) = apply(tracked.clone(), e);
        assert!(first, "the first time changes the board");
        let (twice, again) = apply(Some(once.clone()), e);
        assert!(!again, "the same event again changes nothing");
        assert_eq!(twice, once);
        tracked = Some(once);
    }
}

#[test]
fn a_late_member_change_never_resurrects_an_ended_call() {
    let late = bob_answers(5_000);
    let (t, changed) = apply(Some(run(&[start(1_000), end(9_000)])), &late);
    assert!(!changed);
    assert_eq!(t.call.state, CallState::Ended);
    // A start arriving after the end does not bring it back either.
    let t = run(&[end(9_000), start(1_000)]);
    assert_eq!(t.call.state, CallState::Ended);
    assert_eq!(t.call.started_at, 1_000);
}

#[test]
fn a_stale_member_list_is_ignored() {
    let newer = bob_answers(3_000);
    let older = changed(2_000, &[("alice", "Calling"), ("bob", "Waiting")], &[]);
    let t = run(&[start(1_000), newer.clone(), older]);
    assert_eq!(status_of(&t, "bob").0, MemberStatus::Calling);
    // The start arriving after a member change keeps the newer members but
    // fills in what only the start says.
    let t = run(&[newer, start(1_000)]);
    assert_eq!(status_of(&t, "bob").0, MemberStatus::Calling);
    assert!(!t.call.involves("carol"), "the newer list is the truth");
    assert_eq!(t.call.media_type, Some(MediaType::Video));
    assert_eq!(t.call.started_at, 1_000);
}

#[test]
fn the_field_table_spelling_is_read_and_the_sample_spelling_shown() {
    let t = run(&[
        start(1_000),
        changed(
            2_000,
            &[("alice", "Calling")],
            &[("bob", "Hang Up"), ("carol", "Canncel_Invite")],
        ),
    ]);
    assert_eq!(
        status_of(&t, "bob"),
        (MemberStatus::Left, Some("Hangup".to_owned()))
    );
    assert_eq!(status_of(&t, "carol").1.as_deref(), Some("Cancel_Invite"));
}

#[test]
fn a_member_change_for_an_unknown_call_starts_it() {
    let t = run(&[changed(
        2_000,
        &[("alice", "Calling"), ("bob", "Waiting")],
        &[],
    )]);
    assert_eq!(t.call.state, CallState::Live);
    assert_eq!(t.call.started_at, 2_000);
    assert_eq!(t.call.media_type, None, "unknown until an event says it");
    assert_eq!(t.call.members.len(), 2);
}
