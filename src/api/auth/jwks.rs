//! Per-isolate cache of the identity provider's signing keys (JWKS), imported
//! once per key through the platform's [`SignatureVerifier`]. The clock is
//! passed in.
//!
//! When keys are fetched (never more than once per refresh interval, so
//! random `kid`s cannot turn the Worker into a load generator):
//! - no usable keys (cold isolate, or keys past [`MAX_KEY_AGE_SECS`]);
//! - keys older than [`REFRESH_AGE_SECS`] (periodic refresh, whoever asks);
//! - an unknown `kid`, only for a *plausible* token: well-formed, with the
//!   configured `iss`/`aud`, a valid `sub` and a current time window. An
//!   expired, foreign or garbage token cannot spend the interval's refetch
//!   and so delay the pick-up of a real key rotation.
//!
//! One fetch at a time: requests that need keys while a fetch is in flight
//! wait for it instead of failing. A fetch whose request was cancelled may be
//! neither finished nor dropped (the runtime just stops polling it), so an
//! in-flight mark older than [`FETCH_STALE_SECS`] is ignored.

use std::cell::RefCell;
use std::future::poll_fn;
use std::task::{Poll, Waker};

use super::config::JwtAlg;
use super::error::AuthError;
use super::jwk::parse_jwks;
pub use super::jwk::MAX_JWKS_BYTES;
use super::signature::{PublicKey, SignatureVerifier};

/// Keys this old are reloaded on next use even when every `kid` is known, so
/// a key the provider withdrew stops verifying.
pub const REFRESH_AGE_SECS: u64 = 3600;
/// Hard cap: keys the provider has not confirmed for this long stop verifying
/// even if every reload fails (a withdrawn key must not live on through an
/// outage of the JWKS endpoint).
pub const MAX_KEY_AGE_SECS: u64 = 6 * 3600;
/// Twice the platform fetch timeout (5 s): an in-flight mark older than this
/// belongs to a fetch that will never finish.
pub const FETCH_STALE_SECS: u64 = 10;

/// How the Worker glue fetches the JWKS document (with the platform `fetch`).
#[allow(async_fn_in_trait)] // single-threaded Worker: no Send bound wanted
pub trait JwksSource {
    async fn fetch_jwks(&self) -> Result<String, JwksError>;
}

/// Why keys could not be loaded. Carries no URL and no document content.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwksError {
    #[error("JWKS endpoint unreachable")]
    Unreachable,
    #[error("JWKS endpoint answered HTTP {0}")]
    Status(u16),
    #[error("JWKS document is invalid")]
    Invalid,
    #[error("JWKS document is too large")]
    TooLarge,
    #[error("JWKS document has no key usable with the configured algorithm")]
    NoUsableKey,
    #[error("JWKS not loaded yet")]
    NotLoaded,
    #[error("JWKS keys are too old and could not be reloaded")]
    Expired,
    #[error("no JWKS source is configured")]
    NotConfigured,
}

/// For modes that never fetch keys (UserSig, HS256).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoJwks;

impl JwksSource for NoJwks {
    async fn fetch_jwks(&self) -> Result<String, JwksError> {
        Err(JwksError::NotConfigured)
    }
}

struct CachedKey<K> {
    kid: Option<String>,
    key: K,
}

struct State<K> {
    keys: Vec<CachedKey<K>>,
    loaded_at: Option<u64>,
    last_fetch: Option<u64>,
    last_error: Option<JwksError>,
    /// Start time and number of the fetch in flight.
    in_flight: Option<(u64, u64)>,
    /// Fetches started so far; a late result from a superseded fetch is dropped.
    started: u64,
    /// Fetches ended (or dropped) so far: waiters look again when it moves.
    ended: u64,
    waiters: Vec<Waker>,
}

impl<K: Clone> State<K> {
    fn usable(&self, now: u64) -> bool {
        self.loaded_at
            .is_some_and(|at| now.saturating_sub(at) < MAX_KEY_AGE_SECS)
    }

    /// The key for `kid` (a token without `kid` matches only when the set
    /// holds exactly one key), if the set is still usable.
    fn find(&self, kid: Option<&str>, now: u64) -> Option<K> {
        if !self.usable(now) {
            return None;
        }
        match kid {
            Some(kid) => self.keys.iter().find(|k| k.kid.as_deref() == Some(kid)),
            None if self.keys.len() == 1 => self.keys.first(),
            None => None,
        }
        .map(|k| k.key.clone())
    }
}

/// What a request does about the key set.
enum Plan<K> {
    Use(K),
    Fetch,
    /// Wait for the fetch in flight; carries `State::ended` as seen.
    Wait(u64),
    /// No fetch allowed: answer from what is cached.
    Settle,
}

pub struct JwksCache<S, V: SignatureVerifier> {
    source: S,
    verifier: V,
    alg: JwtAlg,
    refresh_secs: u64,
    state: RefCell<State<V::Key>>,
}

impl<S: JwksSource, V: SignatureVerifier> JwksCache<S, V> {
    pub fn new(source: S, verifier: V, alg: JwtAlg, refresh_secs: u64) -> Self {
        let state = State {
            keys: Vec::new(),
            loaded_at: None,
            last_fetch: None,
            last_error: None,
            in_flight: None,
            started: 0,
            ended: 0,
            waiters: Vec::new(),
        };
        Self {
            source,
            verifier,
            alg,
            refresh_secs,
            state: RefCell::new(state),
        }
    }

