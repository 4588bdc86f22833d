//! The JWT parser and claim checks, through `JwtVerifier::verify` in HS256
//! mode (RS256/ES256 signatures go to WebCrypto, which native fuzzing lacks;
//! their parsing is the same code up to the signature check). Every token it
//! accepts is checked here, apart from the code under test: its signature is
//! the HMAC of its signing input under the secret, and its claims meet the
//! configured issuer, audience and times. A bypass fails, not only a panic.
#![no_main]

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use callkit_core::secret::Secret;
use callkit_edge::api::auth::claim_path::ClaimPath;
use callkit_edge::api::auth::config::{AudienceRule, JwtAlg, JwtConfig, JwtKeys};
use callkit_edge::api::auth::jwt::JwtVerifier;
use callkit_edge::api::auth::{NoJwks, NoSignatures};
use hmac::{Hmac, Mac};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use sha2::Sha256;

const SECRET: &str = "fuzz-secret-of-at-least-32-bytes!!";
const ISSUER: &str = "https://idp.fuzz";
const AUDIENCE: &str = "callkit-edge";
const NOW: u64 = 1_700_000_000;
const LEEWAY: u64 = 30;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // A first byte below 4 is a mode: the rest is `header\npayload` JSON,
    // signed here with the secret so the claim checks run on every such
    // input, against an issuer (bit 0) and an audience (bit 1). Anything
    // else is a token as a caller would send it.
    let (token, mode) = match data.first() {
        Some(&mode) if mode < 4 => (signed(&text[1..]), mode),
        _ => (text.to_owned(), 0),
    };
    let config = JwtConfig {
        alg: JwtAlg::Hs256,
        keys: JwtKeys::Secret(Secret::new(SECRET)),
        issuer: (mode & 1 != 0).then(|| ISSUER.to_owned()),
        audience: (mode & 2 != 0).then(|| AudienceRule::from(AUDIENCE)),
        leeway_secs: LEEWAY,
        admin_claim: None,
        user_claim: ClaimPath::default(),
    };
    let verifier = JwtVerifier::new(&config, NoJwks, NoSignatures).expect("a valid config");
    let Ok(verified) = futures::executor::block_on(verifier.verify(&token, NOW)) else {
        return;
    };
    // Accepted: anything but this would be an authentication bypass.
    let (input, signature) = token.rsplit_once('.').expect("a JWS has three parts");
    assert_eq!(
        signature,
        b64(&hmac(input.as_bytes())),
        "a signature the secret did not make"
    );
    let payload = input.split_once('.').expect("header.payload").1;
    let claims: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url"))
            .expect("JSON claims");
    let exp = seconds(&claims["exp"]).expect("an exp");
    assert!(NOW < exp + LEEWAY, "an expired token");
    assert_eq!(verified.expires_at, exp);
    if let Some(nbf) = claims.get("nbf").and_then(seconds) {
        assert!(nbf <= NOW + LEEWAY, "a token not yet valid");
    }
    assert_eq!(claims["sub"].as_str(), Some(verified.subject.as_str()));
    if config.issuer.is_some() {
        assert_eq!(claims["iss"].as_str(), Some(ISSUER), "another issuer");
    }
    if config.audience.is_some() {
        let aud = &claims["aud"];
        let ours = aud.as_str() == Some(AUDIENCE)
            || aud
                .as_array()
                .is_some_and(|a| a.iter().any(|v| v.as_str() == Some(AUDIENCE)));
        assert!(ours, "another audience: {aud}");
    }
});

/// A NumericDate in whole seconds: a fraction is dropped (RFC 7519 §2).
fn seconds(value: &Value) -> Option<u64> {
    value
        .as_u64()
        .or_else(|| value.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64))
}

fn hmac(input: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).expect("any key length");
    mac.update(input);
    mac.finalize().into_bytes().to_vec()
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// `header\npayload` (a default HS256 header when there is no line break), signed.
fn signed(text: &str) -> String {
    let (header, payload) = text
        .split_once('\n')
        .unwrap_or((r#"{"alg":"HS256"}"#, text));
    let input = format!("{}.{}", b64(header.as_bytes()), b64(payload.as_bytes()));
    format!("{input}.{}", b64(&hmac(input.as_bytes())))
}
