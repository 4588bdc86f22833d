//! `Transport` over the platform `fetch`, with an `AbortController` timeout.

use std::time::Duration;

use callkit_core::client::{HttpResponse, Transport, TransportError};
use futures_util::future::{select, Either};
use worker::{AbortController, Delay, Fetch, Headers, Method, Request, RequestInit};

#[derive(Debug, Default, Clone, Copy)]
pub struct FetchTransport;

impl Transport for FetchTransport {
    async fn post(
        &self,
        url: &str,
        body: Vec<u8>,
        timeout: Duration,
    ) -> Result<HttpResponse, TransportError> {
        let controller = AbortController::default();
        let signal = controller.signal();
        // The request and the body read share one budget, so a server that
        // sends headers and then stalls still times out.
        let exchange = async {
            let request = build_request(url, body)?;
            let mut response = Fetch::Request(request)
                .send_with_signal(&signal)
                .await
                .map_err(|_| network("the connection failed"))?;
            let status = response.status_code();
            let body = response
                .bytes()
                .await
                .map_err(|_| network("the response body could not be read"))?;
            Ok(HttpResponse { status, body })
        };
        // Bound to a local so the losing future drops before `signal`.
        let outcome = match select(Box::pin(exchange), Delay::from(timeout)).await {
            Either::Left((outcome, _)) => outcome,
            Either::Right(((), _)) => {
                controller.abort();
                Err(TransportError::Timeout)
            }
        };
        outcome
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
