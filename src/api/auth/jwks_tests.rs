//! Tests of the JWKS cache, with real key import (RustCrypto) and the clock
//! passed in. Concurrency is simulated by polling request futures by hand.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::executor::block_on;

use super::*;
use crate::api::auth::signature::rust_crypto::RustCrypto;

const JWKS: &str = include_str!("testdata/jwks.json");

type Cache<'a, S> = JwksCache<&'a S, RustCrypto>;

/// Serves scripted documents (the last one repeats) and counts fetches.
struct Scripted {
    docs: RefCell<Vec<Result<String, JwksError>>>,
    calls: Cell<usize>,
}

impl Scripted {
    fn new(docs: Vec<Result<String, JwksError>>) -> Self {
        Self {
            docs: RefCell::new(docs),
            calls: Cell::new(0),
        }
    }
}

impl JwksSource for &Scripted {
    async fn fetch_jwks(&self) -> Result<String, JwksError> {
        self.calls.set(self.calls.get() + 1);
        let mut docs = self.docs.borrow_mut();
        if docs.len() > 1 {
            docs.remove(0)
        } else {
            docs[0].clone()
        }
    }
}

/// The first fetch never finishes (its request was cancelled by the
/// runtime); later ones answer only once `open` is set.
struct Stalling {
    open: Cell<bool>,
    calls: Cell<usize>,
}

