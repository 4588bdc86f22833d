//! JWT caller tokens: HS256 with a shared secret, checked here with
//! `hmac`/`sha2`, or RS256/ES256 with keys from a JWKS, checked by the
//! platform's [`SignatureVerifier`] (WebCrypto in the Worker). The algorithm
//! is pinned by configuration and compared before any key lookup; time
//! claims are checked against the clock the caller passes in.

use hmac::{Hmac, Mac};
use serde_json::{Map, Value};
use sha2::Sha256;

use super::claim_path::ClaimPath;
use super::config::{AdminClaim, AudienceRule, JwtAlg, JwtConfig, JwtKeys};
use super::error::AuthError;
use super::identity::is_valid_user_id;
use super::jwks::{JwksCache, JwksSource};
pub use super::jws::MAX_TOKEN_LEN;
use super::jws::{decode_rest, parse_header};
use super::signature::SignatureVerifier;
use crate::platform::settings::ConfigError;

/// A JWS ES256 signature is the raw `r ‖ s` pair (RFC 7518 §3.4), which is
/// also what WebCrypto takes; a DER signature or any other length is refused.
const ES256_SIGNATURE_BYTES: usize = 64;

enum Keys<S, V: SignatureVerifier> {
    Secret(Vec<u8>),
    // Boxed: the cache is large next to a secret, and built once per isolate.
    Jwks(Box<JwksCache<S, V>>),
}

pub struct JwtVerifier<S, V: SignatureVerifier> {
    alg: JwtAlg,
    keys: Keys<S, V>,
    issuer: Option<String>,
    audience: Option<AudienceRule>,
    leeway_secs: u64,
    admin_claim: Option<AdminClaim>,
    user_claim: ClaimPath,
}

/// What a valid token says about its bearer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedJwt {
    pub subject: String,
    pub admin_by_claim: bool,
    /// The token's `exp` (Unix s).
    pub expires_at: u64,
}

impl<S: JwksSource, V: SignatureVerifier> JwtVerifier<S, V> {
    pub fn new(config: &JwtConfig, source: S, verifier: V) -> Result<Self, ConfigError> {
        let keys = match &config.keys {
            JwtKeys::Secret(secret) => Keys::Secret(secret.expose().as_bytes().to_vec()),
            JwtKeys::Jwks { refresh_secs, .. } => Keys::Jwks(Box::new(JwksCache::new(
                source,
                verifier,
                config.alg,
                *refresh_secs,
            ))),
        };
        Ok(Self {
            alg: config.alg,
            keys,
            issuer: config.issuer.clone(),
            audience: config.audience.clone(),
            leeway_secs: config.leeway_secs,
            admin_claim: config.admin_claim.clone(),
            user_claim: config.user_claim.clone(),
        })
    }

    pub async fn verify(&self, token: &str, now_secs: u64) -> Result<VerifiedJwt, AuthError> {
        let (header, parts) = parse_header(token)?;
        // Compared before any key lookup: the header never picks the algorithm.
        if header.alg != self.alg.as_str() {
            return Err(AuthError::WrongAlgorithm);
        }
        // We implement no JWS extensions, so any critical one must be refused (RFC 7515 §4.1.11).
        if header.crit.is_some() {
            return Err(AuthError::Malformed);
        }
        let jws = decode_rest(token, header, parts)?;
        // Checked before the signature only to decide whether an unknown
        // `kid` may trigger a JWKS refetch; reported after it.
        let checked = self.check_claims(&jws.claims, now_secs);
        let input = jws.signing_input.as_bytes();
        let valid = match &self.keys {
            Keys::Secret(secret) => hs256_verifies(secret, input, &jws.signature),
            Keys::Jwks(cache) => {
                let kid = jws.header.kid.as_deref();
                let key = cache.key_for(kid, now_secs, checked.is_ok()).await?;
                let shape_ok =
                    self.alg != JwtAlg::Es256 || jws.signature.len() == ES256_SIGNATURE_BYTES;
                shape_ok
                    && cache
                        .verifier()
                        .verify(&key, self.alg, input, &jws.signature)
                        .await
            }
        };
        if !valid {
            return Err(AuthError::BadSignature);
        }
        checked
    }

