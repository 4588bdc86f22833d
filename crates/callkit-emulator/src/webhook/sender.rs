//! Fire-and-forget webhook delivery: a spawned task per event with a short
//! timeout, so a slow receiver never holds up a REST answer.

use super::log::{WebhookLog, WebhookRecord};
use super::url::{webhook_url, OptPlatform};
use crate::clock;
use bytes::Bytes;
use callkit_core::secret::Secret;
use http_body_util::{BodyExt, Full};
use hyper::{Method, Request};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct WebhookSender {
    client: Client<HttpConnector, Full<Bytes>>,
    token: Option<Secret>,
    timeout: Duration,
    log: Arc<WebhookLog>,
}

/// One event to deliver.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub sdkappid: u64,
    pub base_url: String,
    pub command: &'static str,
    pub platform: OptPlatform,
    pub body: Vec<u8>,
}

impl WebhookSender {
    pub fn new(token: Option<Secret>, timeout: Duration, log: Arc<WebhookLog>) -> Self {
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(5))
            .build_http();
        Self {
            client,
            token,
            timeout,
            log,
        }
    }

    pub fn log(&self) -> &Arc<WebhookLog> {
        &self.log
    }

    /// Spawns the deliveries, in order, and returns at once. Needs a Tokio
    /// runtime. One task per batch keeps e.g. member-changed before end-call.
    pub fn emit(&self, events: Vec<Outgoing>) {
        if events.is_empty() {
            return;
        }
        let this = self.clone();
        tokio::spawn(async move {
            for event in events {
                this.deliver(event).await;
            }
        });
    }

    async fn deliver(&self, event: Outgoing) {
        let request_time = clock::now_secs();
        let url = webhook_url(
            &event.base_url,
            event.sdkappid,
            event.command,
            event.platform,
            self.token.as_ref().map(|t| (t.expose(), request_time)),
        );
        let (status, error) = match self.post(&url, event.body.clone(), &[]).await {
            Ok(status) => (Some(status), None),
            Err(reason) => (None, Some(reason)),
        };
        self.log.push(WebhookRecord {
            sdkappid: event.sdkappid,
            url,
            command: event.command.to_owned(),
            body: serde_json::from_slice(&event.body).unwrap_or(serde_json::Value::Null),
            status,
            error,
            sent_at: clock::now_millis(),
        });
    }

    /// One POST with `headers` besides the JSON content type.
    pub(super) async fn post(
        &self,
        url: &str,
        body: Vec<u8>,
        headers: &[(&str, String)],
    ) -> Result<u16, String> {
        if url.starts_with("https://") {
            return Err("https is not supported by the emulator's webhook sender".into());
        }
        let mut request = Request::builder()
            .method(Method::POST)
            .uri(url)
            .header("content-type", "application/json");
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        let request = request
            .body(Full::new(Bytes::from(body)))
            .map_err(|_| "invalid callback URL".to_owned())?;
        let exchange = async {
            let response = self
                .client
                .request(request)
                .await
                .map_err(|e| format!("request failed: {e}"))?;
            let status = response.status().as_u16();
            // Drain the answer so the connection can be reused.
            let _ = response.into_body().collect().await;
            Ok(status)
        };
        tokio::time::timeout(self.timeout, exchange)
            .await
            .map_err(|_| "timed out".to_owned())?
    }
}
