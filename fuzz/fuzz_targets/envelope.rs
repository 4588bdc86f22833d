//! The upstream reply parser: whatever Tencent (or a proxy in between)
//! answers becomes a typed reply or a typed error, never a panic.
#![no_main]

use callkit_core::envelope::{parse_reply, NoContent};
use callkit_core::models::{
    GetCallInfoResponse, GetCallbackResponse, GetRecordByCallIdResponse,
    GetRecordByFilterResponse, StartCallByRobotResponse,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The first two bytes choose the HTTP status, mostly 200.
    let (status, body) = match data {
        [0xff, a, rest @ ..] => (u16::from(*a) + 100, rest),
        _ => (200, data),
    };
    let _ = parse_reply::<GetCallInfoResponse>(status, body);
    let _ = parse_reply::<NoContent>(status, body);
    let _ = parse_reply::<StartCallByRobotResponse>(status, body);
    let _ = parse_reply::<GetRecordByCallIdResponse>(status, body);
    let _ = parse_reply::<GetRecordByFilterResponse>(status, body);
    let _ = parse_reply::<GetCallbackResponse>(status, body);
});
