//! Test doubles: a scripted transport and a runtime whose clock only moves
//! when something takes time (a sleep, or a scripted transport delay).

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, VecDeque};
use std::rc::Rc;
use std::time::Duration;

use super::runtime::Runtime;
use super::transport::{HttpResponse, Transport, TransportError};

/// Milliseconds since the epoch, shared by the fake transport and runtime.
#[derive(Debug, Clone)]
pub struct FakeClock(Rc<Cell<u64>>);

impl FakeClock {
    pub fn at_secs(secs: u64) -> Self {
        Self(Rc::new(Cell::new(secs * 1000)))
    }

    pub fn now_millis(&self) -> u64 {
        self.0.get()
    }

    pub fn advance(&self, by: Duration) {
        let ms = u64::try_from(by.as_millis()).unwrap_or(u64::MAX);
        self.0.set(self.0.get().saturating_add(ms));
    }
}

#[derive(Debug)]
struct RuntimeState {
    clock: FakeClock,
    randoms: RefCell<VecDeque<u32>>,
    next_random: Cell<u32>,
    sleeps: RefCell<Vec<Duration>>,
}

/// Scripted randoms first, then 1000, 1001, ...; sleeps are recorded and
/// advance the clock.
#[derive(Debug, Clone)]
pub struct FakeRuntime(Rc<RuntimeState>);

impl FakeRuntime {
    pub fn new(clock: FakeClock) -> Self {
        Self(Rc::new(RuntimeState {
            clock,
            randoms: RefCell::new(VecDeque::new()),
            next_random: Cell::new(1000),
            sleeps: RefCell::new(Vec::new()),
        }))
    }

    pub fn script_randoms(&self, values: &[u32]) {
        self.0.randoms.borrow_mut().extend(values.iter().copied());
    }

    pub fn sleeps(&self) -> Vec<Duration> {
        self.0.sleeps.borrow().clone()
    }
}

impl Runtime for FakeRuntime {
    fn now_millis(&self) -> u64 {
        self.0.clock.now_millis()
    }

    async fn sleep(&self, duration: Duration) {
        self.0.sleeps.borrow_mut().push(duration);
        self.0.clock.advance(duration);
    }

    fn random_u32(&self) -> u32 {
        if let Some(value) = self.0.randoms.borrow_mut().pop_front() {
            return value;
        }
        let value = self.0.next_random.get();
        self.0.next_random.set(value.wrapping_add(1));
        value
    }
}

/// What the fake upstream does on one attempt.
#[derive(Debug, Clone)]
pub enum Step {
    /// Answer after `after`; past the attempt's timeout it becomes a timeout.
    Reply {
        status: u16,
        body: String,
        after: Duration,
    },
    /// Fail below HTTP after `after`.
    Fail {
        error: TransportError,
        after: Duration,
    },
    /// Never answer: the whole timeout elapses.
    Hang,
    /// A careless transport: a network error that quotes the full URL.
    EchoUrl,
}

impl Step {
    pub fn ok(body: &str) -> Self {
        Self::Reply {
            status: 200,
            body: body.to_owned(),
            after: Duration::from_millis(50),
        }
    }

    pub fn api_error(code: i64) -> Self {
        Self::ok(&api_error_body(
            code,
            "error",
            "Id-00000000000000000000000000000000-O-Seq-9",
        ))
    }

    pub fn http(status: u16) -> Self {
        Self::Reply {
            status,
            body: "<html><body>502 Bad Gateway</body></html>".to_owned(),
            after: Duration::from_millis(50),
        }
    }

    pub fn network() -> Self {
        Self::Fail {
            error: TransportError::Network("connection reset".to_owned()),
            after: Duration::from_millis(20),
        }
    }
}

/// A success envelope with an optional `Response` object (raw JSON).
pub fn ok_body(request_id: &str, response: Option<&str>) -> String {
    let envelope =
        format!(r#""ActionStatus":"OK","ErrorInfo":"","ErrorCode":0,"RequestId":"{request_id}""#);
    match response {
        Some(json) => format!("{{{envelope},\"Response\":{json}}}"),
        None => format!("{{{envelope}}}"),
    }
}

pub fn api_error_body(code: i64, info: &str, request_id: &str) -> String {
    format!(
        r#"{{"ActionStatus":"FAIL","ErrorInfo":"{info}","ErrorCode":{code},"RequestId":"{request_id}"}}"#
    )
}

/// One recorded POST, with the URL taken apart.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub host: String,
    pub path: String,
    pub query: BTreeMap<String, String>,
    pub random: u32,
    pub timeout: Duration,
    pub body: Vec<u8>,
    pub started_at: u64,
}

