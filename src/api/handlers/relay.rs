//! The relay's delivery log (docs/relay.md), for admins:
//! `GET /api/v1/relay/deliveries?status=&url=&cursor=` and
//! `POST /api/v1/relay/deliveries/{deliveryId}/redeliver`.

use serde::Serialize;

use super::Success;
use crate::api::problem::{ApiError, DELIVERY_NOT_FOUND};
use crate::api::Incoming;
use crate::platform::config::{names, ConfigError};
use crate::relay::enqueue::requeue;
use crate::relay::job::is_webhook_id;
use crate::relay::log::{parse_cursor, Filter, LogStub, Status};

/// Longer than any URL the settings accept is no URL of ours.
const MAX_URL_CHARS: usize = 2_048;

pub async fn deliveries(input: Incoming<'_>) -> Result<Success, ApiError> {
    let filter = filter(&input.query())?;
    let json = log(&input)?.page(&filter).await?;
    Ok(Success::raw(200, json))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Redelivery<'a> {
    id: &'a str,
    status: &'static str,
}

/// Puts one delivery back on the queue, to the same URL with the same
/// `webhook-id`, even if it was delivered before.
pub async fn redeliver(input: Incoming<'_>) -> Result<Success, ApiError> {
    // The document's pattern, like a CallId's: bad input is a 400, not a miss.
    let id = delivery_id(input.path())
        .ok_or_else(|| {
            ApiError::bad_request(
                "invalid_field",
                "deliveryId must be msg_ and 24 letters, digits, - or _.",
            )
        })?
        .to_owned();
    let relay = &input.app.relay;
    let log = log(&input)?;
    if !relay.is_on() {
        // A delivery from when the relay was on cannot go anywhere now.
        return Err(if log.exists(&id).await? {
            ApiError::Misconfigured(ConfigError::Missing(names::WEBHOOK_FORWARD_URLS))
        } else {
            DELIVERY_NOT_FOUND
        });
    }
    let job = log.redeliver(&id).await?;
    if relay.position(&job.url).is_none() {
        return Err(ApiError::bad_request(
            "url_not_configured",
            "This delivery's URL is no longer in WEBHOOK_FORWARD_URLS.",
        ));
    }
    requeue(input.env, relay, &job).await?;
    input.line.detail = Some(format!("redelivery of {id} queued"));
    Success::json(
        202,
        &Redelivery {
            id: &id,
            status: Status::Pending.as_str(),
        },
        None,
    )
}

fn log(input: &Incoming<'_>) -> Result<LogStub, ApiError> {
    Ok(LogStub::for_app(
        input.env,
        input.app.tencent.client.sdkappid,
    )?)
}

/// `/api/v1/relay/deliveries/{deliveryId}/redeliver` → the id, if it is one.
fn delivery_id(path: &str) -> Option<&str> {
    let id = path
        .strip_prefix("/api/v1/relay/deliveries/")?
        .strip_suffix("/redeliver")?;
    is_webhook_id(id).then_some(id)
}

fn filter(query: &[(String, String)]) -> Result<Filter, ApiError> {
    let invalid = |detail: &str| ApiError::bad_request("invalid_filter", detail.to_owned());
    let mut filter = Filter::default();
    for (name, value) in query {
        match name.as_str() {
            "status" => {
                filter.status = Some(Status::parse(value).ok_or_else(|| {
                    invalid("status must be pending, retrying, delivered or dead.")
                })?);
            }
            "url" if value.is_empty() => {}
            "url" if value.chars().count() <= MAX_URL_CHARS => filter.url = Some(value.clone()),
            "url" => return Err(invalid("url is longer than any configured URL.")),
            "cursor" => {
                filter.after =
                    Some(parse_cursor(value).ok_or_else(|| {
                        invalid("cursor must be a nextCursor from an earlier page.")
                    })?);
            }
            _ => return Err(invalid("Only status, url and cursor filter deliveries.")),
        }
    }
    Ok(filter)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::pairs_of as pairs;

    #[test]
    fn the_filter_reads_status_url_and_cursor() {
        let f = filter(&pairs(&[
            ("status", "dead"),
            ("url", "https://a.example/x"),
            ("cursor", "12.msg_abcdefghijklmnopqrstuvwx"),
        ]))
        .unwrap();
        assert_eq!(f.status, Some(Status::Dead));
        assert_eq!(f.url.as_deref(), Some("https://a.example/x"));
        assert_eq!(f.after, Some((12, "msg_abcdefghijklmnopqrstuvwx".into())));
        assert_eq!(filter(&pairs(&[("url", "")])).unwrap(), Filter::default());
    }

    #[test]
    fn a_bad_filter_is_a_clear_400() {
        let long = "x".repeat(MAX_URL_CHARS + 1);
        for bad in [
            pairs(&[("status", "failed")]),
            pairs(&[("status", "")]),
            pairs(&[("cursor", "nope")]),
            pairs(&[("cursor", "")]),
            pairs(&[("cursor", "9007199254740992.msg_abcdefghijklmnopqrstuvwx")]),
            pairs(&[("page", "2")]),
            pairs(&[("url", &long)]),
        ] {
            let Err(ApiError::BadRequest { code, .. }) = filter(&bad) else {
                panic!("{bad:?} accepted");
            };
            assert_eq!(code, "invalid_filter");
        }
    }

    #[test]
    fn the_id_comes_from_the_path_and_must_be_one_of_ours() {
        assert_eq!(
            delivery_id("/api/v1/relay/deliveries/msg_abcdefghijklmnopqrstuvwx/redeliver"),
            Some("msg_abcdefghijklmnopqrstuvwx")
        );
        assert_eq!(delivery_id("/api/v1/relay/deliveries/x/redeliver"), None);
        assert_eq!(
            delivery_id("/api/v1/relay/deliveries/msg_abcdefghijklmnopqrstuvwx"),
            None
        );
    }
}
