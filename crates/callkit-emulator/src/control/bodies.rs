//! Control-API request bodies (camelCase JSON).

use callkit_core::models::{MediaType, RoomIdType};
use serde::Deserialize;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedRequest {
    pub sdkappid: Option<u64>,
    pub records: Option<u32>,
    pub live_calls: Option<u32>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateCall {
    pub sdkappid: Option<u64>,
    pub caller: String,
    pub callees: Vec<String>,
    #[serde(default = "audio")]
    pub media_type: MediaType,
    pub group_id: Option<String>,
    pub room_id: Option<String>,
    pub room_id_type: Option<RoomIdType>,
    /// Ring timeout; absent = ring until answered, rejected or ended.
    pub timeout_ms: Option<u64>,
}

fn audio() -> MediaType {
    MediaType::Audio
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MemberMove {
    pub user: String,
    pub sdkappid: Option<u64>,
}
