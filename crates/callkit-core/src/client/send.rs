//! `Client`: signs, sends and retries one command within a deadline.

use std::time::Duration;

use serde::de::IgnoredAny;

use super::config::ClientConfig;
use super::credentials::{AdminCredential, CredentialProvider, CredentialStatus};
use super::error::ClientError;
use super::outcome::{AttemptFailure, CALL_NOT_FOUND, USERSIG_EXPIRED};
use super::record_memo::RecordMemo;
use super::redact::scrub;
use super::runtime::Runtime;
use super::shared_reads::{Joined, Landed, SharedReads, Wait};
use super::transport::Transport;
use crate::command::{ApiCommand, Command, RetrySafety};
use crate::envelope::{parse_reply, Reply, ResponseBody};
use crate::request::{build_url, encode_body, QueryAuth};

/// A CallKit REST client, built once per isolate and shared by reference.
/// Single-threaded by design (a Wasm isolate): no `Send`, no locks.
///
/// The platform supplies a [`Transport`] (one HTTP POST) and a [`Runtime`]
/// (clock, sleep, randomness); the Worker's use `fetch`, `Date` and
/// `crypto.getRandomValues`. Here both are stand-ins: a transport that
/// answers every request with one canned reply, and a fixed clock.
///
/// ```
/// use std::time::Duration;
///
/// use callkit_core::client::{
///     AdminCredential, Client, ClientConfig, ClientError, HttpResponse, Runtime, Transport,
///     TransportError,
/// };
/// use callkit_core::region::{Endpoint, Region};
/// use callkit_core::secret::Secret;
///
/// /// Answers every POST with the same body.
/// struct Canned(&'static str);
///
/// impl Transport for Canned {
///     async fn post(
///         &self,
///         url: &str,
///         body: Vec<u8>,
///         _timeout: Duration,
///     ) -> Result<HttpResponse, TransportError> {
///         // The URL carries the admin UserSig: a real transport never logs it.
///         let path = "https://adminapisgp.im.qcloud.com/v4/call_engine_http_srv/get_call_info?";
///         assert!(url.starts_with(path));
///         assert!(url.contains("sdkappid=1400000000&identifier=administrator&usersig="));
///         assert_eq!(body, br#"{"CallId":"c-1"}"#);
///         Ok(HttpResponse { status: 200, body: self.0.as_bytes().to_vec() })
///     }
/// }
///
/// /// A clock stopped at 2023-11-14; never sleeps.
/// struct Fixed;
///
/// impl Runtime for Fixed {
///     fn now_millis(&self) -> u64 {
///         1_700_000_000_000
///     }
///     async fn sleep(&self, _duration: Duration) {}
///     fn random_u32(&self) -> u32 {
///         4
///     }
/// }
///
/// let region = Endpoint::Region(Region::Singapore);
/// let config = ClientConfig::new(region, 1_400_000_000, "administrator");
/// // Admin UserSigs are minted from the key, cached, and renewed before expiry.
/// let credential = AdminCredential::secret_key(Secret::new("5bd2850fff3ecb11d7c805251c51ee463a25727bddc2385f3fa8bfee1bb93b5e"));
/// let reply = r#"{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0,"RequestId":"Id-1",
///     "Response":{"CallInfo":{"CallId":"c-1","MediaType":"Audio"},
///     "UserList":[{"User_Account":"alice","Status":"Calling"}]}}"#;
/// let client = Client::new(config, credential, Canned(reply), Fixed)?;
///
/// let info = futures::executor::block_on(client.calls().info("c-1"))?;
/// assert_eq!(info.request_id, "Id-1");
/// assert_eq!(info.data.user_list[0].user_account, "alice");
/// assert_eq!(client.credential_status().expires_at, Some(1_700_000_000 + 86_400));
/// # Ok::<(), ClientError>(())
/// ```
pub struct Client<T: Transport, R: Runtime> {
    config: ClientConfig,
    base_urls: Vec<String>,
    credentials: CredentialProvider,
    transport: T,
    runtime: R,
    records: Option<RecordMemo>,
    reads: Option<SharedReads>,
}

impl<T: Transport, R: Runtime> Client<T, R> {
    /// Validates the configuration and the credential (a static sig is
    /// decoded: identifier and SDKAppID must match) so a bad secret fails at
    /// start-up with a named error rather than on the first request.
    pub fn new(
        config: ClientConfig,
        credential: AdminCredential,
        transport: T,
        runtime: R,
    ) -> Result<Self, ClientError> {
        config.validate()?;
        let base_urls = config.endpoint.base_urls();
        if base_urls.is_empty() {
            return Err(ClientError::InvalidConfig {
                reason: "the endpoint has no base URL".to_owned(),
            });
        }
        let credentials =
            CredentialProvider::new(credential, config.sdkappid, &config.admin_identifier)?;
        let records = RecordMemo::new(config.record_memo_ttl);
        let reads = config.share_reads.then(SharedReads::default);
        Ok(Self {
            config,
            base_urls,
            credentials,
            transport,
            runtime,
            records,
            reads,
        })
    }

    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// The kept call records, when `record_memo_ttl` is not zero.
    pub(super) fn record_memo(&self) -> Option<&RecordMemo> {
        self.records.as_ref()
    }

