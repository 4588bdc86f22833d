//! One call on the live board, as the console shows it (docs/live-board.md).

use callkit_core::models::{CallResult, CallType, MediaType, RoomIdType, UserStatus};
use serde::{Deserialize, Serialize};

use super::presence::RoomPresence;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CallState {
    Live,
    Ended,
}

/// Who told the board that the call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EndedBy {
    Webhook,
    /// Tencent answered 101004 when asked about a call gone quiet.
    Reconcile,
}

/// A member's place in the call; `Left` keeps departed members visible.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum MemberStatus {
    Calling,
    Waiting,
    Left,
}

impl From<UserStatus> for MemberStatus {
    fn from(status: UserStatus) -> Self {
        match status {
            UserStatus::Calling => MemberStatus::Calling,
            UserStatus::Waiting => MemberStatus::Waiting,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Member {
    pub user_id: String,
    pub status: MemberStatus,
    /// The member's last `ActionType`, as Tencent's sample set spells it.
    pub last_action: Option<String>,
    /// Unix ms of the event that last changed this member.
    pub changed_at: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LiveCall {
    pub call_id: String,
    pub state: CallState,
    pub media_type: Option<MediaType>,
    pub call_type: Option<CallType>,
    pub caller: Option<String>,
    pub group_id: String,
    pub room_id: String,
    pub room_id_type: Option<RoomIdType>,
    pub started_at: u64,
    pub ended_at: Option<u64>,
    pub call_result: Option<CallResult>,
    pub ended_by: Option<EndedBy>,
    /// Unix ms of the newest event applied.
    pub updated_at: u64,
    pub members: Vec<Member>,
    /// Members who left and were dropped from `members` to keep it within
    /// `MAX_MEMBERS` (the oldest departures first).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub left_omitted: u32,
    /// Who is in the call's media room, from TRTC's events (`presence`):
    /// members and anyone else in the room. Empty without TRTC events.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub room: Vec<RoomPresence>,
    /// Live, and its room has been empty for `LIVE_EMPTY_ROOM_SECS`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub room_empty: bool,
}

/// Members one call lists at most: beyond it, departed members are counted
/// in `left_omitted` instead, so a call cannot grow its row without bound.
pub const MAX_MEMBERS: usize = 64;

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl LiveCall {
    /// A call the board has heard of for the first time, at `at` (ms).
    pub fn new(call_id: &str, at: u64) -> Self {
        Self {
            call_id: call_id.to_owned(),
            state: CallState::Live,
            media_type: None,
            call_type: None,
            caller: None,
            group_id: String::new(),
            room_id: String::new(),
            room_id_type: None,
            started_at: at,
            ended_at: None,
            call_result: None,
            ended_by: None,
            updated_at: at,
            members: Vec::new(),
            left_omitted: 0,
            room: Vec::new(),
            room_empty: false,
        }
    }

    /// Drops the earliest departures beyond `MAX_MEMBERS`; members still in
    /// the call are always listed.
    pub fn cap_members(&mut self) {
        let excess = self.members.len().saturating_sub(MAX_MEMBERS);
        if excess == 0 {
            return;
        }
        let mut left: Vec<(u64, usize)> = self
            .members
            .iter()
            .enumerate()
            .filter(|(_, m)| m.status == MemberStatus::Left)
            .map(|(i, m)| (m.changed_at, i))
            .collect();
        left.sort_unstable();
        let mut dropped: Vec<usize> = left.iter().take(excess).map(|&(_, i)| i).collect();
        dropped.sort_unstable();
        for i in dropped.iter().rev() {
            self.members.remove(*i);
        }
        self.left_omitted = self
            .left_omitted
            .saturating_add(u32::try_from(dropped.len()).unwrap_or(u32::MAX));
    }

    pub fn is_live(&self) -> bool {
        self.state == CallState::Live
    }

    /// The rule of `GET /api/v1/calls/{id}`: admins see every call, anyone
    /// else only a call they place or were ever a member of.
    pub fn visible_to(&self, user_id: &str, is_admin: bool) -> bool {
        is_admin || self.involves(user_id)
    }

    pub fn involves(&self, user_id: &str) -> bool {
        self.caller.as_deref() == Some(user_id) || self.members.iter().any(|m| m.user_id == user_id)
    }

    /// Everyone who may see the call without being an admin.
    pub fn participants(&self) -> Vec<&str> {
        let mut users: Vec<&str> = self.members.iter().map(|m| m.user_id.as_str()).collect();
        if let Some(caller) = self.caller.as_deref() {
            if !users.contains(&caller) {
                users.push(caller);
            }
        }
        users
    }

    /// Ends the call at `at` (ms): everyone still in it leaves.
    pub fn end(&mut self, at: u64, by: EndedBy) {
        self.state = CallState::Ended;
        self.ended_at = Some(at);
        self.ended_by = Some(by);
        for member in &mut self.members {
            if member.status != MemberStatus::Left {
                member.status = MemberStatus::Left;
                member.changed_at = at;
            }
        }
    }

    pub fn member_mut(&mut self, user_id: &str) -> Option<&mut Member> {
        self.members.iter_mut().find(|m| m.user_id == user_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(user: &str, status: MemberStatus) -> Member {
        Member {
            user_id: user.to_owned(),
            status,
            last_action: None,
            changed_at: 1,
        }
    }

    #[test]
    fn members_and_the_caller_see_the_call_others_do_not() {
        let mut call = LiveCall::new("c-1", 1);
        call.caller = Some("alice".to_owned());
        call.members = vec![member("bob", MemberStatus::Left)];
        assert!(call.visible_to("alice", false));
        assert!(
            call.visible_to("bob", false),
            "a member who left still sees it"
        );
        assert!(!call.visible_to("mallory", false));
        assert!(call.visible_to("mallory", true));
        assert_eq!(call.participants(), vec!["bob", "alice"]);
    }

    #[test]
    fn ending_makes_everyone_leave_once() {
        let mut call = LiveCall::new("c-1", 1);
        call.members = vec![
            member("a", MemberStatus::Calling),
            member("b", MemberStatus::Left),
        ];
        call.end(9, EndedBy::Reconcile);
        assert_eq!(call.state, CallState::Ended);
        assert_eq!(call.ended_at, Some(9));
        assert_eq!(call.members[0].status, MemberStatus::Left);
        assert_eq!(call.members[0].changed_at, 9);
        assert_eq!(call.members[1].changed_at, 1, "already gone: unchanged");
    }

    #[test]
    fn departed_members_beyond_the_cap_are_counted_not_listed() {
        let mut call = LiveCall::new("c-1", 1);
        for i in 0..MAX_MEMBERS + 10 {
            let mut m = member(
                &format!("u{i}"),
                if i % 2 == 0 {
                    MemberStatus::Left
                } else {
                    MemberStatus::Calling
                },
            );
            m.changed_at = 1_000 - i as u64;
            call.members.push(m);
        }
        call.cap_members();
        assert_eq!(call.members.len(), MAX_MEMBERS);
        assert_eq!(call.left_omitted, 10);
        let calling = call
            .members
            .iter()
            .filter(|m| m.status == MemberStatus::Calling)
            .count();
        assert_eq!(
            calling,
            (MAX_MEMBERS + 10) / 2,
            "no one still in the call is dropped"
        );
        // The earliest departures went: the highest indexes here.
        assert!(call.members.iter().any(|m| m.user_id == "u0"));
        assert!(!call
            .members
            .iter()
            .any(|m| m.user_id == format!("u{}", MAX_MEMBERS + 8)));
        let json = serde_json::to_value(&call).unwrap();
        assert_eq!(json["leftOmitted"], 10);
        call.cap_members();
        assert_eq!(call.left_omitted, 10, "nothing more to drop");
    }

    #[test]
    fn renders_the_documented_shape() {
        let mut call = LiveCall::new("c-1", 5);
        call.media_type = Some(MediaType::Video);
        call.room_id_type = Some(RoomIdType::Numeric);
        call.members = vec![member("bob", MemberStatus::Waiting)];
        let json = serde_json::to_value(&call).unwrap();
        assert_eq!(json["state"], "live");
        assert_eq!(json["mediaType"], "Video");
        assert_eq!(json["roomIdType"], 1);
        assert_eq!(json["endedAt"], serde_json::Value::Null);
        assert_eq!(json["members"][0]["userId"], "bob");
        assert_eq!(json["members"][0]["status"], "Waiting");
        let back: LiveCall = serde_json::from_value(json).unwrap();
        assert_eq!(back, call);
    }
}
