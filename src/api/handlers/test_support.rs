//! Handlers on a real `Client` over the core's scripted transport: what a
//! handler hides, maps and renders is tested natively, without workerd.

use std::future::Future;

use callkit_core::client::testing::{FakeClock, FakeRuntime, FakeTransport, Step};
use callkit_core::client::Client;

use super::{Input, Success};
use crate::api::auth::Identity;
use crate::api::problem::{ApiError, Problem};
use crate::api::validate::CallId;
use crate::platform::config::TencentConfig;

pub const NOW: u64 = 1_750_000_000;
pub const SAMPLES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/crates/callkit-core/tests/resources/"
);
const KEY: &str = "5bd2850fff3ecb11d7c805251c51ee463a25727bddc2385f3fa8bfee1bb93b5e";

/// A documented Tencent sample answer.
pub fn sample(name: &str) -> Step {
    Step::ok(&std::fs::read_to_string(format!("{SAMPLES}{name}")).unwrap())
}

pub struct Upstream {
    pub tencent: TencentConfig,
    pub client: Client<FakeTransport, FakeRuntime>,
    pub transport: FakeTransport,
}

impl Upstream {
    /// An edge whose upstream answers `script`, one step per attempt.
    pub fn new(script: Vec<Step>) -> Self {
        let settings = [
            ("TENCENT_SDKAPPID", "1400000000"),
            ("TENCENT_API_BASE", "http://127.0.0.1:1"),
            ("TENCENT_SECRET_KEY", KEY),
        ];
        let tencent =
            TencentConfig::from_getter(&crate::platform::settings::from_pairs(&settings)).unwrap();
        let clock = FakeClock::at_secs(NOW);
        let transport = FakeTransport::new(clock.clone(), script);
        let client = Client::new(
            tencent.client.clone(),
            tencent.credential.clone(),
            transport.clone(),
            FakeRuntime::new(clock),
        )
        .unwrap();
        Self {
            tencent,
            client,
            transport,
        }
    }

    pub fn input<'a>(
        &'a self,
        who: &'a Identity,
        call_id: Option<&str>,
    ) -> Input<'a, FakeTransport, FakeRuntime> {
        Input {
            client: &self.client,
            tencent: &self.tencent,
            identity: who,
            needs_membership: !who.is_admin(),
            call_id: call_id.map(|id| CallId::parse(id).unwrap()),
            content_type: Some("application/json".to_owned()),
            body: Vec::new(),
            query: Vec::new(),
            now_secs: NOW,
        }
    }

    /// How many requests reached the upstream.
    pub fn sent(&self) -> usize {
        self.transport.attempts().len()
    }
}

pub fn user(id: &str) -> Identity {
    Identity::new(id, false).unwrap()
}

pub fn admin() -> Identity {
    Identity::new("ops", true).unwrap()
}

pub fn run<F: Future>(future: F) -> F::Output {
    futures::executor::block_on(future)
}

/// The body of a success, parsed.
pub fn json(success: &Success) -> serde_json::Value {
    serde_json::from_str(&success.body).unwrap()
}

/// What the caller would see of an error.
pub fn problem(result: Result<Success, ApiError>) -> Problem {
    match result {
        Ok(s) => panic!("expected an error, got {} {}", s.status, s.body),
        Err(e) => e.to_problem(),
    }
}