    pub(super) fn now_millis(&self) -> u64 {
        self.runtime.now_millis()
    }

    /// Mode and expiry of the admin sig as it stands (a key's first sig is
    /// minted only when needed, so its expiry may still be `None`).
    pub fn credential_status(&self) -> CredentialStatus {
        self.credentials.status()
    }

    /// Mode and expiry of the sig the next request would use, minting or
    /// renewing a key's sig now if due (local work only). For health
    /// reports, which should show an expiry before the first upstream call.
    pub fn ready_credential_status(&self) -> CredentialStatus {
        // A static sig that expired still reports its expiry: that is the point.
        let _ = self.credentials.current(self.runtime.now_secs());
        self.credentials.status()
    }

    /// Sends `request`, retrying as its command's [`RetrySafety`] allows,
    /// failing over to the standby host after a network error or timeout
    /// (only for commands that may be retried: never `start_call_by_robot`),
    /// and never running past `config.deadline`.
    ///
    /// Only the reply's typed parse is generic; the retry loop is shared by
    /// every command (one copy in the Worker's bundle, not eight).
    pub async fn send<C: ApiCommand>(
        &self,
        request: &C,
    ) -> Result<Reply<C::Response>, ClientError> {
        let delivery = self.deliver_read(C::COMMAND, encode_body(request)).await;
        match delivery.outcome {
            Ok(body) => parse_reply::<C::Response>(200, &body).map_err(|e| {
                // Only a typed-parse failure can reach here: the envelope was OK.
                AttemptFailure::from_envelope(e).into_error(delivery.attempts, str::to_owned)
            }),
            Err(error) => already_done::<C::Response>(C::COMMAND, &error, delivery.earlier_unknown)
                .ok_or(error),
        }
    }

    /// A read joins an identical one in flight, or leads it; anything else,
    /// or every read with sharing off, goes its own way. One call of
    /// `deliver`, so its state machine is in the bundle once.
    async fn deliver_read(&self, command: Command, body: Vec<u8>) -> Delivery {
        let joined = self.reads.as_ref().filter(|_| command.is_read());
        let leader = match joined.map(|reads| reads.join(command, &body)) {
            Some(Joined::Follower(wait)) => match self.follow(&wait).await {
                Some((body, attempts)) => return Progress::default().shared(body, attempts),
                None => None,
            },
            Some(Joined::Leader(leader)) => Some(leader),
            None => None,
        };
        let delivery = self.deliver(command, body).await;
        if let Some(leader) = leader {
            let ok = delivery.outcome.as_ref().ok();
            leader.land(ok.map(|body| (body.clone(), delivery.attempts)));
        }
        delivery
    }

    /// Looks at the leader's flight between sleeps of this request's own
    /// (see `shared_reads`) until it lands, for at most the deadline.
    async fn follow(&self, wait: &Wait) -> Option<Landed> {
        let give_up_at = self.runtime.now_millis() + millis(self.config.deadline);
        loop {
            if let Some(landed) = wait.landed() {
                return landed;
            }
            if self.runtime.now_millis() >= give_up_at {
                return None;
            }
            self.runtime.sleep(FOLLOW_EVERY).await;
        }
    }

    /// The retry loop: attempts until one answers an OK envelope, then hands
    /// back its body.
    async fn deliver(&self, command: Command, body: Vec<u8>) -> Delivery {
        let safety = command.retry_safety();
        let deadline_at = self
            .runtime
            .now_millis()
            .saturating_add(millis(self.config.deadline));
        let mut state = Progress::default();
        let mut host = 0usize;
        let mut reminted = false;
        let mut used_randoms: Vec<u32> = Vec::new();
        loop {
            let remaining = deadline_at.saturating_sub(self.runtime.now_millis());
            if remaining == 0 {
                let attempts = state.attempts;
                return state.failed(ClientError::DeadlineExceeded { attempts });
            }
            let random = fresh_random(self.runtime.random_u32(), &used_randoms);
            used_randoms.push(random);
            state.attempts += 1;
            let sent = self
                .attempt(
                    command,
                    host,
                    random,
                    &body,
                    self.config
                        .attempt_timeout
                        .min(Duration::from_millis(remaining)),
                )
                .await;
            let (failure, scrub_extra) = match sent {
                Ok(answer) => return state.answered(answer),
                Err(Attempted::Credential(error)) => return state.failed(error),
                Err(Attempted::Failed {
                    failure,
                    usersig_and_url,
                }) => (failure, usersig_and_url),
            };
            if failure.api_code() == Some(USERSIG_EXPIRED)
                && !reminted
                && self.credentials.invalidate()
            {
                // 70001 means the upstream did nothing: re-mint and resend once,
                // whatever the command, without backoff (it is not a load signal).
                reminted = true;
                continue;
            }
            match self.next_delay(&failure, safety, &mut state, &mut host, deadline_at) {
                Some(delay) => self.runtime.sleep(delay).await,
                None => {
                    let error = self.final_error(failure, state.attempts, &scrub_extra);
                    return state.failed(error);
                }
            }
        }
    }

