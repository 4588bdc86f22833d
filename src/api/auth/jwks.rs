//! Per-isolate cache of the identity provider's signing keys (JWKS).
//!
//! Keys are refetched when a token names an unknown `kid`, at most once per
//! refresh interval, so random `kid`s cannot turn the Worker into a load
//! generator against the provider. The clock is passed in.

use std::sync::{Mutex, MutexGuard};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::jwk::{
    AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, KeyOperations, PublicKeyUse,
};
use jsonwebtoken::DecodingKey;
use serde::Deserialize;

use super::config::JwtAlg;
use super::error::AuthError;

/// Upper bound on a JWKS document; real ones are a few KiB.
pub const MAX_JWKS_BYTES: usize = 64 * 1024;
/// Even with no unknown `kid`, keys are reloaded this often so that a key the
/// provider withdrew stops verifying.
const MAX_KEY_AGE_SECS: u64 = 3600;
/// RSA keys below 2048 bits are refused.
const MIN_RSA_MODULUS_BYTES: usize = 256;

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
    #[error("JWKS document has no key usable with the configured algorithm")]
    NoUsableKey,
    #[error("JWKS not loaded yet")]
    NotLoaded,
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

struct CachedKey {
    kid: Option<String>,
    key: DecodingKey,
}

#[derive(Default)]
struct State {
    keys: Vec<CachedKey>,
    loaded_at: Option<u64>,
    last_fetch: Option<u64>,
    last_error: Option<JwksError>,
    fetching: bool,
}

pub struct JwksCache<S> {
    source: S,
    alg: JwtAlg,
    refresh_secs: u64,
    state: Mutex<State>,
}

/// Clears the in-flight flag even when the request future is dropped mid-fetch.
struct FetchGuard<'a>(&'a Mutex<State>);

impl Drop for FetchGuard<'_> {
    fn drop(&mut self) {
        lock(self.0).fetching = false;
    }
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    // A poisoned lock only means a panic elsewhere; the key list is still coherent.
    state
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl<S: JwksSource> JwksCache<S> {
    pub fn new(source: S, alg: JwtAlg, refresh_secs: u64) -> Self {
        Self {
            source,
            alg,
            refresh_secs,
            state: Mutex::new(State::default()),
        }
    }

    /// The key for a token's `kid` (a token without `kid` matches only when
    /// the set holds exactly one usable key).
    pub async fn key_for(
        &self,
        kid: Option<&str>,
        now_secs: u64,
    ) -> Result<DecodingKey, AuthError> {
        let (found, may_fetch) = {
            let state = lock(&self.state);
            let fresh = state
                .loaded_at
                .is_some_and(|at| now_secs < at.saturating_add(MAX_KEY_AGE_SECS));
            let found = find(&state.keys, kid);
            if fresh && found.is_some() {
                return found.ok_or(AuthError::UnknownKey);
            }
            let may_fetch = !state.fetching
                && state.last_fetch.is_none_or(|at| {
                    now_secs >= at.saturating_add(self.refresh_secs) || now_secs < at
                });
            (found, may_fetch)
        };
        if may_fetch {
            self.refresh(now_secs).await;
        } else if let Some(key) = found {
            // Stale but the refresh is throttled or in flight: the old key still beats a 503.
            return Ok(key);
        }
        let state = lock(&self.state);
        if let Some(key) = find(&state.keys, kid) {
            return Ok(key);
        }
        match (&state.last_error, state.loaded_at) {
            (Some(err), _) if may_fetch => Err(AuthError::KeysUnavailable(err.clone())),
            (_, Some(_)) => Err(AuthError::UnknownKey),
            (Some(err), None) => Err(AuthError::KeysUnavailable(err.clone())),
            (None, None) => Err(AuthError::KeysUnavailable(JwksError::NotLoaded)),
        }
    }

    async fn refresh(&self, now_secs: u64) {
        lock(&self.state).fetching = true;
        let guard = FetchGuard(&self.state);
        let result = self
            .source
            .fetch_jwks()
            .await
            .and_then(|doc| parse_jwks(&doc, self.alg));
        drop(guard);
        let mut state = lock(&self.state);
        state.last_fetch = Some(now_secs);
        match result {
            Ok(keys) => {
                state.keys = keys;
                state.loaded_at = Some(now_secs);
                state.last_error = None;
            }
            // Keep the old keys: a provider hiccup must not lock everyone out.
            Err(err) => state.last_error = Some(err),
        }
    }
}

