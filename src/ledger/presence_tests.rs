use super::*;
use crate::board::presence;
use crate::board::presence::tests::event;
use callkit_core::models::TrtcEvent;

/// Applies each event to `room`; the entries each one gave, as `user:event@at(reason)`.
fn run(room: &mut Vec<RoomPresence>, events: &[TrtcEvent]) -> Vec<String> {
    let mut out = Vec::new();
    for e in events {
        let before = room.clone();
        presence::apply(room, e);
        for entry in entries(&before, room) {
            assert_eq!(entry.source, "trtc");
            let reason = entry.reason.map(|r| format!("({r})")).unwrap_or_default();
            out.push(format!(
                "{}:{}@{}{reason}",
                entry.user_id, entry.event, entry.at
            ));
        }
    }
    out
}

#[test]
fn each_change_of_presence_is_one_entry_at_its_event_time() {
    let mut room = Vec::new();
    let got = run(
        &mut room,
        &[
            event(103, "bob", 1_000, r#","Role":20"#),
            event(203, "bob", 1_001, ""),
            event(201, "bob", 1_002, ""),
            event(202, "bob", 2_000, ""),
            event(205, "bob", 2_500, ""),
            event(104, "bob", 3_000, r#","Reason":2"#),
        ],
    );
    assert_eq!(
        got,
        [
            "bob:room_entered@1000",
            "bob:audio_on@1001",
            "bob:video_on@1002",
            "bob:video_off@2000",
            "bob:screen_on@2500",
            // Leaving ends the streams without an entry each.
            "bob:room_exited@3000(timeout)",
        ]
    );
}

#[test]
fn repeats_and_late_events_give_nothing_and_media_implies_entering() {
    let mut room = Vec::new();
    let enter = event(103, "ann", 1_000, "");
    let got = run(
        &mut room,
        &[
            enter.clone(),
            enter,
            event(103, "ann", 1_500, ""),
            event(203, "ann", 900, ""),
        ],
    );
    assert_eq!(got, ["ann:room_entered@1000"]);
    let got = run(&mut room, &[event(205, "cy", 2_000, "")]);
    assert_eq!(got, ["cy:room_entered@2000", "cy:screen_on@2000"]);
    let dismiss = TrtcEvent::parse(
        br#"{"EventGroupId":1,"EventType":102,"CallbackTs":3000,"EventInfo":{"RoomId":"r1","EventMsTs":3000}}"#,
    )
    .unwrap();
    let got = run(&mut room, &[dismiss]);
    assert_eq!(
        got,
        [
            "ann:room_exited@3000(dismissed)",
            "cy:room_exited@3000(dismissed)"
        ]
    );
    let got = run(&mut room, &[event(103, "ann", 4_000, "")]);
    assert_eq!(got, ["ann:room_entered@4000"], "coming back is a new entry");
}

#[test]
fn a_call_takes_the_entries_of_its_time_and_its_update_is_no_end() {
    let mut call = LiveCall::new("c1", 1_000_000);
    call.room_id = "r1".to_owned();
    let at = |t: u64| Entry {
        at: t,
        user_id: "bob".to_owned(),
        event: "room_entered".to_owned(),
        reason: None,
        source: SOURCE.to_owned(),
    };
    let all = [
        at(1_000_000 - SLACK_MS - 1),
        at(1_000_000 - SLACK_MS),
        at(5_000_000),
    ];
    assert_eq!(
        within(&call, &all).len(),
        2,
        "live: anything since its start"
    );
    call.ended_at = Some(2_000_000);
    let late = [at(2_000_000 + SLACK_MS), at(2_000_000 + SLACK_MS + 1)];
    assert_eq!(within(&call, &late), [at(2_000_000 + SLACK_MS)]);
    let update = update(&call, late.to_vec());
    assert!(!update.is_ended() && update.record_src.is_none());
    assert_eq!(update.fact_rank, fact::NONE);
    assert!(
        update.members.is_empty(),
        "people only in the room are not members"
    );
    assert_eq!(update.timeline.len(), 2);
}