impl Attempt {
    pub fn usersig(&self) -> &str {
        self.query.get("usersig").map(String::as_str).unwrap_or("")
    }
}

#[derive(Debug)]
struct TransportState {
    clock: FakeClock,
    script: RefCell<VecDeque<Step>>,
    attempts: RefCell<Vec<Attempt>>,
}

#[derive(Debug, Clone)]
pub struct FakeTransport(Rc<TransportState>);

impl FakeTransport {
    pub fn new(clock: FakeClock, script: impl IntoIterator<Item = Step>) -> Self {
        Self(Rc::new(TransportState {
            clock,
            script: RefCell::new(script.into_iter().collect()),
            attempts: RefCell::new(Vec::new()),
        }))
    }

    pub fn push(&self, step: Step) {
        self.0.script.borrow_mut().push_back(step);
    }

    pub fn attempts(&self) -> Vec<Attempt> {
        self.0.attempts.borrow().clone()
    }
}

impl Transport for FakeTransport {
    async fn post(
        &self,
        url: &str,
        body: Vec<u8>,
        timeout: Duration,
    ) -> Result<HttpResponse, TransportError> {
        let (host, path, query) = split_url(url);
        let random = query
            .get("random")
            .and_then(|r| r.parse().ok())
            .expect("every URL carries a u32 random");
        self.0.attempts.borrow_mut().push(Attempt {
            host,
            path,
            query,
            random,
            timeout,
            body,
            started_at: self.0.clock.now_millis(),
        });
        let step = self
            .0
            .script
            .borrow_mut()
            .pop_front()
            .expect("the test scripted too few steps");
        let clock = &self.0.clock;
        match step {
            Step::EchoUrl => Err(TransportError::Network(format!("could not POST {url}"))),
            Step::Hang => {
                clock.advance(timeout);
                Err(TransportError::Timeout)
            }
            Step::Reply { after, .. } | Step::Fail { after, .. } if after > timeout => {
                clock.advance(timeout);
                Err(TransportError::Timeout)
            }
            Step::Reply {
                status,
                body,
                after,
            } => {
                clock.advance(after);
                Ok(HttpResponse {
                    status,
                    body: body.into_bytes(),
                })
            }
            Step::Fail { error, after } => {
                clock.advance(after);
                Err(error)
            }
        }
    }
}

/// `scheme://host/path?k=v&...` → (host, path, query). Test-only: the
/// client's URLs need no percent-decoding.
fn split_url(url: &str) -> (String, String, BTreeMap<String, String>) {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let (location, query) = rest.split_once('?').unwrap_or((rest, ""));
    let (host, path) = match location.find('/') {
        Some(i) => (&location[..i], &location[i..]),
        None => (location, "/"),
    };
    let query = query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (k.to_owned(), v.to_owned())
        })
        .collect();
    (host.to_owned(), path.to_owned(), query)
}

/// Tests of the fake transport, clock and runtime above: test helpers, not
/// product code (the README counts them apart).
#[cfg(test)]
mod helper_tests {
    use super::*;

    #[test]
    fn splits_a_client_url() {
        let (host, path, query) =
            split_url("https://adminapisgp.im.qcloud.com/v4/call_config/get_callback?sdkappid=1400000000&random=42&contenttype=json");
        assert_eq!(host, "adminapisgp.im.qcloud.com");
        assert_eq!(path, "/v4/call_config/get_callback");
        assert_eq!(query["random"], "42");
        assert_eq!(query["contenttype"], "json");
    }

    #[test]
    fn a_late_reply_becomes_a_timeout_and_the_clock_stops_at_the_timeout() {
        let clock = FakeClock::at_secs(100);
        let transport = FakeTransport::new(
            clock.clone(),
            [Step::Reply {
                status: 200,
                body: "{}".into(),
                after: Duration::from_secs(9),
            }],
        );
        let result = futures::executor::block_on(transport.post(
            "http://h/p?random=1",
            Vec::new(),
            Duration::from_secs(5),
        ));
        assert_eq!(result, Err(TransportError::Timeout));
        assert_eq!(clock.now_millis(), 105_000);
    }

    #[test]
    fn runtime_plays_scripted_randoms_then_counts() {
        let runtime = FakeRuntime::new(FakeClock::at_secs(0));
        runtime.script_randoms(&[7, 7]);
        assert_eq!(
            [
                runtime.random_u32(),
                runtime.random_u32(),
                runtime.random_u32()
            ],
            [7, 7, 1000]
        );
    }
}
