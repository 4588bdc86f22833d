//! JWT caller tokens: HS256 with a shared secret, or RS256/ES256 with keys
//! from a JWKS. Signatures are checked by `jsonwebtoken`; the algorithm is
//! pinned by configuration and time claims are checked here against the
//! clock the caller passes in (the crate would read the platform clock).

use std::collections::HashSet;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::config::{AdminClaim, AuthConfigError, JwtAlg, JwtConfig, JwtKeys, JWT_SECRET};
use super::error::AuthError;
use super::identity::is_valid_user_id;
use super::jwks::{JwksCache, JwksSource};

/// Longer tokens are refused before any decoding work.
pub const MAX_TOKEN_LEN: usize = 8 * 1024;

enum Keys<S> {
    Secret(DecodingKey),
    Jwks(JwksCache<S>),
}

pub struct JwtVerifier<S> {
    alg: JwtAlg,
    keys: Keys<S>,
    issuer: Option<String>,
    audience: Option<String>,
    leeway_secs: u64,
    admin_claim: Option<AdminClaim>,
}

/// What a valid token says about its bearer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedJwt {
    pub subject: String,
    pub admin_by_claim: bool,
    /// The token's `exp` (Unix s).
    pub expires_at: u64,
}

#[derive(Deserialize)]
struct PeekedHeader {
    alg: String,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    crit: Option<Value>,
}

impl<S: JwksSource> JwtVerifier<S> {
    pub fn new(config: &JwtConfig, source: S) -> Result<Self, AuthConfigError> {
        let keys = match &config.keys {
            JwtKeys::Secret(secret) => Keys::Secret(
                DecodingKey::from_secret(secret.expose().as_bytes()).map_err(|_| {
                    AuthConfigError::Invalid {
                        setting: JWT_SECRET,
                        reason: "is not a usable HMAC key".into(),
                    }
                })?,
            ),
            JwtKeys::Jwks { refresh_secs, .. } => {
                Keys::Jwks(JwksCache::new(source, config.alg, *refresh_secs))
            }
        };
        Ok(Self {
            alg: config.alg,
            keys,
            issuer: config.issuer.clone(),
            audience: config.audience.clone(),
            leeway_secs: config.leeway_secs,
            admin_claim: config.admin_claim.clone(),
        })
    }

    pub async fn verify(&self, token: &str, now_secs: u64) -> Result<VerifiedJwt, AuthError> {
        let header = peek_header(token)?;
        // Compared before any key lookup: the header never picks the algorithm.
        if header.alg != self.alg.as_str() {
            return Err(AuthError::WrongAlgorithm);
        }
        // We implement no JWS extensions, so any critical one must be refused (RFC 7515 §4.1.11).
        if header.crit.is_some() {
            return Err(AuthError::Malformed);
        }
        let key = match &self.keys {
            Keys::Secret(key) => key.clone(),
            Keys::Jwks(cache) => cache.key_for(header.kid.as_deref(), now_secs).await?,
        };
        let claims = jsonwebtoken::decode::<Map<String, Value>>(token, &key, &self.validation())
            .map_err(|e| map_jwt_error(e.kind()))?
            .claims;
        self.check_claims(&claims, now_secs)
    }

    /// Signature and algorithm only; claim checks happen in `check_claims`.
    fn validation(&self) -> Validation {
        let mut validation = Validation::new(match self.alg {
            JwtAlg::Hs256 => Algorithm::HS256,
            JwtAlg::Rs256 => Algorithm::RS256,
            JwtAlg::Es256 => Algorithm::ES256,
        });
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        validation.required_spec_claims = HashSet::new();
        validation.leeway = 0;
        validation
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
        if let Some(audience) = &self.audience {
            let accepted = match claims.get("aud") {
                Some(Value::String(aud)) => aud == audience,
                Some(Value::Array(auds)) => auds.iter().any(|a| a.as_str() == Some(audience)),
                _ => false,
            };
            if !accepted {
                return Err(AuthError::WrongAudience);
            }
        }
        let subject = match claims.get("sub") {
            None | Some(Value::Null) => return Err(AuthError::MissingClaim("sub")),
            Some(Value::String(sub)) if is_valid_user_id(sub) => sub.clone(),
            Some(_) => return Err(AuthError::InvalidSubject),
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

fn peek_header(token: &str) -> Result<PeekedHeader, AuthError> {
    let valid_chars = token
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if token.len() > MAX_TOKEN_LEN || !valid_chars {
        return Err(AuthError::Malformed);
    }
    let parts: Vec<&str> = token.split('.').collect();
    let [header, payload, _signature] = parts.as_slice() else {
        return Err(AuthError::Malformed);
    };
    if header.is_empty() || payload.is_empty() {
        return Err(AuthError::Malformed);
    }
    let bytes = URL_SAFE_NO_PAD
        .decode(header)
        .map_err(|_| AuthError::Malformed)?;
    serde_json::from_slice(&bytes).map_err(|_| AuthError::Malformed)
}

fn map_jwt_error(kind: &ErrorKind) -> AuthError {
    match kind {
        ErrorKind::InvalidSignature
        | ErrorKind::InvalidEcdsaKey
        | ErrorKind::InvalidRsaKey(_)
        | ErrorKind::InvalidKeyFormat => AuthError::BadSignature,
        ErrorKind::InvalidAlgorithm
        | ErrorKind::MissingAlgorithm
        | ErrorKind::InvalidAlgorithmName
        | ErrorKind::UnsupportedAlgorithm => AuthError::WrongAlgorithm,
        _ => AuthError::Malformed,
    }
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

fn claim_grants_admin(claims: &Map<String, Value>, rule: &AdminClaim) -> bool {
    let matches = |v: &Value| match v {
        Value::String(s) => *s == rule.value,
        Value::Bool(b) => b.to_string() == rule.value,
        Value::Number(n) => n.to_string() == rule.value,
        _ => false,
    };
    match claims.get(&rule.name) {
        Some(Value::Array(items)) => items.iter().any(matches),
        Some(value) => matches(value),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use callkit_core::secret::Secret;
    use futures::executor::block_on;
    use jsonwebtoken::{encode, EncodingKey, Header};
    use serde_json::json;

    use super::*;
    use crate::api::auth::jwks::{JwksError, NoJwks};

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
                name: "roles".into(),
                value: "callkit-admin".into(),
            }),
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
        let verifier = JwtVerifier::new(&hs_config(), NoJwks).unwrap();
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
        let verifier = JwtVerifier::new(&jwks_config(JwtAlg::Rs256), &source).unwrap();
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
        let rs = JwtVerifier::new(&jwks_config(JwtAlg::Rs256), &source).unwrap();
        assert_eq!(
            block_on(rs.verify(&rs256(&claims(), "rsa-1"), NOW))
                .unwrap()
                .subject,
            "alice"
        );
        let es = JwtVerifier::new(&jwks_config(JwtAlg::Es256), &source).unwrap();
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
        let verifier = JwtVerifier::new(&jwks_config(JwtAlg::Es256), &source).unwrap();
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
        let verifier = JwtVerifier::new(&config, NoJwks).unwrap();
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
            name: "is_admin".into(),
            value: "true".into(),
        };
        let map = json!({"is_admin": true});
        assert!(claim_grants_admin(map.as_object().unwrap(), &rule));
    }

    #[test]
    fn errors_never_quote_the_token() {
        let token = hs256(&with(claims(), "exp", json!(NOW - 1000)));
        let err = hs(&token, NOW).unwrap_err();
        assert!(!format!("{err} {err:?}").contains(&token[..20]));
    }
}
