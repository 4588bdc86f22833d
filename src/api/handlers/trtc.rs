//! `POST /api/v1/webhooks/trtc`: TRTC's room and media events
//! (docs/trtc-events.md), proven by `Sign` over the raw body, taken once,
//! and passed on to the app's own backends (docs/relay.md).

use callkit_core::models::{trtc_sign, TrtcEvent};
use serde::Serialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::Success;
use crate::api::ip_limit;
use crate::api::problem::ApiError;
use crate::api::webhook_proof::Refusal;
use crate::api::Incoming;
use crate::live::rooms::MAX_SKEW_MS;
use crate::live::Outcome;
use crate::platform::config::{names, ConfigError};
use crate::relay::enqueue::enqueue;
use crate::relay::job::Source;

/// TRTC's bodies are a few hundred bytes.
pub const MAX_TRTC_BYTES: usize = 16 * 1024;
/// Sent by TRTC with each callback, and passed on to the backends.
const SDKAPPID_HEADER: &str = "SdkAppId";
const SIGN_HEADER: &str = "Sign";

#[derive(Serialize)]
struct Ack {
    code: u8,
}

pub async fn receive(input: Incoming<'_>) -> Result<Success, ApiError> {
    let Some(key) = input.app.trtc.key.as_ref() else {
        return Err(ApiError::Misconfigured(ConfigError::Missing(
            names::TRTC_CALLBACK_KEY,
        )));
    };
    let body = input.body(MAX_TRTC_BYTES).await?;
    let sign = input.header(SIGN_HEADER).unwrap_or_default();
    if !same(&trtc_sign(key.expose(), &body), sign.trim()) {
        // Like the CallKit receiver: an unproven delivery takes a slot of
        // its address's limit (the proof is over the body, so it was read).
        ip_limit::check(&input).await?;
        return Err(ApiError::TrtcRefused(Refusal::Unproven));
    }
    let own = input.app.tencent.client.sdkappid.to_string();
    let sdkappid = input.header(SDKAPPID_HEADER);
    if sdkappid.as_deref().map(str::trim) != Some(own.as_str()) {
        return Err(ApiError::WrongSdkAppId);
    }
    let event = TrtcEvent::parse(&body)
        .map_err(|e| ApiError::bad_request("invalid_webhook", format!("Not a TRTC event: {e}.")))?;
    let now_ms = js_sys::Date::now() as u64;
    if !fresh(event.event_info.event_ms_ts, now_ms) {
        return Err(ApiError::TrtcRefused(Refusal::Stale));
    }
    if event.kind().is_none() {
        input.line.detail = Some(format!("ignored TRTC event type {}", event.event_type));
    }
    let outcome = input.board().apply_trtc(&body, &event.dedupe_key()).await?;
    if outcome == Outcome::Replay {
        input.line.detail = Some("a repeated TRTC event, taken once".to_owned());
    } else {
        let params = [(SDKAPPID_HEADER.to_owned(), own)];
        enqueue(
            input.env,
            &input.app.relay,
            Source::Trtc,
            &params,
            &body,
            now_ms,
        )
        .await?;
    }
    Success::json(200, &Ack { code: 0 }, None)
}

/// `Sign` carries no time, so a captured delivery stays valid: an event far
/// from now is refused (Tencent stops retrying after a minute).
fn fresh(event_ms: u64, now_ms: u64) -> bool {
    event_ms.abs_diff(now_ms) <= MAX_SKEW_MS
}

/// Equal bytes, in time that depends on neither's content.
fn same(expected: &str, sent: &str) -> bool {
    bool::from(Sha256::digest(expected).ct_eq(&Sha256::digest(sent)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The published vector (docs/trtc-events.md), with a clock fixed at its time.
    const VECTOR: &str = "{\n\t\"EventGroupId\":\t2,\n\t\"EventType\":\t204,\n\t\"CallbackTs\":\t1664209748188,\n\t\"EventInfo\":\t{\n\t\t\"RoomId\":\t8489,\n\t\t\"EventTs\":\t1664209748,\n\t\t\"EventMsTs\":\t1664209748180,\n\t\t\"UserId\":\t\"user_85034614\",\n\t\t\"Reason\":\t0\n\t}\n}";
    const SIGN: &str = "kkoFeO3Oh2ZHnjtg8tEAQhtXK16/KI05W3BQff8IvGA=";
    const AT: u64 = 1_664_209_748_188;

    #[test]
    fn the_published_vector_is_proven_and_fresh_at_its_time() {
        assert!(same(&trtc_sign("123654", VECTOR.as_bytes()), SIGN));
        assert!(!same(&trtc_sign("123655", VECTOR.as_bytes()), SIGN));
        assert!(!same(
            &trtc_sign("123654", VECTOR.replace('\t', " ").as_bytes()),
            SIGN
        ));
        let event = TrtcEvent::parse(VECTOR.as_bytes()).unwrap();
        assert!(fresh(event.event_info.event_ms_ts, AT));
        assert!(fresh(
            event.event_info.event_ms_ts,
            AT + MAX_SKEW_MS - 1_000
        ));
        // Replayed later, the same bytes are worthless.
        assert!(!fresh(event.event_info.event_ms_ts, AT + MAX_SKEW_MS));
        assert!(!fresh(
            event.event_info.event_ms_ts,
            AT - MAX_SKEW_MS - 1_000
        ));
    }
}
