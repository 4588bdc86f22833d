//! `Transport` over the platform `fetch`, with an abort-signal timeout and a
//! capped body read.

use std::time::Duration;

use callkit_core::client::{HttpResponse, Transport, TransportError, MAX_RESPONSE_BYTES};
use worker::{Fetch, Headers, Method, Request, RequestInit};

use super::abort_timeout::with_abort_timeout;
use super::capped_body::{read_capped, BodyError};

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
        let exchange = |signal| async move {
            let request = build_request(url, body)?;
            let mut response = Fetch::Request(request)
                .send_with_signal(&signal)
                .await
                .map_err(|_| network("the connection failed"))?;
            let status = response.status_code();
            let body = read_capped(&mut response, MAX_RESPONSE_BYTES)
                .await
                .map_err(|e| match e {
                    BodyError::TooLarge { limit } => TransportError::TooLarge { limit },
                    BodyError::Unreadable => network("the response body could not be read"),
                })?;
            Ok(HttpResponse { status, body })
        };
        with_abort_timeout(timeout, exchange)
            .await
            .unwrap_or(Err(TransportError::Timeout))
    }
}

fn build_request(url: &str, body: Vec<u8>) -> Result<Request, TransportError> {
    let headers = Headers::new();
    headers
        .set("Content-Type", "application/json")
        .map_err(|_| network("the request could not be built"))?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_headers(headers)
        .with_body(Some(js_sys::Uint8Array::from(body.as_slice()).into()));
    // The platform's error text could quote the URL, which holds the admin
    // UserSig, so it is dropped here on purpose.
    Request::new_with_init(url, &init).map_err(|_| network("the request could not be built"))
}

fn network(detail: &str) -> TransportError {
    TransportError::Network(detail.to_owned())
}