    /// What checks signatures with the keys this cache hands out.
    pub fn verifier(&self) -> &V {
        &self.verifier
    }

    /// The imported key for a token's `kid`. `plausible` says the token is
    /// otherwise acceptable, which an unknown-`kid` refetch requires.
    pub async fn key_for(
        &self,
        kid: Option<&str>,
        now_secs: u64,
        plausible: bool,
    ) -> Result<V::Key, AuthError> {
        let fetched = match self.plan(kid, now_secs, plausible) {
            Plan::Use(key) => return Ok(key),
            Plan::Fetch => {
                self.refresh(now_secs).await;
                true
            }
            Plan::Wait(seen) => {
                self.wait_for_fetch(seen).await;
                true
            }
            Plan::Settle => false,
        };
        self.settle(kid, now_secs, fetched)
    }

    fn plan(&self, kid: Option<&str>, now: u64, plausible: bool) -> Plan<V::Key> {
        let state = self.state.borrow();
        let found = state.find(kid, now);
        let usable = state.usable(now);
        let due = state
            .loaded_at
            .is_none_or(|at| now.saturating_sub(at) >= REFRESH_AGE_SECS);
        if let (Some(key), false) = (&found, due) {
            return Plan::Use(key.clone());
        }
        let in_flight = state
            .in_flight
            .is_some_and(|(at, _)| now.saturating_sub(at) < FETCH_STALE_SECS);
        if in_flight {
            // A stale key still beats waiting; an unknown one waits for the fetch.
            return found.map_or(Plan::Wait(state.ended), Plan::Use);
        }
        let throttle_open = state
            .last_fetch
            .is_none_or(|at| now >= at.saturating_add(self.refresh_secs) || now < at);
        let wanted = !usable || due || (found.is_none() && plausible);
        match found {
            _ if throttle_open && wanted => Plan::Fetch,
            // Stale but the refresh is throttled: the old key still beats a 503.
            Some(key) => Plan::Use(key),
            None => Plan::Settle,
        }
    }

    /// The answer once any fetch this request made or waited for is over.
    fn settle(&self, kid: Option<&str>, now: u64, fetched: bool) -> Result<V::Key, AuthError> {
        let state = self.state.borrow();
        if let Some(key) = state.find(kid, now) {
            return Ok(key);
        }
        let usable = state.usable(now);
        Err(match (&state.last_error, usable) {
            (Some(err), _) if fetched => AuthError::KeysUnavailable(err.clone()),
            (_, true) => AuthError::UnknownKey,
            (Some(err), false) => AuthError::KeysUnavailable(err.clone()),
            (None, false) if state.loaded_at.is_some() => {
                AuthError::KeysUnavailable(JwksError::Expired)
            }
            (None, false) => AuthError::KeysUnavailable(JwksError::NotLoaded),
        })
    }

    async fn refresh(&self, now: u64) {
        let number = {
            let mut state = self.state.borrow_mut();
            state.started += 1;
            state.in_flight = Some((now, state.started));
            state.started
        };
        let guard = FetchGuard {
            state: &self.state,
            number,
        };
        let result = match self.source.fetch_jwks().await {
            Ok(doc) => match parse_jwks(&doc, self.alg) {
                Ok(keys) => self.import(keys).await,
                Err(err) => Err(err),
            },
            Err(err) => Err(err),
        };
        let mut state = self.state.borrow_mut();
        if state.started == number {
            state.last_fetch = Some(now);
            match result {
                Ok(keys) => {
                    state.keys = keys;
                    state.loaded_at = Some(now);
                    state.last_error = None;
                }
                // Keep the old keys: a provider hiccup must not lock everyone out.
                Err(err) => state.last_error = Some(err),
            }
        }
        drop(state);
        drop(guard);
    }

    /// Imports each key once; keys the platform refuses are skipped.
    async fn import(
        &self,
        keys: Vec<(Option<String>, PublicKey)>,
    ) -> Result<Vec<CachedKey<V::Key>>, JwksError> {
        let mut imported = Vec::with_capacity(keys.len());
        for (kid, public) in keys {
            if let Some(key) = self.verifier.import_key(&public, self.alg).await {
                imported.push(CachedKey { kid, key });
            }
        }
        if imported.is_empty() {
            return Err(JwksError::NoUsableKey);
        }
        Ok(imported)
    }

    /// Returns once a fetch ended after `seen` was read.
    async fn wait_for_fetch(&self, seen: u64) {
        poll_fn(|cx| {
            let mut state = self.state.borrow_mut();
            if state.ended != seen {
                return Poll::Ready(());
            }
            state.waiters.push(cx.waker().clone());
            Poll::Pending
        })
        .await
    }
}

/// Ends the fetch's in-flight mark and wakes the waiters, on completion and
/// when the request future is dropped mid-fetch.
struct FetchGuard<'a, K> {
    state: &'a RefCell<State<K>>,
    number: u64,
}

impl<K> Drop for FetchGuard<'_, K> {
    fn drop(&mut self) {
        let mut state = self.state.borrow_mut();
        if state.in_flight.is_some_and(|(_, n)| n == self.number) {
            state.in_flight = None;
        }
        state.ended += 1;
        let waiters = std::mem::take(&mut state.waiters);
        drop(state);
        waiters.into_iter().for_each(Waker::wake);
    }
}

#[cfg(test)]
#[path = "jwks_tests.rs"]
mod tests;
