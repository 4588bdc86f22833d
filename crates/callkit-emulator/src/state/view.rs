//! The control API's picture of a call (camelCase JSON).

use super::call::LiveCall;
use callkit_core::models::{CallResult, CallType, MediaType, RoomIdType, UserStatus};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CallView {
    pub call_id: String,
    pub caller: String,
    pub media_type: MediaType,
    pub call_type: CallType,
    pub chat_group_id: String,
    pub room_id: String,
    pub room_id_type: RoomIdType,
    pub start_time: u64,
    pub accept_time: Option<u64>,
    pub end_time: Option<u64>,
    /// `ringing` (nobody answered yet), `connected` or `ended`.
    pub state: &'static str,
    pub call_result: Option<CallResult>,
    /// Current participants; empty once ended.
    pub members: Vec<MemberView>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MemberView {
    pub user: String,
    pub status: UserStatus,
}

impl CallView {
    pub fn of(call: &LiveCall, ended: Option<(CallResult, u64)>) -> Self {
        let state = match (ended, call.accept_time) {
            (Some(_), _) => "ended",
            (None, Some(_)) => "connected",
            (None, None) => "ringing",
        };
        Self {
            call_id: call.call_id.clone(),
            caller: call.caller.clone(),
            media_type: call.media_type,
            call_type: call.call_type,
            chat_group_id: call.chat_group_id.clone(),
            room_id: call.room_id.clone(),
            room_id_type: call.room_id_type,
            start_time: call.start_time,
            accept_time: call.accept_time,
            end_time: ended.map(|(_, t)| t),
            state,
            call_result: ended.map(|(r, _)| r),
            members: if ended.is_some() {
                vec![]
            } else {
                call.members
                    .iter()
                    .map(|m| MemberView {
                        user: m.user.clone(),
                        status: m.status,
                    })
                    .collect()
            },
        }
    }
}
