//! TRTC's room and media event callbacks (docs/trtc-events.md): the body,
//! and its `Sign` = base64(HMAC-SHA256(callback key, the raw body bytes)).

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use std::fmt;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use sha2::{Digest, Sha256};

/// Group 1: room events.
pub const GROUP_ROOM: u32 = 1;
/// Group 2: media events.
pub const GROUP_MEDIA: u32 = 2;

/// The event types of groups 1 and 2, by Tencent's numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrtcEventType {
    CreateRoom = 101,
    DismissRoom = 102,
    EnterRoom = 103,
    ExitRoom = 104,
    ChangeRole = 105,
    StartVideo = 201,
    StopVideo = 202,
    StartAudio = 203,
    StopAudio = 204,
    StartSubstream = 205,
    StopSubstream = 206,
}

impl TrtcEventType {
    pub fn from_number(n: u32) -> Option<Self> {
        use TrtcEventType::*;
        [
            CreateRoom,
            DismissRoom,
            EnterRoom,
            ExitRoom,
            ChangeRole,
            StartVideo,
            StopVideo,
            StartAudio,
            StopAudio,
            StartSubstream,
            StopSubstream,
        ]
        .into_iter()
        .find(|t| *t as u32 == n)
    }
}

/// One callback's body. Other groups use the same envelope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrtcEvent {
    #[serde(rename = "EventGroupId")]
    pub event_group_id: u32,
    #[serde(rename = "EventType")]
    pub event_type: u32,
    /// When Tencent sent it, Unix ms.
    #[serde(rename = "CallbackTs", default)]
    pub callback_ts: u64,
    #[serde(rename = "EventInfo")]
    pub event_info: TrtcEventInfo,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrtcEventInfo {
    /// A number or a string, as the client used it; kept as text.
    #[serde(rename = "RoomId", deserialize_with = "room_id")]
    pub room_id: String,
    /// Unix s.
    #[serde(rename = "EventTs", default)]
    pub event_ts: u64,
    /// Unix ms.
    #[serde(rename = "EventMsTs")]
    pub event_ms_ts: u64,
    /// Absent on a room's dismissal.
    #[serde(rename = "UserId", default)]
    pub user_id: String,
    /// 20 anchor, 21 audience.
    #[serde(rename = "Role", default, skip_serializing_if = "Option::is_none")]
    pub role: Option<u32>,
    /// 1 Windows, 2 Android, 3 iOS, 4 Linux, 100 other.
    #[serde(
        rename = "TerminalType",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub terminal_type: Option<u32>,
    #[serde(rename = "UserType", default, skip_serializing_if = "Option::is_none")]
    pub user_type: Option<u32>,
    /// On an exit: 1 normal, 2 timeout, 3 removed, 4 cross-room cancelled, 5 force-closed.
    #[serde(rename = "Reason", default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<u32>,
}

/// A number or a string; a visitor, not an untagged enum, which would
/// buffer the value and cost the Worker's bundle several KB.
fn room_id<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    struct RoomId;
    impl Visitor<'_> for RoomId {
        type Value = String;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a room id, string or number")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
            Ok(v.to_owned())
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<String, E> {
            Ok(v.to_string())
        }
    }
    d.deserialize_any(RoomId)
}

