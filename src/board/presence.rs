//! Who is really in a call's media room, from TRTC's room and media events
//! (docs/trtc-events.md): in the room since when, role, platform, and
//! whether they publish video, audio or a screen share. Per user, events
//! apply in `EventMsTs` order; an older one changes nothing.

use callkit_core::models::{TrtcEvent, TrtcEventType};
use serde::{Deserialize, Serialize};

use super::call::MAX_MEMBERS;

/// People one room lists at most, as a call lists members: a room's row
/// (and each call's copy of it) cannot grow without bound. Beyond it the
/// person who left earliest makes way; when all of them are in the room, a
/// newcomer is not listed (a TUICallKit call has at most 9 people).
pub const MAX_PEOPLE: usize = MAX_MEMBERS;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoomPresence {
    pub user_id: String,
    pub in_room: bool,
    /// Unix ms of entering; of leaving once out.
    pub since: u64,
    /// `anchor` or `audience`.
    pub role: Option<String>,
    /// `windows`, `android`, `ios`, `linux` or `other`.
    pub platform: Option<String>,
    pub video: bool,
    pub audio: bool,
    pub screen: bool,
    /// Why they left: `normal`, `timeout`, `removed`, `cross_room_cancelled`, `force_closed`.
    pub exit_reason: Option<String>,
    /// `EventMsTs` of the newest event applied to this user.
    pub at: u64,
}

impl RoomPresence {
    fn new(user_id: &str, at: u64) -> Self {
        Self {
            user_id: user_id.to_owned(),
            in_room: true,
            since: at,
            role: None,
            platform: None,
            video: false,
            audio: false,
            screen: false,
            exit_reason: None,
            at: 0,
        }
    }

    fn leave(&mut self, at: u64, reason: Option<String>) {
        self.in_room = false;
        self.since = at;
        (self.video, self.audio, self.screen) = (false, false, false);
        self.exit_reason = reason;
    }
}

/// Applies `event` to the room's people; whether anything changed.
pub fn apply(room: &mut Vec<RoomPresence>, event: &TrtcEvent) -> bool {
    let Some(kind) = event.kind() else {
        return false;
    };
    let info = &event.event_info;
    let at = info.event_ms_ts;
    if kind == TrtcEventType::DismissRoom {
        let before = room.clone();
        for p in room.iter_mut().filter(|p| p.in_room && p.at <= at) {
            p.leave(at, Some("dismissed".to_owned()));
            p.at = at;
        }
        return *room != before;
    }
    if info.user_id.is_empty() || kind == TrtcEventType::CreateRoom {
        return false;
    }
    let index = match room.iter().position(|p| p.user_id == info.user_id) {
        Some(i) => i,
        None if make_way(room) => {
            room.push(RoomPresence::new(&info.user_id, at));
            room.len() - 1
        }
        None => return false,
    };
    let person = &mut room[index];
    if at < person.at {
        return false;
    }
    let before = person.clone();
    change(person, kind, event);
    person.at = at;
    *person != before
}

/// Whether a newcomer can be listed: at `MAX_PEOPLE`, the person who left
/// earliest goes; if everyone is in the room, nobody does and it cannot.
fn make_way(room: &mut Vec<RoomPresence>) -> bool {
    if room.len() < MAX_PEOPLE {
        return true;
    }
    let earliest = room
        .iter()
        .enumerate()
        .filter(|(_, p)| !p.in_room)
        .min_by_key(|(_, p)| p.since)
        .map(|(i, _)| i);
    match earliest {
        Some(i) => {
            room.remove(i);
            true
        }
        None => false,
    }
}

fn change(p: &mut RoomPresence, kind: TrtcEventType, event: &TrtcEvent) {
    use TrtcEventType::*;
    let info = &event.event_info;
    let at = info.event_ms_ts;
    if !matches!(kind, ExitRoom) && !p.in_room {
        // Publishing or switching role means being in the room.
        *p = RoomPresence {
            at: p.at,
            ..RoomPresence::new(&p.user_id, at)
        };
    }
    match kind {
        EnterRoom => {
            p.since = if p.at == 0 || !p.in_room { at } else { p.since };
            p.exit_reason = None;
            p.role = info.role.map(role).or(p.role.take());
            p.platform = info.terminal_type.map(platform).or(p.platform.take());
        }
        ExitRoom => p.leave(at, info.reason.map(exit_reason)),
        ChangeRole => p.role = info.role.map(role).or(p.role.take()),
        StartVideo => p.video = true,
        StopVideo => p.video = false,
        StartAudio => p.audio = true,
        StopAudio => p.audio = false,
        StartSubstream => p.screen = true,
        StopSubstream => p.screen = false,
        CreateRoom | DismissRoom => {}
    }
}

fn role(n: u32) -> String {
    match n {
        20 => "anchor",
        21 => "audience",
        _ => "other",
    }
    .to_owned()
}

fn platform(n: u32) -> String {
    match n {
        1 => "windows",
        2 => "android",
        3 => "ios",
        4 => "linux",
        _ => "other",
    }
    .to_owned()
}

