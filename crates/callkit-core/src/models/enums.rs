//! Enumerations shared by requests, records and webhooks, accepting every published spelling.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum MediaType {
    // The start-call guide's table writes lower case.
    #[serde(alias = "audio")]
    Audio,
    #[serde(alias = "video")]
    Video,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CallType {
    SingleCall,
    MultiCall,
}

/// How a call ended. Aliases cover the deprecated v1 spellings (docs/tencent-callkit-v4.md §9.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CallResult {
    #[serde(alias = "cancel")]
    Cancel,
    #[serde(alias = "reject")]
    Reject,
    #[serde(alias = "not_answer", alias = "Not_answer")]
    NotAnswer,
    #[serde(alias = "normal_end", alias = "Normal_end")]
    NormalEnd,
    #[serde(alias = "call_busy", alias = "Call_busy")]
    CallBusy,
    #[serde(alias = "interrupt")]
    Interrupt,
    /// Heartbeats expired; listed only on the End-Call webhook page.
    #[serde(alias = "offline")]
    Offline,
}

/// A member's state in `UserList`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum UserStatus {
    Calling,
    Waiting,
}

/// How `RoomId` is to be read. Serialized as its integer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum RoomIdType {
    /// `0`: seen in `get_call_info` samples when there is no room.
    #[default]
    None,
    /// `1`
    Numeric,
    /// `2`
    String,
}

impl RoomIdType {
    pub fn as_u8(self) -> u8 {
        match self {
            RoomIdType::None => 0,
            RoomIdType::Numeric => 1,
            RoomIdType::String => 2,
        }
    }

    pub fn from_u64(value: u64) -> Option<Self> {
        match value {
            0 => Some(RoomIdType::None),
            1 => Some(RoomIdType::Numeric),
            2 => Some(RoomIdType::String),
            _ => None,
        }
    }
}

impl Serialize for RoomIdType {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u8(self.as_u8())
    }
}