    fn check_claims(
        &self,
        claims: &Map<String, Value>,
        now: u64,
    ) -> Result<VerifiedJwt, AuthError> {
        let exp = numeric_date(claims, "exp")?.ok_or(AuthError::MissingClaim("exp"))?;
        // RFC 7519: valid strictly before exp, and from nbf on; leeway widens both.
        if now >= exp.saturating_add(self.leeway_secs) {
            return Err(AuthError::Expired);
        }
        if let Some(nbf) = numeric_date(claims, "nbf")? {
            if nbf > now.saturating_add(self.leeway_secs) {
                return Err(AuthError::NotYetValid);
            }
        }
        if let Some(issuer) = &self.issuer {
            if claims.get("iss").and_then(Value::as_str) != Some(issuer.as_str()) {
                return Err(AuthError::WrongIssuer);
            }
        }
        if let Some(rule) = &self.audience {
            if !audience_accepted(claims, rule) {
                return Err(AuthError::WrongAudience);
            }
        }
        let subject = match self.user_claim.find(claims) {
            None | Some(Value::Null) if self.user_claim.is_sub() => {
                return Err(AuthError::MissingClaim("sub"))
            }
            Some(Value::String(id)) if is_valid_user_id(id) => id.clone(),
            _ => return Err(AuthError::InvalidSubject),
        };
        let admin_by_claim = self
            .admin_claim
            .as_ref()
            .is_some_and(|rule| claim_grants_admin(claims, rule));
        Ok(VerifiedJwt {
            subject,
            admin_by_claim,
            expires_at: exp,
        })
    }
}

/// HMAC-SHA256 over the signing input, compared in constant time.
fn hs256_verifies(secret: &[u8], input: &[u8], signature: &[u8]) -> bool {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
        return false;
    };
    mac.update(input);
    mac.verify_slice(signature).is_ok()
}

/// A NumericDate (RFC 7519 §2): non-negative seconds, possibly fractional.
/// Fractions are truncated, which can only make a token expire earlier.
fn numeric_date(claims: &Map<String, Value>, name: &'static str) -> Result<Option<u64>, AuthError> {
    match claims.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => match (n.as_u64(), n.as_f64()) {
            (Some(secs), _) => Ok(Some(secs)),
            (None, Some(f)) if f.is_finite() && f >= 0.0 && f < u64::MAX as f64 => {
                Ok(Some(f as u64))
            }
            _ => Err(AuthError::Malformed),
        },
        Some(_) => Err(AuthError::Malformed),
    }
}

/// `aud` (a string or an array) names the app; for Cognito, per `token_use`,
/// `aud` (ID token) or `client_id` (access token) does.
fn audience_accepted(claims: &Map<String, Value>, rule: &AudienceRule) -> bool {
    let names = |claim: &str, expected: &str| match claims.get(claim) {
        Some(Value::String(aud)) => aud == expected,
        Some(Value::Array(auds)) => auds.iter().any(|a| a.as_str() == Some(expected)),
        _ => false,
    };
    match rule {
        AudienceRule::Aud(expected) => names("aud", expected),
        AudienceRule::CognitoClient(client) => {
            match claims.get("token_use").and_then(Value::as_str) {
                Some("id") => names("aud", client),
                Some("access") => {
                    claims.get("client_id").and_then(Value::as_str) == Some(client.as_str())
                }
                _ => false,
            }
        }
    }
}

