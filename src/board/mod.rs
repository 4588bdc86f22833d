//! The live call board's model: calls as webhooks describe them, how each
//! webhook changes a call, and what a live socket is sent. No platform code:
//! the Durable Object in `crate::live` stores and serves it.

pub mod apply;
pub mod call;
pub mod message;
pub mod presence;

pub use apply::{apply, Tracked};
pub use call::{CallState, EndedBy, LiveCall, Member, MemberStatus};
pub use message::{Message, Summary, SNAPSHOT_MAX};

/// Who is looking at the board: admins see every call, others their own.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Viewer {
    pub user_id: String,
    pub is_admin: bool,
}

impl Viewer {
    pub fn sees(&self, call: &LiveCall) -> bool {
        call.visible_to(&self.user_id, self.is_admin)
    }
}
