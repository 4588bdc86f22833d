//! Typed request, response and webhook bodies of the v4 API, with Tencent's exact field names.
//! Usable without any HTTP client.

mod account;
pub mod call_config;
pub mod call_engine;
pub mod call_record;
pub mod enums;
pub mod trtc_event;
pub mod webhook;

pub use call_config::{DeleteCallback, GetCallback, GetCallbackResponse, SetCallback};
pub use call_engine::{
    CallInfo, CallMember, CalleeResult, EndCall, GetCallInfo, GetCallInfoResponse, OfflinePushInfo,
    RobotCallInfo, StartCallByRobot, StartCallByRobotResponse,
};
pub use call_record::{
    CallRecord, GetRecordByCallId, GetRecordByCallIdResponse, GetRecordByFilter,
    GetRecordByFilterResponse,
};
pub use enums::{
    CallResult, CallType, CallbackCommand, MediaType, MemberAction, RoomIdType, UserStatus,
};
pub use trtc_event::{trtc_sign, TrtcEvent, TrtcEventInfo, TrtcEventType};
pub use webhook::{
    AfterEndCall, AfterMemberChanged, AfterStartCall, ChangedMember, WebhookAck, WebhookEvent,
    WebhookParseError,
};