impl<'de> Deserialize<'de> for RoomIdType {
    /// Integer, or the string form the filter page's table implies (`"2"`).
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = RoomIdType;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("RoomIdType 0, 1 or 2")
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<RoomIdType, E> {
                RoomIdType::from_u64(v).ok_or_else(|| E::custom("RoomIdType out of range"))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<RoomIdType, E> {
                u64::try_from(v)
                    .ok()
                    .and_then(RoomIdType::from_u64)
                    .ok_or_else(|| E::custom("RoomIdType out of range"))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<RoomIdType, E> {
                v.trim()
                    .parse::<u64>()
                    .ok()
                    .and_then(RoomIdType::from_u64)
                    .ok_or_else(|| E::custom("RoomIdType out of range"))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// A webhook command word.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CallbackCommand {
    #[serde(rename = "Call.CallbackAfterStartCall")]
    AfterStartCall,
    #[serde(rename = "Call.CallbackAfterEndCall")]
    AfterEndCall,
    #[serde(rename = "Call.CallbackAfterMemberChanged")]
    AfterMemberChanged,
}

impl CallbackCommand {
    pub const ALL: [CallbackCommand; 3] = [
        CallbackCommand::AfterStartCall,
        CallbackCommand::AfterEndCall,
        CallbackCommand::AfterMemberChanged,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CallbackCommand::AfterStartCall => "Call.CallbackAfterStartCall",
            CallbackCommand::AfterEndCall => "Call.CallbackAfterEndCall",
            CallbackCommand::AfterMemberChanged => "Call.CallbackAfterMemberChanged",
        }
    }

    /// The command word from a webhook's `CallbackCommand` query parameter.
    pub fn parse(word: &str) -> Option<Self> {
        CallbackCommand::ALL
            .into_iter()
            .find(|c| c.as_str() == word)
    }
}

impl fmt::Display for CallbackCommand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `ActionType` in the member-changed webhook. Accepts both published sets
/// (sample comment and field table, typos included); emits the sample set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum MemberAction {
    #[serde(alias = "Accept")]
    Answer,
    Reject,
    NotAnswer,
    #[serde(alias = "Hang Up")]
    Hangup,
    Join,
    Offline,
    #[serde(alias = "Invited")]
    Invite,
    #[serde(rename = "Cancel_Invite", alias = "Canncel_Invite")]
    CancelInvite,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{from_str, json, to_value};

    #[test]
    fn media_type_accepts_lower_case_and_emits_capitalised() {
        assert_eq!(
            from_str::<MediaType>(r#""video""#).unwrap(),
            MediaType::Video
        );
        assert_eq!(
            from_str::<MediaType>(r#""Audio""#).unwrap(),
            MediaType::Audio
        );
        assert_eq!(to_value(MediaType::Video).unwrap(), json!("Video"));
        assert!(from_str::<MediaType>(r#""VIDEO""#).is_err());
    }

    #[test]
    fn call_result_accepts_v1_spellings() {
        for (text, want) in [
            ("NormalEnd", CallResult::NormalEnd),
            ("normal_end", CallResult::NormalEnd),
            ("Normal_end", CallResult::NormalEnd),
            ("Not_answer", CallResult::NotAnswer),
            ("call_busy", CallResult::CallBusy),
            ("offline", CallResult::Offline),
            ("Offline", CallResult::Offline),
        ] {
            assert_eq!(
                from_str::<CallResult>(&format!("\"{text}\"")).unwrap(),
                want
            );
        }
        assert_eq!(to_value(CallResult::NotAnswer).unwrap(), json!("NotAnswer"));
    }

    #[test]
    fn room_id_type_is_an_integer_that_also_reads_strings() {
        assert_eq!(from_str::<RoomIdType>("0").unwrap(), RoomIdType::None);
        assert_eq!(from_str::<RoomIdType>("1").unwrap(), RoomIdType::Numeric);
        assert_eq!(
            from_str::<RoomIdType>(r#""2""#).unwrap(),
            RoomIdType::String
        );
        assert_eq!(to_value(RoomIdType::String).unwrap(), json!(2));
        for bad in ["3", "-1", r#""x""#, "null", "1.5", "[]"] {
            assert!(from_str::<RoomIdType>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn callback_command_words() {
        for c in CallbackCommand::ALL {
            assert_eq!(to_value(c).unwrap(), json!(c.as_str()));
            assert_eq!(CallbackCommand::parse(c.as_str()), Some(c));
            assert_eq!(c.to_string(), c.as_str());
        }
        assert_eq!(CallbackCommand::parse("Call.CallbackBeforeStartCall"), None);
    }

    #[test]
    fn member_action_accepts_both_sets_and_emits_the_sample_set() {
        let table = [
            "Accept",
            "Reject",
            "NotAnswer",
            "Hang Up",
            "Join",
            "Offline",
            "Invited",
            "Canncel_Invite",
        ];
        let sample = [
            "Answer",
            "Reject",
            "NotAnswer",
            "Hangup",
            "Join",
            "Offline",
            "Invite",
            "Cancel_Invite",
        ];
        for (t, s) in table.into_iter().zip(sample) {
            let from_table: MemberAction = from_str(&format!("\"{t}\"")).unwrap();
            let from_sample: MemberAction = from_str(&format!("\"{s}\"")).unwrap();
            assert_eq!(from_table, from_sample);
            assert_eq!(to_value(from_table).unwrap(), json!(s));
        }
    }

    #[test]
    fn user_status_and_call_type() {
        assert_eq!(
            from_str::<UserStatus>(r#""Waiting""#).unwrap(),
            UserStatus::Waiting
        );
        assert_eq!(to_value(CallType::MultiCall).unwrap(), json!("MultiCall"));
        assert!(from_str::<CallType>(r#""Group""#).is_err());
    }
}