fn claim_grants_admin(claims: &Map<String, Value>, rule: &AdminClaim) -> bool {
    let matches = |v: &Value| match v {
        Value::String(s) => *s == rule.value,
        Value::Bool(b) => b.to_string() == rule.value,
        Value::Number(n) => n.to_string() == rule.value,
        _ => false,
    };
    match rule.path.find(claims) {
        Some(Value::Array(items)) => items.iter().any(matches),
        Some(value) => matches(value),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    use callkit_core::secret::Secret;
    use futures::executor::block_on;
    use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
    use serde_json::json;

    use super::*;
    use crate::api::auth::jwks::{JwksError, NoJwks};
    use crate::api::auth::signature::rust_crypto::RustCrypto;
    use crate::api::auth::signature::NoSignatures;

    const SECRET: &str = "an-hs256-test-secret-of-32-bytes!";
    const RSA_PRIVATE: &str = include_str!("testdata/rsa_private.pem");
    const RSA_PUBLIC: &str = include_str!("testdata/rsa_public.pem");
    const EC_PRIVATE: &str = include_str!("testdata/ec_private.pem");
    const JWKS: &str = include_str!("testdata/jwks.json");
    const NOW: u64 = 1_700_000_000;

    struct FixtureJwks {
        calls: Cell<usize>,
    }

    impl JwksSource for &FixtureJwks {
        async fn fetch_jwks(&self) -> Result<String, JwksError> {
            self.calls.set(self.calls.get() + 1);
            Ok(JWKS.to_owned())
        }
    }

    fn hs_config() -> JwtConfig {
        JwtConfig {
            alg: JwtAlg::Hs256,
            keys: JwtKeys::Secret(Secret::new(SECRET)),
            issuer: Some("https://issuer.example".into()),
            audience: Some("callkit".into()),
            leeway_secs: 30,
            admin_claim: Some(AdminClaim {
                path: ClaimPath::parse("roles").unwrap(),
                value: "callkit-admin".into(),
            }),
            user_claim: ClaimPath::default(),
        }
    }

    fn jwks_config(alg: JwtAlg) -> JwtConfig {
        JwtConfig {
            alg,
            keys: JwtKeys::Jwks {
                url: "https://issuer.example/jwks".into(),
                refresh_secs: 300,
            },
            ..hs_config()
        }
    }

    fn claims() -> Value {
        json!({
            "sub": "alice",
            "iss": "https://issuer.example",
            "aud": "callkit",
            "exp": NOW + 600,
            "iat": NOW,
        })
    }

    fn with(mut base: Value, key: &str, value: Value) -> Value {
        base[key] = value;
        base
    }

    fn without(mut base: Value, key: &str) -> Value {
        base.as_object_mut().unwrap().remove(key);
        base
    }

    fn hs256(claims: &Value) -> String {
        encode(
            &Header::new(Algorithm::HS256),
            claims,
            &EncodingKey::from_secret(SECRET.as_bytes()).unwrap(),
        )
        .unwrap()
    }

    fn rs256(claims: &Value, kid: &str) -> String {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(kid.into());
        let key = EncodingKey::from_rsa_pem(RSA_PRIVATE.as_bytes()).unwrap();
        encode(&header, claims, &key).unwrap()
    }

    fn es256(claims: &Value, kid: &str) -> String {
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(kid.into());
        let key = EncodingKey::from_ec_pem(EC_PRIVATE.as_bytes()).unwrap();
        encode(&header, claims, &key).unwrap()
    }

    fn hs(token: &str, now: u64) -> Result<VerifiedJwt, AuthError> {
        let verifier = JwtVerifier::new(&hs_config(), NoJwks, NoSignatures).unwrap();
        block_on(verifier.verify(token, now))
    }

    fn raw_token(header: &Value, claims: &Value, signature: &str) -> String {
        format!(
            "{}.{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string()),
            signature
        )
    }

    #[test]
    fn valid_hs256_is_accepted() {
        let verified = hs(&hs256(&claims()), NOW).unwrap();
        assert_eq!(verified.subject, "alice");
        assert!(!verified.admin_by_claim);
    }

    #[test]
    fn alg_none_is_rejected() {
        let header = json!({"alg": "none", "typ": "JWT"});
        assert_eq!(
            hs(&raw_token(&header, &claims(), ""), NOW),
            Err(AuthError::WrongAlgorithm)
        );
        let header = json!({"alg": "None"});
        assert_eq!(
            hs(&raw_token(&header, &claims(), "AAAA"), NOW),
            Err(AuthError::WrongAlgorithm)
        );
    }

    #[test]
    fn other_hmac_strength_is_rejected() {
        let token = encode(
            &Header::new(Algorithm::HS512),
            &claims(),
            &EncodingKey::from_secret(SECRET.as_bytes()).unwrap(),
        )
        .unwrap();
        assert_eq!(hs(&token, NOW), Err(AuthError::WrongAlgorithm));
    }

    #[test]
    fn wrong_secret_is_bad_signature() {
        let token = encode(
            &Header::new(Algorithm::HS256),
            &claims(),
            &EncodingKey::from_secret(b"another-secret-another-secret-00").unwrap(),
        )
        .unwrap();
        assert_eq!(hs(&token, NOW), Err(AuthError::BadSignature));
    }

    #[test]
    fn algorithm_confusion_is_rejected() {
        let source = FixtureJwks {
            calls: Cell::new(0),
        };
        let verifier = JwtVerifier::new(&jwks_config(JwtAlg::Rs256), &source, RustCrypto).unwrap();
        // Classic attack: HMAC over the token with the RSA public key as secret.
        let forged = encode(
            &Header::new(Algorithm::HS256),
            &claims(),
            &EncodingKey::from_secret(RSA_PUBLIC.as_bytes()).unwrap(),
        )
        .unwrap();
        assert_eq!(
            block_on(verifier.verify(&forged, NOW)),
            Err(AuthError::WrongAlgorithm)
        );
        // Same forgery but with the header lying about the algorithm.
        let parts: Vec<&str> = forged.split('.').collect();
        let header = json!({"alg": "RS256", "kid": "rsa-1"});
        let lying = raw_token(&header, &claims(), parts[2]);
        assert_eq!(
            block_on(verifier.verify(&lying, NOW)),
            Err(AuthError::BadSignature)
        );
    }

    #[test]
    fn rs256_and_es256_via_jwks() {
        let source = FixtureJwks {
            calls: Cell::new(0),
        };
        let rs = JwtVerifier::new(&jwks_config(JwtAlg::Rs256), &source, RustCrypto).unwrap();
        assert_eq!(
            block_on(rs.verify(&rs256(&claims(), "rsa-1"), NOW))
                .unwrap()
                .subject,
            "alice"
        );
        let es = JwtVerifier::new(&jwks_config(JwtAlg::Es256), &source, RustCrypto).unwrap();
        assert_eq!(
            block_on(es.verify(&es256(&claims(), "ec-1"), NOW))
                .unwrap()
                .subject,
            "alice"
        );
        // An RS256 token is not accepted where ES256 is pinned, even with a known kid.
        assert_eq!(
            block_on(es.verify(&rs256(&claims(), "rsa-1"), NOW)),
            Err(AuthError::WrongAlgorithm)
        );
        // A kid naming the RSA key cannot smuggle it into ES256 verification.
        assert_eq!(
            block_on(es.verify(&es256(&claims(), "rsa-1"), NOW)),
            Err(AuthError::UnknownKey)
        );
        assert_eq!(source.calls.get(), 2);
    }

    #[test]
    fn unknown_kid_refetches_once_within_interval() {
        let source = FixtureJwks {
            calls: Cell::new(0),
        };
        let verifier = JwtVerifier::new(&jwks_config(JwtAlg::Es256), &source, RustCrypto).unwrap();
        block_on(verifier.verify(&es256(&claims(), "ec-1"), NOW)).unwrap();
        assert_eq!(source.calls.get(), 1);
        let later = NOW + 400;
        let fresh = with(claims(), "exp", json!(later + 600));
        assert_eq!(
            block_on(verifier.verify(&es256(&fresh, "new-1"), later)),
            Err(AuthError::UnknownKey)
        );
        assert_eq!(source.calls.get(), 2);
        assert_eq!(
            block_on(verifier.verify(&es256(&fresh, "new-2"), later + 10)),
            Err(AuthError::UnknownKey)
        );
        assert_eq!(source.calls.get(), 2);
    }

    #[test]
    fn audience_and_issuer_are_checked() {
        assert_eq!(
            hs(&hs256(&with(claims(), "aud", json!("other"))), NOW),
            Err(AuthError::WrongAudience)
        );
        assert_eq!(
            hs(&hs256(&without(claims(), "aud")), NOW),
            Err(AuthError::WrongAudience)
        );
        assert!(hs(&hs256(&with(claims(), "aud", json!(["x", "callkit"]))), NOW).is_ok());
        assert_eq!(
            hs(
                &hs256(&with(claims(), "iss", json!("https://evil.example"))),
                NOW
            ),
            Err(AuthError::WrongIssuer)
        );
        assert_eq!(
            hs(&hs256(&without(claims(), "iss")), NOW),
            Err(AuthError::WrongIssuer)
        );
    }

    #[test]
    fn expiry_and_leeway_boundaries() {
        let token = hs256(&claims()); // exp = NOW + 600, leeway 30
        assert!(hs(&token, NOW + 629).is_ok());
        assert_eq!(hs(&token, NOW + 630), Err(AuthError::Expired));
        assert_eq!(
            hs(&hs256(&without(claims(), "exp")), NOW),
            Err(AuthError::MissingClaim("exp"))
        );
        assert_eq!(
            hs(&hs256(&with(claims(), "exp", json!("soon"))), NOW),
            Err(AuthError::Malformed)
        );
        assert_eq!(
            hs(&hs256(&with(claims(), "exp", json!(-5))), NOW),
            Err(AuthError::Malformed)
        );
        assert!(hs(
            &hs256(&with(claims(), "exp", json!((NOW + 600) as f64 + 0.5))),
            NOW
        )
        .is_ok());
    }

    #[test]
    fn not_before_and_leeway_boundaries() {
        let token = hs256(&with(claims(), "nbf", json!(NOW + 100)));
        assert_eq!(hs(&token, NOW + 69), Err(AuthError::NotYetValid));
        assert!(hs(&token, NOW + 70).is_ok());
    }

    #[test]
    fn zero_leeway_is_exact() {
        let config = JwtConfig {
            leeway_secs: 0,
            ..hs_config()
        };
        let verifier = JwtVerifier::new(&config, NoJwks, NoSignatures).unwrap();
        let token = hs256(&with(claims(), "nbf", json!(NOW)));
        assert_eq!(
            block_on(verifier.verify(&token, NOW - 1)),
            Err(AuthError::NotYetValid)
        );
        assert!(block_on(verifier.verify(&token, NOW + 599)).is_ok());
        assert_eq!(
            block_on(verifier.verify(&token, NOW + 600)),
            Err(AuthError::Expired)
        );
    }

    #[test]
    fn truncated_and_garbage_tokens_are_malformed() {
        let token = hs256(&claims());
        let dots: Vec<usize> = token.match_indices('.').map(|(i, _)| i).collect();
        assert_eq!(hs(&token[..dots[1]], NOW), Err(AuthError::Malformed));
        assert_eq!(hs(&token[..dots[0] + 5], NOW), Err(AuthError::Malformed));
        assert_eq!(
            hs(&token[..token.len() - 3], NOW),
            Err(AuthError::BadSignature)
        );
        assert_eq!(
            hs(&format!("{token}.extra"), NOW),
            Err(AuthError::Malformed)
        );
        assert_eq!(hs("not a jwt", NOW), Err(AuthError::Malformed));
        assert_eq!(hs("", NOW), Err(AuthError::Malformed));
        assert_eq!(
            hs(&"a".repeat(MAX_TOKEN_LEN + 1), NOW),
            Err(AuthError::Malformed)
        );
        let crit = raw_token(&json!({"alg": "HS256", "crit": ["exp"]}), &claims(), "AAAA");
        assert_eq!(hs(&crit, NOW), Err(AuthError::Malformed));
    }

    #[test]
    fn subject_must_be_a_user_id() {
        assert_eq!(
            hs(&hs256(&without(claims(), "sub")), NOW),
            Err(AuthError::MissingClaim("sub"))
        );
        assert_eq!(
            hs(&hs256(&with(claims(), "sub", json!(""))), NOW),
            Err(AuthError::InvalidSubject)
        );
        assert_eq!(
            hs(&hs256(&with(claims(), "sub", json!("x".repeat(33)))), NOW),
            Err(AuthError::InvalidSubject)
        );
        assert_eq!(
            hs(&hs256(&with(claims(), "sub", json!(42))), NOW),
            Err(AuthError::InvalidSubject)
        );
        assert!(hs(&hs256(&with(claims(), "sub", json!("x".repeat(32)))), NOW).is_ok());
    }

    #[test]
    fn admin_claim_matches_value_or_array_member() {
        let admin = |value: Value| {
            hs(&hs256(&with(claims(), "roles", value)), NOW)
                .unwrap()
                .admin_by_claim
        };
        assert!(admin(json!("callkit-admin")));
        assert!(admin(json!(["user", "callkit-admin"])));
        assert!(!admin(json!(["user"])));
        assert!(!admin(json!("callkit-admin-not")));
        assert!(!admin(json!({"callkit-admin": true})));
        assert!(!hs(&hs256(&claims()), NOW).unwrap().admin_by_claim);
        let rule = AdminClaim {
            path: ClaimPath::parse("is_admin").unwrap(),
            value: "true".into(),
        };
        let map = json!({"is_admin": true});
        assert!(claim_grants_admin(map.as_object().unwrap(), &rule));
    }

    fn hs_with(config: JwtConfig, claims: &Value) -> Result<VerifiedJwt, AuthError> {
        let verifier = JwtVerifier::new(&config, NoJwks, NoSignatures).unwrap();
        block_on(verifier.verify(&hs256(claims), NOW))
    }

    #[test]
    fn the_user_id_comes_from_the_configured_claim() {
        let tuid = |path: &str| JwtConfig {
            user_claim: ClaimPath::parse(path).unwrap(),
            ..hs_config()
        };
        let uuid = "8b0a4f1e-5d3c-4c2b-9a8e-7f6d5c4b3a21";
        let supabase = with(
            with(claims(), "sub", json!(uuid)),
            "app_metadata",
            json!({"provider": "email", "tuid": "alice_01"}),
        );
        // A 36-byte UUID is no TUICallKit UserID.
        assert_eq!(hs(&hs256(&supabase), NOW), Err(AuthError::InvalidSubject));
        let ok = hs_with(tuid("app_metadata.tuid"), &supabase).unwrap();
        assert_eq!(ok.subject, "alice_01");
        let auth0 = with(claims(), "https://example.com/tuid", json!("bob"));
        assert_eq!(
            hs_with(tuid("[https://example.com/tuid]"), &auth0)
                .unwrap()
                .subject,
            "bob"
        );
        // A custom claim that is missing, not a string, or not a UserID: invalid subject.
        for bad in [
            json!(null),
            json!(42),
            json!(["alice"]),
            json!({"id": "alice"}),
            json!(uuid),
        ] {
            let token = with(claims(), "tuid", bad.clone());
            assert_eq!(
                hs_with(tuid("tuid"), &token),
                Err(AuthError::InvalidSubject),
                "{bad}"
            );
        }
        assert_eq!(
            hs_with(tuid("tuid"), &claims()),
            Err(AuthError::InvalidSubject)
        );
        let err = AuthError::InvalidSubject.to_string();
        assert!(
            err.contains("JWT_USER_CLAIM") && err.contains("1-32"),
            "{err}"
        );
    }

    #[test]
    fn cognito_id_tokens_name_the_client_in_aud_and_access_tokens_in_client_id() {
        let config = JwtConfig {
            audience: Some(AudienceRule::CognitoClient("client-1".into())),
            ..hs_config()
        };
        let base = without(claims(), "aud");
        let id = with(
            with(base.clone(), "token_use", json!("id")),
            "aud",
            json!("client-1"),
        );
        let access = with(
            with(base.clone(), "token_use", json!("access")),
            "client_id",
            json!("client-1"),
        );
        assert!(hs_with(config.clone(), &id).is_ok());
        assert!(hs_with(config.clone(), &access).is_ok());
        for bad in [
            with(id.clone(), "aud", json!("client-2")),
            with(access.clone(), "client_id", json!("client-2")),
            // Each token type is read by its own claim only.
            with(
                with(base.clone(), "token_use", json!("id")),
                "client_id",
                json!("client-1"),
            ),
            with(
                with(base.clone(), "token_use", json!("access")),
                "aud",
                json!("client-1"),
            ),
            with(
                without(id.clone(), "token_use"),
                "client_id",
                json!("client-1"),
            ),
            with(id.clone(), "token_use", json!("refresh")),
        ] {
            assert_eq!(
                hs_with(config.clone(), &bad),
                Err(AuthError::WrongAudience),
                "{bad}"
            );
        }
    }

    #[test]
    fn admin_claim_reads_arrays_nested_objects_and_strings() {
        let rule = |path: &str, value: &str| JwtConfig {
            admin_claim: Some(AdminClaim {
                path: ClaimPath::parse(path).unwrap(),
                value: value.into(),
            }),
            ..hs_config()
        };
        let admin = |config: JwtConfig, key: &str, value: Value| {
            hs_with(config, &with(claims(), key, value))
                .unwrap()
                .admin_by_claim
        };
        // Cognito: groups array, under a name with a colon.
        let groups = || rule("cognito:groups", "callkit-admins");
        assert!(admin(
            groups(),
            "cognito:groups",
            json!(["users", "callkit-admins"])
        ));
        assert!(!admin(groups(), "cognito:groups", json!(["users"])));
        // Auth0: a namespaced roles array.
        let roles = || rule("[https://example.com/roles]", "callkit-admin");
        assert!(admin(
            roles(),
            "https://example.com/roles",
            json!(["callkit-admin"])
        ));
        assert!(!admin(
            roles(),
            "https://example.com/roles",
            json!("viewer")
        ));
        // Supabase: inside app_metadata, a string or an array.
        let meta = || rule("app_metadata.callkit_role", "admin");
        assert!(admin(
            meta(),
            "app_metadata",
            json!({"callkit_role": "admin"})
        ));
        assert!(admin(
            meta(),
            "app_metadata",
            json!({"callkit_role": ["admin"]})
        ));
        assert!(!admin(
            meta(),
            "app_metadata",
            json!({"callkit_role": "user"})
        ));
        assert!(
            !admin(meta(), "callkit_role", json!("admin")),
            "only at the path"
        );
        // Clerk: the active organization's role, a plain string one level down.
        let org = || rule("o.rol", "admin");
        assert!(admin(org(), "o", json!({"id": "org_1", "rol": "admin"})));
        assert!(!admin(org(), "o", json!({"id": "org_1", "rol": "member"})));
    }

    #[test]
    fn errors_never_quote_the_token() {
        let token = hs256(&with(claims(), "exp", json!(NOW - 1000)));
        let err = hs(&token, NOW).unwrap_err();
        assert!(!format!("{err} {err:?}").contains(&token[..20]));
    }

    #[test]
    fn pinned_algorithm_is_checked_before_any_key_lookup() {
        let source = FixtureJwks {
            calls: Cell::new(0),
        };
        let es = JwtVerifier::new(&jwks_config(JwtAlg::Es256), &source, RustCrypto).unwrap();
        for token in [rs256(&claims(), "rsa-1"), hs256(&claims())] {
            assert_eq!(
                block_on(es.verify(&token, NOW)),
                Err(AuthError::WrongAlgorithm)
            );
        }
        let none = raw_token(&json!({"alg": "none", "kid": "ec-1"}), &claims(), "");
        assert_eq!(
            block_on(es.verify(&none, NOW)),
            Err(AuthError::WrongAlgorithm)
        );
        assert_eq!(
            source.calls.get(),
            0,
            "no JWKS fetch for a refused algorithm"
        );
    }

    #[test]
    fn es256_signature_must_be_raw_r_and_s() {
        let source = FixtureJwks {
            calls: Cell::new(0),
        };
        let es = JwtVerifier::new(&jwks_config(JwtAlg::Es256), &source, RustCrypto).unwrap();
        let token = es256(&claims(), "ec-1");
        let (input, sig) = token.rsplit_once('.').unwrap();
        let sig = URL_SAFE_NO_PAD.decode(sig).unwrap();
        assert_eq!(sig.len(), 64);
        let mut longer = sig.clone();
        longer.push(0);
        for bad in [&longer[..], &sig[..63], &[][..]] {
            let forged = format!("{input}.{}", URL_SAFE_NO_PAD.encode(bad));
            assert_eq!(
                block_on(es.verify(&forged, NOW)),
                Err(AuthError::BadSignature)
            );
        }
        let mut flipped = sig.clone();
        flipped[10] ^= 1;
        let forged = format!("{input}.{}", URL_SAFE_NO_PAD.encode(&flipped));
        assert_eq!(
            block_on(es.verify(&forged, NOW)),
            Err(AuthError::BadSignature)
        );
        assert!(block_on(es.verify(&token, NOW)).is_ok());
    }

    #[test]
    fn rs256_tampered_payload_is_bad_signature() {
        let source = FixtureJwks {
            calls: Cell::new(0),
        };
        let rs = JwtVerifier::new(&jwks_config(JwtAlg::Rs256), &source, RustCrypto).unwrap();
        let token = rs256(&claims(), "rsa-1");
        let parts: Vec<&str> = token.split('.').collect();
        let admin =
            URL_SAFE_NO_PAD.encode(with(claims(), "sub", json!("administrator")).to_string());
        let forged = format!("{}.{admin}.{}", parts[0], parts[2]);
        assert_eq!(
            block_on(rs.verify(&forged, NOW)),
            Err(AuthError::BadSignature)
        );
        let padded = format!("{token}=");
        assert_eq!(block_on(rs.verify(&padded, NOW)), Err(AuthError::Malformed));
    }

    #[test]
    fn expired_token_with_unknown_kid_does_not_refetch() {
        let source = FixtureJwks {
            calls: Cell::new(0),
        };
        let es = JwtVerifier::new(&jwks_config(JwtAlg::Es256), &source, RustCrypto).unwrap();
        block_on(es.verify(&es256(&claims(), "ec-1"), NOW)).unwrap();
        let later = NOW + 400;
        let stale = es256(&claims(), "rogue"); // exp NOW + 600 + 30 leeway < later + 400
        assert_eq!(
            block_on(es.verify(&stale, later + 400)),
            Err(AuthError::UnknownKey)
        );
        assert_eq!(
            source.calls.get(),
            1,
            "an expired token does not spend the refetch"
        );
        let fresh = es256(&with(claims(), "exp", json!(later + 600)), "rogue");
        assert_eq!(
            block_on(es.verify(&fresh, later)),
            Err(AuthError::UnknownKey)
        );
        assert_eq!(source.calls.get(), 2);
    }
}