    /// After a failed attempt: how long to wait before the next one, or
    /// `None` to give up. Failing over to the standby is sticky for the call.
    fn next_delay(
        &self,
        failure: &AttemptFailure,
        safety: RetrySafety,
        state: &mut Progress,
        host: &mut usize,
        deadline_at: u64,
    ) -> Option<Duration> {
        if !failure.is_retryable(safety) || state.attempts >= self.config.retry.max_attempts {
            return None;
        }
        if failure.suggests_failover() && *host + 1 < self.base_urls.len() {
            *host += 1;
        }
        state.earlier_unknown |= failure.outcome_unknown();
        let delay = self
            .config
            .retry
            .backoff(state.attempts, self.runtime.random_u32());
        // No time for another attempt: the caller reports what actually went
        // wrong (a rate limit stays a rate limit, not a timeout).
        let fits = self.runtime.now_millis().saturating_add(millis(delay)) < deadline_at;
        fits.then_some(delay)
    }

    /// The error for the last failure, with every credential and the URL
    /// masked in text that came from outside.
    fn final_error(
        &self,
        failure: AttemptFailure,
        attempts: u32,
        used: &[String; 2],
    ) -> ClientError {
        let secrets = self.credentials.secrets();
        let mut all: Vec<&str> = secrets.iter().map(String::as_str).collect();
        all.extend(used.iter().map(String::as_str));
        failure.into_error(attempts, |text: &str| scrub(text, &all))
    }

    /// One signed POST to `base_urls[host]`; `Ok` holds the body of an OK envelope.
    async fn attempt(
        &self,
        command: Command,
        host: usize,
        random: u32,
        body: &[u8],
        timeout: Duration,
    ) -> Result<Vec<u8>, Attempted> {
        let usersig = self
            .credentials
            .current(self.runtime.now_secs())
            .map_err(Attempted::Credential)?;
        let auth = QueryAuth {
            sdkappid: self.config.sdkappid,
            identifier: &self.config.admin_identifier,
            usersig: usersig.expose(),
        };
        let url = build_url(&self.base_urls[host], command, &auth, random);
        let failure = match self.transport.post(&url, body.to_vec(), timeout).await {
            Err(error) => AttemptFailure::from_transport(error),
            // Only the envelope is read here; the typed parse happens once, at the end.
            Ok(response) => {
                match parse_reply::<Option<IgnoredAny>>(response.status, &response.body) {
                    Ok(_) => return Ok(response.body),
                    Err(error) => AttemptFailure::from_envelope(error),
                }
            }
        };
        Err(Attempted::Failed {
            failure,
            usersig_and_url: [usersig.expose().to_owned(), url],
        })
    }
}

/// How often a follower looks at its leader's flight: a fraction of any
/// real upstream round trip.
const FOLLOW_EVERY: Duration = Duration::from_millis(2);

/// What the retry loop ended with, and what it knows about earlier attempts.
struct Delivery {
    outcome: Result<Vec<u8>, ClientError>,
    attempts: u32,
    /// An earlier attempt may have taken effect without our seeing its answer.
    earlier_unknown: bool,
}

/// The loop's running count.
#[derive(Default)]
struct Progress {
    attempts: u32,
    earlier_unknown: bool,
}

impl Progress {
    /// Another caller's answer: its attempts, none of them ours.
    fn shared(self, body: Vec<u8>, attempts: u32) -> Delivery {
        Progress { attempts, ..self }.answered(body)
    }

    fn answered(self, body: Vec<u8>) -> Delivery {
        self.ended(Ok(body))
    }

    fn failed(self, error: ClientError) -> Delivery {
        self.ended(Err(error))
    }

    fn ended(self, outcome: Result<Vec<u8>, ClientError>) -> Delivery {
        Delivery {
            outcome,
            attempts: self.attempts,
            earlier_unknown: self.earlier_unknown,
        }
    }
}

enum Attempted {
    /// No usable admin credential: nothing was sent.
    Credential(ClientError),
    /// The attempt failed; the sig and URL it used are to be masked in errors.
    Failed {
        failure: AttemptFailure,
        usersig_and_url: [String; 2],
    },
}

/// `end_call` only: a 101004 after an attempt we never heard back from means
/// that attempt ended the call, so the call is reported ended.
fn already_done<D: ResponseBody>(
    command: Command,
    error: &ClientError,
    earlier_unknown: bool,
) -> Option<Reply<D>> {
    let ended_unseen = command.retry_safety() == RetrySafety::EndCall
        && earlier_unknown
        && error.api_code() == Some(CALL_NOT_FOUND);
    if !ended_unseen {
        return None;
    }
    Some(Reply {
        request_id: error.request_id().unwrap_or_default().to_owned(),
        data: D::absent()?,
    })
}

