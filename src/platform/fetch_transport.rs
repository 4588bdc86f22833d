//! `Transport` over the platform `fetch`, with an abort-signal timeout and a
//! capped body read. It talks to `web_sys` directly: the `worker` wrappers
//! would build a second Request and read every body through a stream reader.

use std::time::Duration;

use callkit_core::client::{HttpResponse, Transport, TransportError, MAX_RESPONSE_BYTES};
use js_sys::futures::JsFuture;
use js_sys::Uint8Array;
use wasm_bindgen::JsCast;
use web_sys::AbortSignal;

use super::abort_timeout::with_abort_timeout;
use super::capped_body::{read_response, BodyError};

#[derive(Debug, Default, Clone, Copy)]
pub struct FetchTransport;

impl Transport for FetchTransport {
    async fn post(
        &self,
        url: &str,
        body: Vec<u8>,
        timeout: Duration,
    ) -> Result<HttpResponse, TransportError> {
        // The request and the body read share one budget, so a server that
        // sends headers and then stalls still times out.
        let exchange = |signal: AbortSignal| async move {
            let response = post_json(url, &body, &signal).await?;
            let status = response.status();
            let body = read_response(response, MAX_RESPONSE_BYTES)
                .await
                .map_err(|e| match e {
                    BodyError::TooLarge => TransportError::TooLarge {
                        limit: MAX_RESPONSE_BYTES,
                    },
                    BodyError::Unreadable => network("the response body could not be read"),
                })?;
            Ok(HttpResponse { status, body })
        };
        with_abort_timeout(timeout, exchange)
            .await
            .unwrap_or(Err(TransportError::Timeout))
    }
}

/// The platform's error texts could quote the URL, which holds the admin
/// UserSig, so they are dropped here on purpose.
async fn post_json(
    url: &str,
    body: &[u8],
    signal: &AbortSignal,
) -> Result<web_sys::Response, TransportError> {
    let headers = web_sys::Headers::new().map_err(|_| network("the request could not be built"))?;
    headers
        .set("Content-Type", "application/json")
        .map_err(|_| network("the request could not be built"))?;
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_headers(&headers);
    init.set_body(&Uint8Array::from(body));
    init.set_signal(Some(signal));
    fetch(url, &init)
        .await
        .map_err(|()| network("the connection failed"))
}

/// The platform `fetch`. Its rejection is dropped unread: it could quote the URL.
pub async fn fetch(url: &str, init: &web_sys::RequestInit) -> Result<web_sys::Response, ()> {
    let global: web_sys::WorkerGlobalScope = js_sys::global().unchecked_into();
    let response = JsFuture::from(global.fetch_with_str_and_init(url, init))
        .await
        .map_err(|_| ())?;
    Ok(response.unchecked_into())
}

fn network(detail: &str) -> TransportError {
    TransportError::Network(detail.to_owned())
}
