//! `POST /api/v1/webhooks/tencent`: Tencent's call webhooks, proven by the
//! operator's secret, applied once to the live board (docs/live-board.md),
//! and passed on to the app's own backends (docs/relay.md).

use callkit_core::models::{WebhookAck, WebhookEvent};

use super::Success;
use crate::api::ip_limit;
use crate::api::problem::ApiError;
use crate::api::webhook_proof::{self, Secrets, WebhookQuery};
use crate::api::Incoming;
use crate::live::Outcome;
use crate::platform::config::{names, ConfigError};
use crate::relay::enqueue::enqueue;
use crate::relay::job::Source;

/// Webhook bodies are a few hundred bytes; a group call's lists stay far below this.
pub const MAX_WEBHOOK_BYTES: usize = 64 * 1024;

/// The proof is in the query, so it is checked before the body is read:
/// an unproven request costs a hash, and takes a slot of its address's
/// limit (`IP_RATE_LIMITER`), so a flood of them meets 429s. Proven
/// deliveries are never limited here: Tencent sends every app's webhooks
/// from few addresses, and a refused one is a call lost from the board.
pub async fn receive(input: Incoming<'_>) -> Result<Success, ApiError> {
    let live = &input.app.live;
    if !live.receives_webhooks() {
        return Err(ApiError::Misconfigured(ConfigError::Missing(
            names::WEBHOOK_SECRETS,
        )));
    }
    let pairs = input.query();
    let query = WebhookQuery::from_pairs(&pairs);
    let secrets = Secrets {
        token: live.callback_token.as_ref(),
        url_key: live.url_key.as_ref(),
    };
    if let Err(refusal) = webhook_proof::check(&secrets, &query, input.now_secs) {
        ip_limit::check(&input).await?;
        return Err(ApiError::WebhookRefused(refusal));
    }
    let own = input.app.tencent.client.sdkappid.to_string();
    if query.sdkappid.as_deref().map(str::trim) != Some(own.as_str()) {
        return Err(ApiError::WrongSdkAppId);
    }
    let body = input.body(MAX_WEBHOOK_BYTES).await?;
    let Some(event) = parse(&body)? else {
        input.line.detail = Some("ignored an unknown CallbackCommand".to_owned());
        relay(&input, &pairs, &body).await?;
        return ack();
    };
    input.line.call_id = Some(event.call_id().to_owned());
    let outcome = input
        .board()
        .apply(
            event.call_id(),
            &body,
            &webhook_proof::replay_key(&query, &body),
        )
        .await?;
    if outcome == Outcome::Replay {
        input.line.detail = Some("a replayed delivery, not applied again".to_owned());
        return ack();
    }
    if outcome == Outcome::Full {
        // Accepted (Tencent hears OK) though not shown: still relayed.
        input.line.detail =
            Some("the board's shard is full (LIVE_MAX_CALLS): call not shown".to_owned());
    }
    relay(&input, &pairs, &body).await?;
    ack()
}

/// Queues the event for the app's backends before Tencent hears back, so
/// an event Tencent was told is taken is never lost. The relay log drops a
/// duplicate that was delivered already (its `webhook-id` is the same).
async fn relay(
    input: &Incoming<'_>,
    pairs: &[(String, String)],
    body: &[u8],
) -> Result<(), ApiError> {
    let now_ms = js_sys::Date::now() as u64;
    enqueue(
        input.env,
        &input.app.relay,
        Source::Callkit,
        pairs,
        body,
        now_ms,
    )
    .await?;
    Ok(())
}

/// The event, or `None` for a command this edge does not know (answered OK).
fn parse(body: &[u8]) -> Result<Option<WebhookEvent>, ApiError> {
    WebhookEvent::parse(body).map_err(|e| ApiError::bad_request("invalid_webhook", format!("{e}.")))
}

/// Tencent's envelope: `ErrorCode` 0 tells it to ignore the result.
fn ack() -> Result<Success, ApiError> {
    Success::json(200, &WebhookAck::ok(), None)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLES: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/crates/callkit-core/tests/resources/"
    );

    #[test]
    fn every_documented_sample_parses() {
        for name in ["after_start_call", "after_end_call", "after_member_changed"] {
            let body = std::fs::read(format!("{SAMPLES}webhook.{name}.json")).unwrap();
            assert!(matches!(parse(&body), Ok(Some(_))), "{name}");
        }
    }

    #[test]
    fn unknown_commands_are_ignored_and_bad_bodies_refused() {
        assert!(matches!(
            parse(br#"{"CallbackCommand":"Call.CallbackBeforeX","x":1}"#),
            Ok(None)
        ));
        for bad in [&b"not json"[..], b"[]", b"{}", br#"{"CallbackCommand":1}"#] {
            let Err(ApiError::BadRequest { code, .. }) = parse(bad) else {
                panic!("{:?} accepted", String::from_utf8_lossy(bad));
            };
            assert_eq!(code, "invalid_webhook");
        }
        let Err(ApiError::BadRequest { detail, .. }) =
            parse(br#"{"CallbackCommand":"Call.CallbackAfterEndCall","EventTime":1}"#)
        else {
            panic!("a known command of the wrong shape was accepted");
        };
        assert!(detail.contains("Call.CallbackAfterEndCall"), "{detail}");
    }

    #[test]
    fn the_answer_is_tencents_envelope() {
        let success = ack().unwrap();
        assert_eq!(success.status, 200);
        assert_eq!(
            success.body,
            r#"{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0}"#
        );
    }
}