impl JwksSource for &Stalling {
    async fn fetch_jwks(&self) -> Result<String, JwksError> {
        self.calls.set(self.calls.get() + 1);
        if self.calls.get() == 1 {
            std::future::pending::<()>().await;
        }
        poll_fn(|_| {
            if self.open.get() {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        })
        .await;
        Ok(JWKS.to_owned())
    }
}

fn new_cache<S>(source: &S, refresh_secs: u64) -> Cache<'_, S>
where
    for<'a> &'a S: JwksSource,
{
    JwksCache::new(source, RustCrypto, JwtAlg::Es256, refresh_secs)
}

fn poll_once<F: Future>(future: Pin<&mut F>) -> Poll<F::Output> {
    let waker = futures::task::noop_waker();
    future.poll(&mut Context::from_waker(&waker))
}

fn only(kid: &str) -> String {
    let set: serde_json::Value = serde_json::from_str(JWKS).unwrap();
    let keys: Vec<_> = set["keys"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| k["kid"] == kid)
        .cloned()
        .collect();
    serde_json::json!({ "keys": keys }).to_string()
}

fn key<S>(cache: &Cache<'_, S>, kid: &str, now: u64) -> Result<(), AuthError>
where
    for<'a> &'a S: JwksSource,
{
    block_on(cache.key_for(Some(kid), now, true)).map(|_| ())
}

#[test]
fn unknown_kid_refetches_once_per_interval() {
    let source = Scripted::new(vec![Ok(only("ec-1")), Ok(JWKS.to_owned())]);
    let cache = new_cache(&source, 300);
    key(&cache, "ec-1", 1000).unwrap();
    assert_eq!(source.calls.get(), 1);
    // Cached: no fetch.
    key(&cache, "ec-1", 1010).unwrap();
    assert_eq!(source.calls.get(), 1);
    // First unknown kid inside the interval: the initial load counts, so no refetch yet.
    assert_eq!(key(&cache, "ec-2", 1100), Err(AuthError::UnknownKey));
    assert_eq!(source.calls.get(), 1);
    // After the interval an unknown kid triggers exactly one refetch...
    assert_eq!(key(&cache, "ec-2", 1300), Err(AuthError::UnknownKey));
    assert_eq!(source.calls.get(), 2);
    // ...and a second unknown kid inside the new interval does not.
    assert_eq!(key(&cache, "ec-3", 1310), Err(AuthError::UnknownKey));
    assert_eq!(source.calls.get(), 2);
}

#[test]
fn rotation_is_picked_up_by_refetch() {
    let rotated = JWKS.replace("\"ec-1\"", "\"ec-2\"");
    let source = Scripted::new(vec![Ok(JWKS.to_owned()), Ok(rotated)]);
    let cache = new_cache(&source, 60);
    key(&cache, "ec-1", 0).unwrap();
    key(&cache, "ec-2", 61).unwrap();
    assert_eq!(source.calls.get(), 2);
}

#[test]
fn failures_report_unavailable_and_keep_old_keys() {
    let source = Scripted::new(vec![Err(JwksError::Status(502))]);
    let cache = new_cache(&source, 300);
    let unavailable = Err(AuthError::KeysUnavailable(JwksError::Status(502)));
    assert_eq!(key(&cache, "ec-1", 0), unavailable);
    // Throttled retry still reports why keys are missing.
    assert_eq!(key(&cache, "ec-1", 10), unavailable);
    assert_eq!(source.calls.get(), 1);

    let source = Scripted::new(vec![Ok(JWKS.to_owned()), Err(JwksError::Unreachable)]);
    let cache = new_cache(&source, 300);
    key(&cache, "ec-1", 0).unwrap();
    // Past the refresh age a reload is attempted; it fails, the old key still serves.
    key(&cache, "ec-1", REFRESH_AGE_SECS + 1).unwrap();
    assert_eq!(source.calls.get(), 2);
}

#[test]
fn kid_less_token_needs_a_single_key() {
    let source = Scripted::new(vec![Ok(only("ec-1"))]);
    let cache = new_cache(&source, 300);
    assert!(block_on(cache.key_for(None, 0, true)).is_ok());
    let mut set: serde_json::Value = serde_json::from_str(JWKS).unwrap();
    let mut second = set["keys"][1].clone();
    second["kid"] = "ec-2".into();
    set["keys"].as_array_mut().unwrap().push(second);
    let source = Scripted::new(vec![Ok(set.to_string())]);
    let cache = new_cache(&source, 300);
    assert_eq!(
        block_on(cache.key_for(None, 0, true)).err(),
        Some(AuthError::UnknownKey)
    );
}

/// Issue 10 defect 1: a fetch that is never finished nor dropped must not
/// keep the isolate from loading keys, and a request arriving meanwhile waits.
#[test]
fn abandoned_fetch_is_ignored_after_the_timeout() {
    let source = Stalling {
        open: Cell::new(true),
        calls: Cell::new(0),
    };
    let cache = new_cache(&source, 300);
    let mut cancelled = Box::pin(cache.key_for(Some("ec-1"), 0, true));
    assert!(poll_once(cancelled.as_mut()).is_pending());
    std::mem::forget(cancelled); // the runtime stops polling it and never drops it
    let mut waiting = Box::pin(cache.key_for(Some("ec-1"), FETCH_STALE_SECS - 1, true));
    assert!(poll_once(waiting.as_mut()).is_pending(), "waits, no 503");
    assert_eq!(source.calls.get(), 1);
    // Polled once, not blocked on: with a mark that never expires it would wait forever.
    let mut fresh = Box::pin(cache.key_for(Some("ec-1"), FETCH_STALE_SECS, true));
    let replaced = poll_once(fresh.as_mut());
    assert!(
        matches!(replaced, Poll::Ready(Ok(_))),
        "a new fetch replaces the abandoned one"
    );
    assert_eq!(source.calls.get(), 2);
    assert!(matches!(poll_once(waiting.as_mut()), Poll::Ready(Ok(_))));
}

/// Issue 10 defect 1: concurrent requests share the fetch in flight.
#[test]
fn concurrent_requests_wait_for_the_fetch_in_flight() {
    let source = Stalling {
        open: Cell::new(false),
        calls: Cell::new(1), // skip the stalling first call
    };
    let cache = new_cache(&source, 300);
    let mut first = Box::pin(cache.key_for(Some("ec-1"), 0, true));
    let mut second = Box::pin(cache.key_for(Some("ec-1"), 1, true));
    let mut third = Box::pin(cache.key_for(None, 1, false));
    assert!(poll_once(first.as_mut()).is_pending());
    assert!(poll_once(second.as_mut()).is_pending());
    assert!(poll_once(third.as_mut()).is_pending());
    assert_eq!(source.calls.get(), 2, "one fetch");
    source.open.set(true);
    assert!(matches!(poll_once(first.as_mut()), Poll::Ready(Ok(_))));
    assert!(matches!(poll_once(second.as_mut()), Poll::Ready(Ok(_))));
    assert!(matches!(poll_once(third.as_mut()), Poll::Ready(Ok(_))));
    assert_eq!(source.calls.get(), 2);
}

/// Issue 10 defect 7: keys stop verifying past the hard age cap when every
/// reload fails, and verify again once a reload succeeds.
#[test]
fn keys_past_the_hard_age_cap_stop_verifying() {
    let source = Scripted::new(vec![Ok(JWKS.to_owned()), Err(JwksError::Unreachable)]);
    let cache = new_cache(&source, 300);
    key(&cache, "ec-1", 0).unwrap();
    key(&cache, "ec-1", MAX_KEY_AGE_SECS - 1).expect("old key beats a 503 until the cap");
    assert_eq!(
        key(&cache, "ec-1", MAX_KEY_AGE_SECS),
        Err(AuthError::KeysUnavailable(JwksError::Unreachable))
    );
    // Throttled: still refused, never the old key.
    assert_eq!(
        key(&cache, "ec-1", MAX_KEY_AGE_SECS + 1),
        Err(AuthError::KeysUnavailable(JwksError::Unreachable))
    );
    source.docs.replace(vec![Ok(JWKS.to_owned())]);
    key(&cache, "ec-1", MAX_KEY_AGE_SECS + 300).unwrap();
}

/// Issue 10 defect 7: a token that could not be accepted anyway (expired,
/// foreign audience, garbage claims) does not spend the unknown-kid refetch;
/// the periodic refresh still happens for any caller.
#[test]
fn unknown_kid_refetch_needs_a_plausible_token() {
    let source = Scripted::new(vec![
        Ok(only("ec-1")),
        Ok(JWKS.replace("\"ec-1\"", "\"ec-2\"")),
    ]);
    let cache = new_cache(&source, 300);
    key(&cache, "ec-1", 1000).unwrap();
    let implausible = |kid, now| block_on(cache.key_for(Some(kid), now, false)).map(|_| ());
    assert_eq!(implausible("ec-2", 1300), Err(AuthError::UnknownKey));
    assert_eq!(source.calls.get(), 1, "not spent by an implausible token");
    key(&cache, "ec-2", 1301).expect("the real rotation is picked up");
    assert_eq!(source.calls.get(), 2);
    assert!(implausible("ec-2", 1301 + REFRESH_AGE_SECS).is_ok());
    assert_eq!(source.calls.get(), 3, "periodic refresh is not gated");
}
