//! One attempt: the original body, byte for byte, POSTed to one backend
//! with the Standard Webhooks headers, within `TIMEOUT`.

use std::time::Duration;

use js_sys::Uint8Array;

use super::job::Job;
use super::log::Attempt;
use super::signature::SigningSecret;
use crate::platform::abort_timeout::with_abort_timeout;
use crate::platform::fetch_transport::fetch;

/// A backend that has not answered by then has failed this attempt.
pub const TIMEOUT: Duration = Duration::from_secs(10);
/// Tells the backend which of Tencent's callbacks the event came from.
pub const SOURCE_HEADER: &str = "X-Callkit-Source";
/// Each of Tencent's own query parameters arrives as `X-Tencent-<name>`.
pub const PARAM_HEADER_PREFIX: &str = "X-Tencent-";

pub async fn deliver(job: &Job, secret: &SigningSecret) -> Attempt {
    let started = js_sys::Date::now();
    let timestamp = (started / 1000.0) as u64;
    let outcome = with_abort_timeout(TIMEOUT, |signal| async move {
        let init = request(job, secret, timestamp).map_err(|()| "network")?;
        init.set_signal(Some(&signal));
        let response = fetch(&job.url, &init).await.map_err(|()| "network")?;
        // The answer's body is not ours to read; free the connection.
        if let Some(body) = response.body() {
            let _ = body.cancel();
        }
        Ok::<u16, &str>(response.status())
    })
    .await
    .unwrap_or(Err("timeout"));
    let latency_ms = (js_sys::Date::now() - started).max(0.0) as u64;
    let (code, error) = match outcome {
        Ok(code) => (Some(code), None),
        Err(error) => (None, Some(error.to_owned())),
    };
    Attempt {
        id: job.id.clone(),
        delivered: code.is_some_and(|c| (200..300).contains(&c)),
        code,
        error,
        latency_ms,
    }
}

fn request(job: &Job, secret: &SigningSecret, timestamp: u64) -> Result<web_sys::RequestInit, ()> {
    let headers = web_sys::Headers::new().map_err(drop)?;
    for (name, value) in headers_of(job, secret, timestamp) {
        headers.set(&name, &value).map_err(drop)?;
    }
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_headers(&headers);
    init.set_body(&Uint8Array::from(job.body.as_bytes()));
    // A redirect would be a new URL the operator never approved.
    init.set_redirect(web_sys::RequestRedirect::Manual);
    Ok(init)
}

/// Every header of one attempt. Parameter names that are not plain tokens
/// are left out; values are percent-encoded, so any text fits a header.
pub fn headers_of(job: &Job, secret: &SigningSecret, timestamp: u64) -> Vec<(String, String)> {
    let mut headers = vec![
        ("Content-Type".to_owned(), "application/json".to_owned()),
        ("webhook-id".to_owned(), job.id.clone()),
        ("webhook-timestamp".to_owned(), timestamp.to_string()),
        (
            "webhook-signature".to_owned(),
            secret.sign(&job.id, timestamp, job.body.as_bytes()),
        ),
        (SOURCE_HEADER.to_owned(), job.source.as_str().to_owned()),
    ];
    for (name, value) in &job.params {
        let plain = !name.is_empty()
            && name.len() <= 64
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if plain {
            let value: String = form_urlencoded::byte_serialize(value.as_bytes()).collect();
            headers.push((format!("{PARAM_HEADER_PREFIX}{name}"), value));
        }
    }
    headers
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::relay::job::Source;

    #[test]
    fn the_headers_carry_the_signature_source_and_params() {
        let secret = SigningSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let job = Job {
            id: "msg_p5jXN8AQM9LWM0D4loKWxJek".into(),
            url: "https://a.example".into(),
            source: Source::Callkit,
            params: vec![
                ("SdkAppid".into(), "1400000000".into()),
                ("ClientIP".into(), "1.2.3.4 x".into()),
                ("bad name".into(), "x".into()),
            ],
            body: r#"{"test": 2432232314}"#.into(),
            accepted_at: 0,
            redeliver: false,
        };
        let headers = headers_of(&job, &secret, 1_614_265_330);
        let get = |n: &str| {
            headers
                .iter()
                .find(|(k, _)| k == n)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(get("webhook-id"), Some("msg_p5jXN8AQM9LWM0D4loKWxJek"));
        assert_eq!(get("webhook-timestamp"), Some("1614265330"));
        assert_eq!(
            get("webhook-signature"),
            Some("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
        );
        assert_eq!(get("X-Callkit-Source"), Some("callkit"));
        assert_eq!(get("X-Tencent-SdkAppid"), Some("1400000000"));
        assert_eq!(get("X-Tencent-ClientIP"), Some("1.2.3.4+x"));
        assert_eq!(headers.len(), 7);
    }
}
