//! The JWT parser and claim checks, through `JwtVerifier::verify` in HS256
//! mode (RS256/ES256 signatures go to WebCrypto, which native fuzzing lacks;
//! their parsing is the same code up to the signature check).
#![no_main]

use callkit_core::secret::Secret;
use callkit_edge::api::auth::claim_path::ClaimPath;
use callkit_edge::api::auth::config::{JwtAlg, JwtConfig, JwtKeys};
use callkit_edge::api::auth::jwt::JwtVerifier;
use callkit_edge::api::auth::{NoJwks, NoSignatures};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(token) = std::str::from_utf8(data) else {
        return;
    };
    let config = JwtConfig {
        alg: JwtAlg::Hs256,
        keys: JwtKeys::Secret(Secret::new("fuzz-secret-of-at-least-32-bytes!!")),
        issuer: None,
        audience: None,
        leeway_secs: 30,
        admin_claim: None,
        user_claim: ClaimPath::default(),
    };
    let verifier = JwtVerifier::new(&config, NoJwks, NoSignatures).expect("a valid config");
    let _ = futures::executor::block_on(verifier.verify(token, 1_700_000_000));
});