fn find(keys: &[CachedKey], kid: Option<&str>) -> Option<DecodingKey> {
    match kid {
        Some(kid) => keys.iter().find(|k| k.kid.as_deref() == Some(kid)),
        None if keys.len() == 1 => keys.first(),
        None => None,
    }
    .map(|k| k.key.clone())
}

#[derive(Deserialize)]
struct RawSet {
    keys: Vec<serde_json::Value>,
}

/// Keeps only keys usable for `alg`; entries of other types, other uses or
/// unparsable shapes are skipped rather than failing the whole set.
fn parse_jwks(doc: &str, alg: JwtAlg) -> Result<Vec<CachedKey>, JwksError> {
    if doc.len() > MAX_JWKS_BYTES {
        return Err(JwksError::Invalid);
    }
    let set: RawSet = serde_json::from_str(doc).map_err(|_| JwksError::Invalid)?;
    let keys: Vec<CachedKey> = set
        .keys
        .into_iter()
        .filter_map(|raw| serde_json::from_value::<Jwk>(raw).ok())
        .filter(|jwk| is_usable(jwk, alg))
        .filter_map(|jwk| {
            let key = DecodingKey::from_jwk(&jwk).ok()?;
            Some(CachedKey {
                kid: jwk.common.key_id,
                key,
            })
        })
        .collect();
    if keys.is_empty() {
        return Err(JwksError::NoUsableKey);
    }
    Ok(keys)
}

fn is_usable(jwk: &Jwk, alg: JwtAlg) -> bool {
    let common = &jwk.common;
    let for_signing =
        !matches!(common.public_key_use, Some(ref u) if *u != PublicKeyUse::Signature);
    let may_verify = common
        .key_operations
        .as_ref()
        .is_none_or(|ops| ops.contains(&KeyOperations::Verify));
    let (wanted_alg, shape_ok) = match (alg, &jwk.algorithm) {
        (JwtAlg::Rs256, AlgorithmParameters::RSA(rsa)) => (
            KeyAlgorithm::RS256,
            URL_SAFE_NO_PAD
                .decode(&rsa.n)
                .is_ok_and(|n| n.iter().skip_while(|b| **b == 0).count() >= MIN_RSA_MODULUS_BYTES),
        ),
        (JwtAlg::Es256, AlgorithmParameters::EllipticCurve(ec)) => {
            (KeyAlgorithm::ES256, ec.curve == EllipticCurve::P256)
        }
        _ => return false,
    };
    let alg_ok = common.key_algorithm.is_none_or(|a| a == wanted_alg);
    for_signing && may_verify && shape_ok && alg_ok
}

#[cfg(test)]
mod tests {
    use std::cell::{Cell, RefCell};

    use futures::executor::block_on;

    use super::*;

    const JWKS: &str = include_str!("testdata/jwks.json");

    /// Serves scripted documents and counts fetches.
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

    #[test]
    fn filters_keys_by_pinned_algorithm() {
        let rsa = parse_jwks(JWKS, JwtAlg::Rs256).unwrap();
        assert_eq!(rsa.len(), 1);
        assert_eq!(rsa[0].kid.as_deref(), Some("rsa-1"));
        let ec = parse_jwks(JWKS, JwtAlg::Es256).unwrap();
        assert_eq!(ec[0].kid.as_deref(), Some("ec-1"));
        assert!(parse_jwks(JWKS, JwtAlg::Hs256).is_err());
    }

    #[test]
    fn skips_unusable_entries() {
        let set: serde_json::Value = serde_json::from_str(JWKS).unwrap();
        let mut enc = set["keys"][0].clone();
        enc["use"] = "enc".into();
        let mut wrong_alg = set["keys"][0].clone();
        wrong_alg["alg"] = "RS512".into();
        let mut weak = set["keys"][0].clone();
        weak["n"] = URL_SAFE_NO_PAD.encode([0xff_u8; 128]).into();
        let doc = serde_json::json!({ "keys": [enc, wrong_alg, weak, {"kty": "OKP", "crv": "Ed448", "x": "AA"}] });
        assert_eq!(
            parse_jwks(&doc.to_string(), JwtAlg::Rs256).err(),
            Some(JwksError::NoUsableKey)
        );
        assert_eq!(
            parse_jwks("<html>", JwtAlg::Rs256).err(),
            Some(JwksError::Invalid)
        );
        let huge = format!("{{\"keys\":[],\"pad\":\"{}\"}}", "x".repeat(MAX_JWKS_BYTES));
        assert_eq!(
            parse_jwks(&huge, JwtAlg::Rs256).err(),
            Some(JwksError::Invalid)
        );
    }