impl TrtcEvent {
    pub fn parse(body: &[u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(body)
    }

    /// A room or media event this edge understands (groups 1 and 2).
    pub fn kind(&self) -> Option<TrtcEventType> {
        matches!(self.event_group_id, GROUP_ROOM | GROUP_MEDIA)
            .then(|| TrtcEventType::from_number(self.event_type))
            .flatten()
    }

    /// What makes a delivery the same event again: Tencent's retries carry
    /// the same body on a fresh connection. SHA-256 hex of (EventType,
    /// RoomId, UserId, EventMsTs), so it fits a header whatever the ids hold.
    pub fn dedupe_key(&self) -> String {
        let i = &self.event_info;
        let digest = Sha256::new()
            .chain_update(self.event_type.to_string())
            .chain_update([0])
            .chain_update(&i.room_id)
            .chain_update([0])
            .chain_update(&i.user_id)
            .chain_update([0])
            .chain_update(i.event_ms_ts.to_string())
            .finalize();
        digest.iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// `Sign`: base64(HMAC-SHA256(key, body)), over the bytes as received.
pub fn trtc_sign(key: &str, body: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(key.as_bytes()).expect("HMAC takes any key length");
    mac.update(body);
    STANDARD.encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Tencent's published vector (docs/trtc-events.md): 207 bytes with real
    /// tabs and newlines, key `123654`.
    const VECTOR: &str = "{\n\t\"EventGroupId\":\t2,\n\t\"EventType\":\t204,\n\t\"CallbackTs\":\t1664209748188,\n\t\"EventInfo\":\t{\n\t\t\"RoomId\":\t8489,\n\t\t\"EventTs\":\t1664209748,\n\t\t\"EventMsTs\":\t1664209748180,\n\t\t\"UserId\":\t\"user_85034614\",\n\t\t\"Reason\":\t0\n\t}\n}";

    #[test]
    fn matches_the_published_vector() {
        assert_eq!(VECTOR.len(), 207);
        assert_eq!(
            trtc_sign("123654", VECTOR.as_bytes()),
            "kkoFeO3Oh2ZHnjtg8tEAQhtXK16/KI05W3BQff8IvGA="
        );
        // Re-serialised JSON is other bytes: the sign no longer matches.
        let event = TrtcEvent::parse(VECTOR.as_bytes()).unwrap();
        let compact = serde_json::to_vec(&event).unwrap();
        assert_ne!(
            trtc_sign("123654", &compact),
            trtc_sign("123654", VECTOR.as_bytes())
        );
    }

    #[test]
    fn the_vector_parses_with_a_numeric_room() {
        let event = TrtcEvent::parse(VECTOR.as_bytes()).unwrap();
        assert_eq!(event.kind(), Some(TrtcEventType::StopAudio));
        assert_eq!(event.event_info.room_id, "8489");
        assert_eq!(event.event_info.user_id, "user_85034614");
        assert_eq!(event.event_info.event_ms_ts, 1_664_209_748_180);
        assert_eq!(event.event_info.reason, Some(0));
    }

    #[test]
    fn string_rooms_other_groups_and_the_documented_samples() {
        let dismiss = br#"{"EventGroupId": 1,"EventType": 102,"CallbackTs": 1687771618531,"EventInfo": {"RoomId": "12345","EventTs": 1687771618,"EventMsTs": 1687771618457}}"#;
        let e = TrtcEvent::parse(dismiss).unwrap();
        assert_eq!(e.kind(), Some(TrtcEventType::DismissRoom));
        assert_eq!(e.event_info.room_id, "12345");
        assert_eq!(e.event_info.user_id, "");
        let enter = br#"{"EventGroupId": 1,"EventType": 103,"CallbackTs": 1687770731932,"EventInfo": {"RoomId": 12345,"EventTs": 1687770731,"EventMsTs": 1687770731831,"UserId": "test","Role": 21,"TerminalType": 2,"UserType": 3,"Reason": 1}}"#;
        let e = TrtcEvent::parse(enter).unwrap();
        assert_eq!(
            (e.event_info.role, e.event_info.terminal_type),
            (Some(21), Some(2))
        );
        let other = br#"{"EventGroupId": 3,"EventType": 301,"CallbackTs": 1,"EventInfo": {"RoomId": 1,"EventMsTs": 1}}"#;
        assert_eq!(TrtcEvent::parse(other).unwrap().kind(), None);
        for bad in [
            &b"{}"[..],
            b"[]",
            br#"{"EventGroupId":1,"EventType":103,"EventInfo":{"RoomId":[1],"EventMsTs":1}}"#,
        ] {
            assert!(TrtcEvent::parse(bad).is_err());
        }
    }

    #[test]
    fn the_dedupe_key_is_type_room_user_and_time() {
        let e = TrtcEvent::parse(VECTOR.as_bytes()).unwrap();
        let mut later = e.clone();
        later.callback_ts += 10_000; // a retry's CallbackTs may move; the event is the same
        assert_eq!(e.dedupe_key(), later.dedupe_key());
        let mut other = e.clone();
        other.event_info.event_ms_ts += 1;
        assert_ne!(e.dedupe_key(), other.dedupe_key());
    }
}