fn exit_reason(n: u32) -> String {
    match n {
        1 => "normal",
        2 => "timeout",
        3 => "removed",
        4 => "cross_room_cancelled",
        5 => "force_closed",
        _ => "other",
    }
    .to_owned()
}

/// Nobody is in the room (and somebody was): since when, Unix ms.
pub fn empty_since(room: &[RoomPresence]) -> Option<u64> {
    if room.is_empty() || room.iter().any(|p| p.in_room) {
        return None;
    }
    room.iter().map(|p| p.since).max()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A TRTC event of room `r1`, as the ledger's tests also build them.
    pub(crate) fn event(kind: u32, user: &str, at: u64, extra: &str) -> TrtcEvent {
        let body = format!(
            r#"{{"EventGroupId":{},"EventType":{kind},"CallbackTs":{at},"EventInfo":{{"RoomId":"r1","EventTs":{},"EventMsTs":{at},"UserId":"{user}"{extra}}}}}"#,
            kind / 100,
            at / 1000
        );
        TrtcEvent::parse(body.as_bytes()).unwrap()
    }

    #[test]
    fn enter_publish_and_leave() {
        let mut room = Vec::new();
        assert!(apply(
            &mut room,
            &event(103, "bob", 1_000, r#","Role":20,"TerminalType":3"#)
        ));
        assert!(apply(&mut room, &event(201, "bob", 2_000, "")));
        assert!(apply(&mut room, &event(203, "bob", 2_100, "")));
        let bob = &room[0];
        assert!(bob.in_room && bob.video && bob.audio && !bob.screen);
        assert_eq!(
            (bob.role.as_deref(), bob.platform.as_deref(), bob.since),
            (Some("anchor"), Some("ios"), 1_000)
        );
        assert!(apply(&mut room, &event(204, "bob", 3_000, "")));
        assert!(!room[0].audio && room[0].video);
        assert!(apply(
            &mut room,
            &event(104, "bob", 4_000, r#","Reason":2"#)
        ));
        let bob = &room[0];
        assert!(!bob.in_room && !bob.video && !bob.audio);
        assert_eq!(
            (bob.exit_reason.as_deref(), bob.since),
            (Some("timeout"), 4_000)
        );
        assert_eq!(empty_since(&room), Some(4_000));
    }

    #[test]
    fn older_events_change_nothing_and_repeats_are_no_change() {
        let mut room = Vec::new();
        apply(&mut room, &event(103, "ann", 5_000, ""));
        apply(&mut room, &event(104, "ann", 6_000, r#","Reason":1"#));
        assert!(
            !apply(&mut room, &event(201, "ann", 5_500, "")),
            "a late start of video"
        );
        assert!(!room[0].in_room);
        assert!(!apply(
            &mut room,
            &event(104, "ann", 6_000, r#","Reason":1"#)
        ));
    }

    #[test]
    fn a_full_room_makes_way_for_a_newcomer_only_by_who_left_earliest() {
        let mut room = Vec::new();
        for i in 0..MAX_PEOPLE as u64 {
            assert!(apply(
                &mut room,
                &event(103, &format!("p{i}"), 1_000 + i, "")
            ));
        }
        assert!(
            !apply(&mut room, &event(103, "late", 2_000, "")),
            "everyone is in"
        );
        assert_eq!(room.len(), MAX_PEOPLE);
        assert!(room.iter().all(|p| p.user_id != "late"));
        apply(&mut room, &event(104, "p7", 3_000, ""));
        apply(&mut room, &event(104, "p3", 3_100, ""));
        assert!(apply(&mut room, &event(103, "late", 4_000, "")));
        assert_eq!(room.len(), MAX_PEOPLE);
        let ids: Vec<&str> = room.iter().map(|p| p.user_id.as_str()).collect();
        assert!(!ids.contains(&"p7") && ids.contains(&"p3") && ids.contains(&"late"));
        // Someone listed already is never refused.
        assert!(apply(&mut room, &event(201, "p0", 5_000, "")));
    }

    #[test]
    fn media_implies_presence_and_dismissal_empties_the_room() {
        let mut room = Vec::new();
        apply(&mut room, &event(205, "cy", 1_000, ""));
        assert!(room[0].in_room && room[0].screen);
        apply(&mut room, &event(103, "dee", 1_100, ""));
        assert_eq!(empty_since(&room), None);
        let dismiss = TrtcEvent::parse(br#"{"EventGroupId":1,"EventType":102,"CallbackTs":2000,"EventInfo":{"RoomId":"r1","EventMsTs":2000}}"#).unwrap();
        assert!(apply(&mut room, &dismiss));
        assert!(room.iter().all(|p| !p.in_room && !p.screen));
        assert_eq!(empty_since(&room), Some(2_000));
        let other = TrtcEvent::parse(br#"{"EventGroupId":3,"EventType":301,"EventInfo":{"RoomId":"r1","EventMsTs":3000,"UserId":"x"}}"#).unwrap();
        assert!(!apply(&mut room, &other));
        assert_eq!(empty_since(&[]), None);
    }
}