    #[test]
    fn unknown_kid_refetches_once_per_interval() {
        let source = Scripted::new(vec![Ok(only("ec-1")), Ok(JWKS.to_owned())]);
        let cache = JwksCache::new(&source, JwtAlg::Es256, 300);
        block_on(cache.key_for(Some("ec-1"), 1000)).unwrap();
        assert_eq!(source.calls.get(), 1);
        // Cached: no fetch.
        block_on(cache.key_for(Some("ec-1"), 1010)).unwrap();
        assert_eq!(source.calls.get(), 1);
        // First unknown kid inside the interval: the initial load counts, so no refetch yet.
        assert_eq!(
            block_on(cache.key_for(Some("ec-2"), 1100)).err(),
            Some(AuthError::UnknownKey)
        );
        assert_eq!(source.calls.get(), 1);
        // After the interval an unknown kid triggers exactly one refetch...
        assert_eq!(
            block_on(cache.key_for(Some("ec-2"), 1300)).err(),
            Some(AuthError::UnknownKey)
        );
        assert_eq!(source.calls.get(), 2);
        // ...and a second unknown kid inside the new interval does not.
        assert_eq!(
            block_on(cache.key_for(Some("ec-3"), 1310)).err(),
            Some(AuthError::UnknownKey)
        );
        assert_eq!(source.calls.get(), 2);
    }

    #[test]
    fn rotation_is_picked_up_by_refetch() {
        let rotated = JWKS.replace("\"ec-1\"", "\"ec-2\"");
        let source = Scripted::new(vec![Ok(JWKS.to_owned()), Ok(rotated)]);
        let cache = JwksCache::new(&source, JwtAlg::Es256, 60);
        block_on(cache.key_for(Some("ec-1"), 0)).unwrap();
        block_on(cache.key_for(Some("ec-2"), 61)).unwrap();
        assert_eq!(source.calls.get(), 2);
    }

    #[test]
    fn failures_report_unavailable_and_keep_old_keys() {
        let source = Scripted::new(vec![Err(JwksError::Status(502))]);
        let cache = JwksCache::new(&source, JwtAlg::Es256, 300);
        assert_eq!(
            block_on(cache.key_for(Some("ec-1"), 0)).err(),
            Some(AuthError::KeysUnavailable(JwksError::Status(502)))
        );
        // Throttled retry still reports why keys are missing.
        assert_eq!(
            block_on(cache.key_for(Some("ec-1"), 10)).err(),
            Some(AuthError::KeysUnavailable(JwksError::Status(502)))
        );
        assert_eq!(source.calls.get(), 1);

        let source = Scripted::new(vec![Ok(JWKS.to_owned()), Err(JwksError::Unreachable)]);
        let cache = JwksCache::new(&source, JwtAlg::Es256, 300);
        block_on(cache.key_for(Some("ec-1"), 0)).unwrap();
        // Past the max age a reload is attempted; it fails, the old key still serves.
        block_on(cache.key_for(Some("ec-1"), MAX_KEY_AGE_SECS + 1)).unwrap();
        assert_eq!(source.calls.get(), 2);
    }

    #[test]
    fn kid_less_token_needs_a_single_key() {
        let source = Scripted::new(vec![Ok(only("ec-1"))]);
        let cache = JwksCache::new(&source, JwtAlg::Es256, 300);
        assert!(block_on(cache.key_for(None, 0)).is_ok());
        let mut set: serde_json::Value = serde_json::from_str(JWKS).unwrap();
        let mut second = set["keys"][1].clone();
        second["kid"] = "ec-2".into();
        set["keys"].as_array_mut().unwrap().push(second);
        let source = Scripted::new(vec![Ok(set.to_string())]);
        let cache = JwksCache::new(&source, JwtAlg::Es256, 300);
        assert_eq!(
            block_on(cache.key_for(None, 0)).err(),
            Some(AuthError::UnknownKey)
        );
    }
}