/// Never reuse a `random` within one call, even with a poor source: the
/// upstream may take an equal value for a duplicate request.
fn fresh_random(mut drawn: u32, used: &[u32]) -> u32 {
    // `used` holds a handful of values, so this ends after a few steps.
    while used.contains(&drawn) {
        drawn = drawn.wrapping_add(1);
    }
    drawn
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::testing::{
        api_error_body, ok_body, Attempt, FakeClock, FakeRuntime, FakeTransport, Step,
    };
    use crate::client::TransportError;
    use crate::command::Command;
    use crate::envelope::NoContent;
    use crate::error_code::RetryClass;
    use crate::region::{Endpoint, Region};
    use crate::secret::Secret;
    use crate::usersig;
    use futures::executor::block_on;
    use serde::{Deserialize, Serialize};

    const KEY: &str = "5bd2850fff3ecb11d7c805251c51ee463a25727bddc2385f3fa8bfee1bb93b5e";
    const APP: u64 = 1_400_000_000;
    const ADMIN: &str = "administrator";
    const T0: u64 = 1_700_000_000;
    const PRIMARY: &str = "adminapisgp.im.qcloud.com";
    const STANDBY: &str = "adminapisgp.my-imcloud.com";

    // Local probe commands, one per retry safety, so these tests exercise the
    // attempt loop alone.
    #[derive(Serialize)]
    struct Read {
        #[serde(rename = "CallId")]
        call_id: &'static str,
    }
    #[derive(Debug, Deserialize, PartialEq)]
    struct ReadResponse {
        #[serde(rename = "Value")]
        value: u32,
    }
    impl ResponseBody for ReadResponse {}
    impl ApiCommand for Read {
        const COMMAND: Command = Command::GetCallInfo;
        type Response = ReadResponse;
    }

    #[derive(Serialize)]
    struct End;
    impl ApiCommand for End {
        const COMMAND: Command = Command::EndCall;
        type Response = NoContent;
    }

    #[derive(Serialize)]
    struct Start;
    impl ApiCommand for Start {
        const COMMAND: Command = Command::StartCallByRobot;
        type Response = NoContent;
    }

    const READ: Read = Read { call_id: "c-1" };

    struct Harness {
        clock: FakeClock,
        transport: FakeTransport,
        runtime: FakeRuntime,
        client: Client<FakeTransport, FakeRuntime>,
    }

    impl Harness {
        fn attempts(&self) -> Vec<Attempt> {
            self.transport.attempts()
        }
        fn hosts(&self) -> Vec<String> {
            self.attempts().into_iter().map(|a| a.host).collect()
        }
        fn elapsed_ms(&self) -> u64 {
            self.clock.now_millis() - T0 * 1000
        }
    }

    fn config() -> ClientConfig {
        ClientConfig::new(Endpoint::Region(Region::Singapore), APP, ADMIN)
    }

    fn minted() -> AdminCredential {
        AdminCredential::secret_key(Secret::new(KEY))
    }

    fn static_sig(time: u64, expire: u64) -> (String, AdminCredential) {
        let sig = usersig::mint_now(KEY, APP, ADMIN, expire, time);
        (
            sig.clone(),
            AdminCredential::StaticUserSig(Secret::new(sig)),
        )
    }

    fn harness_with(
        config: ClientConfig,
        credential: AdminCredential,
        script: impl IntoIterator<Item = Step>,
    ) -> Harness {
        let clock = FakeClock::at_secs(T0);
        let transport = FakeTransport::new(clock.clone(), script);
        let runtime = FakeRuntime::new(clock.clone());
        let client = Client::new(config, credential, transport.clone(), runtime.clone())
            .expect("valid client");
        Harness {
            clock,
            transport,
            runtime,
            client,
        }
    }

    fn harness(script: impl IntoIterator<Item = Step>) -> Harness {
        harness_with(config(), minted(), script)
    }

    fn read_ok() -> Step {
        Step::ok(&ok_body("Id-read-ok", Some(r#"{"Value":7}"#)))
    }

    fn end_ok() -> Step {
        Step::ok(&ok_body("Id-end-ok", None))
    }

    fn api_code(result: Result<impl std::fmt::Debug, ClientError>) -> (i64, RetryClass) {
        match result {
            Err(ClientError::Api { code, class, .. }) => (code, class),
            other => panic!("expected an Api error, got {other:?}"),
        }
    }

    #[test]
    fn success_returns_typed_data_and_signs_the_url() {
        let h = harness([read_ok()]);
        let reply = block_on(h.client.send(&READ)).unwrap();
        assert_eq!(reply.request_id, "Id-read-ok");
        assert_eq!(reply.data, ReadResponse { value: 7 });
        let a = &h.attempts()[0];
        assert_eq!(a.host, PRIMARY);
        assert_eq!(a.path, "/v4/call_engine_http_srv/get_call_info");
        assert_eq!(a.query["sdkappid"], APP.to_string());
        assert_eq!(a.query["identifier"], ADMIN);
        assert_eq!(a.query["contenttype"], "json");
        assert_eq!(a.body, br#"{"CallId":"c-1"}"#);
        assert_eq!(a.timeout, Duration::from_secs(5));
        let sig = usersig::decode(a.usersig()).unwrap();
        assert_eq!((sig.identifier.as_str(), sig.sdkappid), (ADMIN, APP));
    }

    #[test]
    fn exact_sleeps_for_a_three_attempt_retry() {
        let h = harness([Step::http(502), Step::http(503), read_ok()]);
        // url random, jitter, url random, jitter, url random.
        h.runtime.script_randoms(&[11, 0, 22, u32::MAX, 33]);
        let reply = block_on(h.client.send(&READ)).unwrap();
        assert_eq!(reply.data.value, 7);
        assert_eq!(
            h.runtime.sleeps(),
            [Duration::from_millis(100), Duration::from_millis(400)]
        );
        let attempts = h.attempts();
        let randoms: Vec<u32> = attempts.iter().map(|a| a.random).collect();
        assert_eq!(randoms, [11, 22, 33]);
        // 50 ms per reply, then the backoff: attempts start exactly after each.
        let starts: Vec<u64> = attempts.iter().map(|a| a.started_at - T0 * 1000).collect();
        assert_eq!(starts, [0, 150, 600]);
        assert_eq!(h.elapsed_ms(), 650);
    }

    #[test]
    fn each_retryable_failure_is_retried_for_an_idempotent_command() {
        let failures = [
            Step::network(),
            Step::Hang,
            Step::http(502),
            Step::http(500),
            Step::http(429),
        ]
        .into_iter()
        .chain(
            [60008, 100001, 101001, 60007, 60011, 60018, 60019]
                .into_iter()
                .map(Step::api_error),
        );
        for failure in failures {
            let label = format!("{failure:?}");
            let h = harness([failure, read_ok()]);
            let reply = block_on(h.client.send(&READ));
            assert!(reply.is_ok(), "{label}: {reply:?}");
            assert_eq!(h.attempts().len(), 2, "{label}");
        }
    }

    #[test]
    fn a_4xx_from_a_proxy_is_not_retried() {
        let h = harness([Step::http(404), read_ok()]);
        let result = block_on(h.client.send(&READ));
        assert!(
            matches!(result, Err(ClientError::UpstreamHttp { status: 404 })),
            "{result:?}"
        );
        assert_eq!(h.attempts().len(), 1);
    }

    #[test]
    fn retries_stop_at_max_attempts_with_the_last_failure() {
        let h = harness([Step::http(502), Step::http(502), Step::http(502)]);
        let result = block_on(h.client.send(&READ));
        assert!(matches!(
            result,
            Err(ClientError::UpstreamHttp { status: 502 })
        ));
        assert_eq!(h.attempts().len(), 3);

        let h = harness([Step::network(), Step::network(), Step::network()]);
        match block_on(h.client.send(&READ)) {
            Err(ClientError::Network { attempts, detail }) => {
                assert_eq!(attempts, 3);
                assert_eq!(detail, "connection reset");
            }
            other => panic!("{other:?}"),
        }

        let h = harness((0..3).map(|_| Step::api_error(101001)));
        assert_eq!(
            api_code(block_on(h.client.send(&READ))),
            (101001, RetryClass::Transient)
        );
        assert_eq!(h.attempts().len(), 3);
    }

    #[test]
    fn timeouts_exhaust_into_timeout() {
        let mut c = config();
        c.deadline = Duration::from_secs(30);
        let h = harness_with(c, minted(), [Step::Hang, Step::Hang, Step::Hang]);
        assert!(matches!(
            block_on(h.client.send(&READ)),
            Err(ClientError::Timeout { attempts: 3 })
        ));
    }

    #[test]
    fn non_retryable_failures_return_at_once() {
        let cases = [
            (101002, RetryClass::InvalidRequest),
            (101004, RetryClass::NotFound),
            (60010, RetryClass::Configuration),
            (70013, RetryClass::Credential),
            (424242, RetryClass::Unknown),
        ];
        for (code, class) in cases {
            let h = harness([Step::api_error(code)]);
            assert_eq!(api_code(block_on(h.client.send(&READ))), (code, class));
            assert_eq!(h.attempts().len(), 1, "{code}");
            assert!(h.runtime.sleeps().is_empty());
        }

        // A 200 that is not an envelope (or not this command's) is not retried.
        for body in [
            "<html>oops</html>",
            "",
            r#"{"ActionStatus":"OK","ErrorCode":0}"#,
        ] {
            let h = harness([Step::ok(body)]);
            let result = block_on(h.client.send(&READ));
            assert!(
                matches!(result, Err(ClientError::MalformedResponse { .. })),
                "{body}: {result:?}"
            );
            assert_eq!(h.attempts().len(), 1);
        }
    }

    #[test]
    fn api_error_carries_info_and_request_id() {
        let body = api_error_body(101002, "CallId is empty", "Id-abc-O-Seq-3");
        let h = harness([Step::ok(&body)]);
        match block_on(h.client.send(&READ)) {
            Err(e @ ClientError::Api { .. }) => {
                assert_eq!(e.api_code(), Some(101002));
                assert_eq!(e.request_id(), Some("Id-abc-O-Seq-3"));
                assert!(e.to_string().contains("CallId is empty"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn start_call_is_attempted_once_when_the_outcome_is_unknown() {
        for failure in [
            Step::network(),
            Step::Hang,
            Step::http(502),
            Step::api_error(101001),
        ] {
            let label = format!("{failure:?}");
            // A second step is scripted so a wrong retry would succeed.
            let h = harness([failure, end_ok()]);
            assert!(block_on(h.client.send(&Start)).is_err(), "{label}");
            assert_eq!(h.attempts().len(), 1, "{label}");
        }
    }

    #[test]
    fn start_call_is_retried_on_a_rate_limit() {
        let h = harness([Step::api_error(60007), end_ok()]);
        assert!(block_on(h.client.send(&Start)).is_ok());
        assert_eq!(h.attempts().len(), 2);
        assert_eq!(h.runtime.sleeps().len(), 1);
    }

    #[test]
    fn end_call_not_found_after_a_lost_attempt_means_already_ended() {
        for lost in [Step::network(), Step::Hang, Step::http(502)] {
            let label = format!("{lost:?}");
            let gone = api_error_body(101004, "call not exist", "Id-gone-O-Seq-8");
            let h = harness([lost, Step::ok(&gone)]);
            let reply = block_on(h.client.send(&End)).expect(&label);
            assert_eq!(reply.request_id, "Id-gone-O-Seq-8");
            assert_eq!(reply.data, NoContent {});
            assert_eq!(h.attempts().len(), 2);
        }
    }

    #[test]
    fn end_call_not_found_is_an_error_when_nothing_was_lost() {
        let h = harness([Step::api_error(101004)]);
        assert_eq!(
            api_code(block_on(h.client.send(&End))),
            (101004, RetryClass::NotFound)
        );
        assert_eq!(h.attempts().len(), 1);

        // An answered internal error did not end the call as far as we know.
        let h = harness([Step::api_error(101001), Step::api_error(101004)]);
        assert_eq!(api_code(block_on(h.client.send(&End))).0, 101004);
        assert_eq!(h.attempts().len(), 2);

        // A read is never turned into success by a 101004.
        let h = harness([Step::network(), Step::api_error(101004)]);
        assert_eq!(api_code(block_on(h.client.send(&READ))).0, 101004);
    }

    #[test]
    fn expired_minted_sig_is_reminted_once() {
        let rejected = Step::Reply {
            status: 200,
            body: api_error_body(70001, "usersig expired", "Id-x-O-Seq-1"),
            after: Duration::from_millis(1500),
        };
        let h = harness([rejected, read_ok()]);
        assert!(block_on(h.client.send(&READ)).is_ok());
        let attempts = h.attempts();
        assert_eq!(attempts.len(), 2);
        let first = usersig::decode(attempts[0].usersig()).unwrap();
        let second = usersig::decode(attempts[1].usersig()).unwrap();
        assert_eq!((first.time, second.time), (T0, T0 + 1));
        // No backoff: 70001 is not a load signal.
        assert!(h.runtime.sleeps().is_empty());
        assert_eq!(
            h.client.credential_status().expires_at,
            Some(T0 + 1 + 86_400)
        );
    }

    #[test]
    fn a_second_70001_is_returned_without_looping() {
        let h = harness([Step::api_error(70001), Step::api_error(70001), read_ok()]);
        assert_eq!(
            api_code(block_on(h.client.send(&READ))),
            (70001, RetryClass::Credential)
        );
        assert_eq!(h.attempts().len(), 2);
    }

    #[test]
    fn start_call_is_reminted_on_70001_too() {
        let h = harness([Step::api_error(70001), end_ok()]);
        assert!(block_on(h.client.send(&Start)).is_ok());
        assert_eq!(h.attempts().len(), 2);
    }

    #[test]
    fn static_sig_70001_is_an_api_error() {
        let (_, credential) = static_sig(T0, 86_400);
        let h = harness_with(config(), credential, [Step::api_error(70001), read_ok()]);
        assert_eq!(api_code(block_on(h.client.send(&READ))).0, 70001);
        assert_eq!(h.attempts().len(), 1);
    }

    #[test]
    fn ready_status_mints_before_the_first_call_and_reuses_that_sig() {
        let h = harness([read_ok()]);
        assert_eq!(h.client.credential_status().expires_at, None);
        assert_eq!(
            h.client.ready_credential_status().expires_at,
            Some(T0 + 86_400)
        );
        assert!(h.attempts().is_empty(), "nothing was sent");
        block_on(h.client.send(&READ)).unwrap();
        let sent = usersig::decode(h.attempts()[0].usersig()).unwrap();
        assert_eq!(
            sent.expires_at(),
            T0 + 86_400,
            "the request used the sig health reported"
        );

        let (_, credential) = static_sig(T0 - 100_000, 86_400);
        let h = harness_with(config(), credential, []);
        assert_eq!(
            h.client.ready_credential_status().expires_at,
            Some(T0 - 100_000 + 86_400)
        );
    }

    #[test]
    fn minted_sig_is_cached_across_calls_and_renewed_inside_the_margin() {
        let h = harness([read_ok(), read_ok(), read_ok()]);
        assert_eq!(
            h.client.credential_status(),
            CredentialStatus {
                mode: super::super::CredentialMode::Minted,
                expires_at: None
            }
        );
        block_on(h.client.send(&READ)).unwrap();
        h.clock.advance(Duration::from_secs(3600));
        block_on(h.client.send(&READ)).unwrap();
        let attempts = h.attempts();
        assert_eq!(attempts[0].usersig(), attempts[1].usersig());
        assert_eq!(h.client.credential_status().expires_at, Some(T0 + 86_400));

        // Into the 10-minute margin: the next call mints afresh.
        h.clock.advance(Duration::from_secs(86_400 - 3600 - 599));
        block_on(h.client.send(&READ)).unwrap();
        let renewed = &h.attempts()[2];
        assert_ne!(renewed.usersig(), attempts[0].usersig());
        let now = T0 + 86_400 - 599;
        assert_eq!(usersig::decode(renewed.usersig()).unwrap().time, now);
        assert_eq!(h.client.credential_status().expires_at, Some(now + 86_400));
    }

    #[test]
    fn expired_static_sig_fails_locally() {
        let (_, credential) = static_sig(T0 - 7200, 3600);
        let h = harness_with(config(), credential, []);
        assert_eq!(
            h.client.credential_status(),
            CredentialStatus {
                mode: super::super::CredentialMode::Static,
                expires_at: Some(T0 - 3600)
            }
        );
        match block_on(h.client.send(&READ)) {
            Err(ClientError::CredentialExpired { expired_at }) => assert_eq!(expired_at, T0 - 3600),
            other => panic!("{other:?}"),
        }
        assert!(h.attempts().is_empty());
    }

    #[test]
    fn static_sig_for_another_identifier_is_rejected_by_new() {
        let sig = usersig::mint_now(KEY, APP, "alice", 86_400, T0);
        let clock = FakeClock::at_secs(T0);
        let result = Client::new(
            config(),
            AdminCredential::StaticUserSig(Secret::new(sig.clone())),
            FakeTransport::new(clock.clone(), []),
            FakeRuntime::new(clock),
        );
        match result {
            Err(e @ ClientError::CredentialInvalid { .. }) => {
                assert!(!format!("{e} {e:?}").contains(&sig));
            }
            Err(other) => panic!("{other:?}"),
            Ok(_) => panic!("accepted another identifier's sig"),
        }
    }

    #[test]
    fn new_rejects_an_invalid_config() {
        let mut c = config();
        c.attempt_timeout = Duration::from_secs(2);
        let clock = FakeClock::at_secs(T0);
        let result = Client::new(
            c,
            minted(),
            FakeTransport::new(clock.clone(), []),
            FakeRuntime::new(clock),
        );
        assert!(matches!(result, Err(ClientError::InvalidConfig { .. })));
    }

    #[test]
    fn slow_attempts_end_at_the_deadline() {
        let mut c = config();
        c.retry.max_attempts = 10;
        let h = harness_with(c, minted(), (0..10).map(|_| Step::Hang));
        let result = block_on(h.client.send(&READ));
        let attempts = h.attempts();
        // No time is left for a fourth attempt: the last failure is reported.
        assert!(
            matches!(result, Err(ClientError::Timeout { attempts: n }) if n as usize == attempts.len()),
            "{result:?}"
        );
        assert_eq!(attempts.len(), 3);
        assert!(h.elapsed_ms() <= 12_000, "{}", h.elapsed_ms());
        let deadline_at = T0 * 1000 + 12_000;
        for a in &attempts {
            let remaining = Duration::from_millis(deadline_at - a.started_at);
            assert!(a.timeout <= remaining, "{a:?}");
            assert!(a.timeout <= Duration::from_secs(5));
        }
        // The last attempt only got what was left.
        assert!(attempts[2].timeout < Duration::from_secs(5));
    }

    #[test]
    fn a_backoff_past_the_deadline_is_not_slept() {
        let mut c = config();
        c.retry.max_attempts = 10;
        // Hang to 5 s, sleep 100 ms, 502 at 10.05 s, sleep 200 ms, 502 at
        // 11.95 s: the next backoff (400 ms) would pass 12 s.
        let late = |ms| Step::Reply {
            status: 502,
            body: String::new(),
            after: Duration::from_millis(ms),
        };
        let h = harness_with(
            c,
            minted(),
            [Step::Hang, late(4_950), late(1_700), read_ok()],
        );
        h.runtime.script_randoms(&[1, 0, 2, 0, 3, 0]);
        let result = block_on(h.client.send(&READ));
        // The real failure, not a generic deadline: the caller sees the 502.
        assert!(
            matches!(result, Err(ClientError::UpstreamHttp { status: 502 })),
            "{result:?}"
        );
        assert_eq!(h.runtime.sleeps().len(), 2);
        assert_eq!(h.elapsed_ms(), 11_950);
    }

    #[test]
    fn network_error_fails_over_to_the_standby_for_the_rest_of_the_call() {
        let h = harness([Step::network(), Step::http(502), read_ok()]);
        block_on(h.client.send(&READ)).unwrap();
        assert_eq!(h.hosts(), [PRIMARY, STANDBY, STANDBY]);

        let h = harness([Step::Hang, read_ok()]);
        block_on(h.client.send(&READ)).unwrap();
        assert_eq!(h.hosts(), [PRIMARY, STANDBY]);

        // A 5xx is an answer from the host: stay.
        let h = harness([Step::http(502), read_ok()]);
        block_on(h.client.send(&READ)).unwrap();
        assert_eq!(h.hosts(), [PRIMARY, PRIMARY]);

        // The next call starts on the primary again.
        h.transport.push(read_ok());
        block_on(h.client.send(&READ)).unwrap();
        assert_eq!(h.hosts()[2], PRIMARY);
    }

    /// The one exception to failover (README, "Configuration"): a network
    /// error may hide a call that did start, and the standby would start it
    /// a second time.
    #[test]
    fn start_call_never_fails_over_to_the_standby() {
        for lost in [Step::network(), Step::Hang] {
            let label = format!("{lost:?}");
            let h = harness([lost, end_ok()]);
            assert!(block_on(h.client.send(&Start)).is_err(), "{label}");
            assert_eq!(h.hosts(), [PRIMARY], "{label}");
        }
    }

    #[test]
    fn a_custom_endpoint_has_one_host() {
        let mut c = config();
        c.endpoint = Endpoint::custom("http://127.0.0.1:8787/").unwrap();
        let h = harness_with(c, minted(), [Step::network(), read_ok()]);
        block_on(h.client.send(&READ)).unwrap();
        assert_eq!(h.hosts(), ["127.0.0.1:8787", "127.0.0.1:8787"]);
    }

    #[test]
    fn every_attempt_gets_a_different_random() {
        let h = harness([Step::network(), Step::http(502), read_ok()]);
        // A broken source that always says 5.
        h.runtime.script_randoms(&[5; 5]);
        block_on(h.client.send(&READ)).unwrap();
        let mut randoms: Vec<u32> = h.attempts().iter().map(|a| a.random).collect();
        assert_eq!(randoms[0], 5);
        randoms.sort_unstable();
        randoms.dedup();
        assert_eq!(randoms.len(), 3);
    }

    #[test]
    fn errors_never_show_the_key_the_sig_or_the_url() {
        let (sig, credential) = static_sig(T0, 86_400);
        let echo = |detail: String| Step::Fail {
            error: TransportError::Network(detail),
            after: Duration::from_millis(10),
        };
        let leaky_info = api_error_body(101002, &format!("bad usersig={sig}"), "Id-1");
        let leaky_sig_only = api_error_body(101002, &format!("sig {sig} rejected"), "Id-2");
        let scripts = vec![
            vec![echo(format!(
                "POST https://{PRIMARY}/v4/x?usersig={sig}&random=1 failed"
            ))],
            vec![echo(format!("bad sig {sig}"))],
            vec![Step::ok(&leaky_info)],
            vec![Step::ok(&leaky_sig_only)],
            vec![Step::http(502)],
            vec![Step::Hang],
            vec![Step::ok("<html>")],
        ];
        for script in scripts {
            let mut c = config();
            c.retry.max_attempts = 1;
            let h = harness_with(c, credential.clone(), script);
            let error = block_on(h.client.send(&READ)).unwrap_err();
            let shown = format!("{error} {error:?}");
            assert!(!shown.contains(&sig), "{shown}");
            assert!(!shown.contains(KEY), "{shown}");
            assert!(!shown.to_ascii_lowercase().contains("usersig="), "{shown}");
        }

        // Minted: the key, the minted sig and the URL never show either.
        for step in [
            Step::EchoUrl,
            Step::Fail {
                error: TransportError::Network(format!("key {KEY}")),
                after: Duration::ZERO,
            },
        ] {
            let mut c = config();
            c.retry.max_attempts = 1;
            let h = harness_with(c, minted(), [step]);
            let error = block_on(h.client.send(&READ)).unwrap_err();
            let minted_sig = h.attempts()[0].usersig().to_owned();
            let shown = format!("{error} {error:?}");
            assert!(shown.contains("[REDACTED]"), "{shown}");
            assert!(
                !shown.contains(KEY) && !shown.contains(&minted_sig),
                "{shown}"
            );
            assert!(!shown.contains(PRIMARY), "{shown}");
        }
    }
}
