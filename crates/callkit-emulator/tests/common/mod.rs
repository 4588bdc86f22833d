//! Shared helpers: an in-process emulator on 127.0.0.1:0, a tiny HTTP client
//! and a webhook receiver.
#![allow(dead_code)]

use bytes::Bytes;
use callkit_core::usersig::mint_now;
use callkit_emulator::config::{AppConfig, EmulatorConfig, DEMO_KEY, DEMO_SDKAPPID};
use callkit_emulator::RunningEmulator;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Method, Request, Response};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::Value;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::net::TcpListener;

pub const ADMIN: &str = "administrator";
pub const OTHER_APP: u64 = 1_400_000_001;
pub const OTHER_KEY: &str = "0123456789abcdef0123456789abcdef";

pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Two apps (demo + another), record delay 0, rate limiting off.
pub fn config() -> EmulatorConfig {
    EmulatorConfig {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        apps: vec![
            AppConfig::demo(),
            format!("{OTHER_APP}:{OTHER_KEY}:ops,admin2")
                .parse()
                .expect("app spec"),
        ],
        record_delay: Duration::ZERO,
        rate_limit: 0,
        seed_demo: false,
        webhook_token: None,
        webhook_timeout: Duration::from_secs(2),
        simulation: None,
        trtc: None,
    }
}

pub struct Harness {
    pub server: RunningEmulator,
    pub client: Client<HttpConnector, Full<Bytes>>,
}

pub struct Reply {
    pub status: u16,
    pub content_type: String,
    pub body: Bytes,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn code(&self) -> i64 {
        self.json()["ErrorCode"].as_i64().expect("ErrorCode")
    }
}

pub fn admin_sig() -> String {
    mint_now(DEMO_KEY, DEMO_SDKAPPID, ADMIN, 3600, now_secs())
}

/// The v4 query string for the demo app and its admin.
pub fn query() -> String {
    query_for(DEMO_SDKAPPID, ADMIN, &admin_sig())
}

pub fn query_for(sdkappid: u64, identifier: &str, sig: &str) -> String {
    format!(
        "sdkappid={sdkappid}&identifier={identifier}&usersig={sig}&random=123456&contenttype=json"
    )
}

impl Harness {
    pub async fn start() -> Self {
        Self::with(config()).await
    }

    pub async fn with(config: EmulatorConfig) -> Self {
        let server = callkit_emulator::start(config)
            .await
            .expect("emulator starts");
        let client = Client::builder(TokioExecutor::new()).build_http();
        Self { server, client }
    }

    pub fn url(&self, path_and_query: &str) -> String {
        format!("{}{path_and_query}", self.server.base_url())
    }

    pub async fn send(
        &self,
        method: Method,
        path_and_query: &str,
        body: &str,
    ) -> Result<Reply, hyper_util::client::legacy::Error> {
        let req = Request::builder()
            .method(method)
            .uri(self.url(path_and_query))
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(body.to_owned())))
            .expect("request");
        let resp = self.client.request(req).await?;
        let status = resp.status().as_u16();
        let content_type = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let body = resp.into_body().collect().await.expect("body").to_bytes();
        Ok(Reply {
            status,
            content_type,
            body,
        })
    }

    pub async fn post(&self, path_and_query: &str, body: &str) -> Reply {
        self.send(Method::POST, path_and_query, body)
            .await
            .expect("answer")
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.send(Method::GET, path, "").await.expect("answer")
    }

    /// A v4 command for the demo app as its admin.
    pub async fn v4(&self, command_path: &str, body: Value) -> Reply {
        self.post(
            &format!("/v4/{command_path}?{}", query()),
            &body.to_string(),
        )
        .await
    }

    pub async fn control(&self, path: &str, body: Value) -> Value {
        let r = self
            .post(&format!("/_emulator/{path}"), &body.to_string())
            .await;
        assert_eq!(
            r.status,
            200,
            "{path}: {}",
            String::from_utf8_lossy(&r.body)
        );
        r.json()
    }

    pub async fn new_call(&self, caller: &str, callees: &[&str]) -> String {
        let v = self
            .control(
                "calls",
                serde_json::json!({"caller": caller, "callees": callees, "mediaType": "Video"}),
            )
            .await;
        v["callId"].as_str().expect("callId").to_owned()
    }

    pub async fn counters(&self) -> Value {
        self.get(&format!("/_emulator/counters?sdkappid={DEMO_SDKAPPID}"))
            .await
            .json()
    }
}

/// Polls `probe` every 10 ms until it yields a value, and panics naming
/// `what` if none came within `within`: a wait that ends as soon as the
/// condition holds and fails loudly if it never does.
pub async fn eventually<T, F, Fut>(what: &str, within: Duration, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what}: not within {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// One webhook as received.
#[derive(Debug, Clone)]
pub struct Hook {
    pub path_and_query: String,
    pub body: Value,
}

impl Hook {
    pub fn param(&self, name: &str) -> Option<String> {
        let query = self.path_and_query.split_once('?')?.1;
        query.split('&').find_map(|kv| {
            let (k, v) = kv.split_once('=')?;
            (k == name).then(|| v.to_owned())
        })
    }
}

/// A local HTTP server that records every POST and answers the documented ack.
pub struct Receiver {
    pub url: String,
    pub hooks: Arc<Mutex<Vec<Hook>>>,
}

impl Receiver {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let hooks: Arc<Mutex<Vec<Hook>>> = Arc::default();
        let sink = hooks.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let sink = sink.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req: Request<Incoming>| {
                        let sink = sink.clone();
                        async move {
                            let path_and_query = req
                                .uri()
                                .path_and_query()
                                .map(|p| p.to_string())
                                .unwrap_or_default();
                            let bytes = req.into_body().collect().await?.to_bytes();
                            let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
                            sink.lock().expect("lock").push(Hook {
                                path_and_query,
                                body,
                            });
                            Ok::<_, hyper::Error>(Response::new(Full::new(Bytes::from_static(
                                br#"{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0}"#,
                            ))))
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Self {
            url: format!("http://{addr}/callback"),
            hooks,
        }
    }

    /// Waits until `n` hooks arrived (or fails after 5 s).
    pub async fn wait_for(&self, n: usize) -> Vec<Hook> {
        for _ in 0..500 {
            {
                let hooks = self.hooks.lock().expect("lock");
                if hooks.len() >= n {
                    return hooks.clone();
                }
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!(
            "expected {n} webhooks, got {:?}",
            self.hooks.lock().expect("lock")
        );
    }
}
