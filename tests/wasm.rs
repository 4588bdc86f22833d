//! The wasm-only pieces, run inside wasm under Node by wasm-bindgen-test:
//! the platform randomness and clock, UserSig minting and verification
//! compiled to wasm, RS256/ES256 verification through WebCrypto, and the
//! board's socket glue against web APIs (headers forwarded, a refused accept).
#![cfg(target_arch = "wasm32")]

use callkit_core::client::Runtime;
use callkit_core::usersig::{self, Expected, UserSigError};
use callkit_edge::platform::runtime::{random_u32, WorkerRuntime};
use wasm_bindgen_test::wasm_bindgen_test;

const KEY: &str = "5bd2850fff3ecb11d7c805251c51ee463a25727bddc2385f3fa8bfee1bb93b5e";

#[wasm_bindgen_test]
fn random_comes_from_the_platform_csprng() {
    let draws: Vec<u32> = (0..64).map(|_| random_u32()).collect();
    let mut distinct = draws.clone();
    distinct.sort_unstable();
    distinct.dedup();
    // 64 draws from 2^32 values collide with probability ~5e-7.
    assert_eq!(distinct.len(), draws.len());
    // Both halves of the range show up, so the bytes are not all zero or constant.
    assert!(draws.iter().any(|v| *v > u32::MAX / 2));
    assert!(draws.iter().any(|v| *v < u32::MAX / 2));
}

#[wasm_bindgen_test]
fn clock_reads_date_now() {
    let now = WorkerRuntime.now_millis();
    let date_now = js_sys::Date::now() as u64;
    assert!(date_now.abs_diff(now) < 1_000, "{now} vs {date_now}");
    // After 2026-01-01 and in milliseconds, not seconds.
    assert!(now > 1_767_225_600_000);
    // Bracketed by two millisecond reads, so a second boundary between the
    // reads cannot make a wrong conversion pass or a right one fail.
    let before = WorkerRuntime.now_millis();
    let secs = WorkerRuntime.now_secs();
    let after = WorkerRuntime.now_millis();
    assert!(
        before / 1000 <= secs && secs <= after / 1000,
        "{before} ms, {secs} s, {after} ms"
    );
}

#[wasm_bindgen_test]
fn published_vector_decodes_and_verifies_in_wasm() {
    let published = "eJyrVgrxCdYrSy1SslIy0jNQ0gHzM1NS80oy0zLBwjDB4pTsxIKCzBQlK0MTAyiAyKRWFGQWpQLFTU1NjeCiJZm5YDEzS0tDAyOYaHFmOtBM54KsUqeUwGLLqPK8UndHryCL-Lx8-1RPy7Ty1AijMk9f30hLk0x-r3CvSFulWgAPYy*9";
    let expected = Expected {
        sdkappid: 1_400_000_000,
        identifier: Some("0"),
        userbuf: None,
    };
    let decoded =
        usersig::verify(published, KEY, &expected, 1_569_910_200).expect("valid at its issue time");
    assert_eq!(decoded.sig, "CpjuBdQs9ZwnuGAJR8onoOeI9fweX2vIMMY94iOJWJY=");
    assert!(matches!(
        usersig::verify(published, KEY, &expected, 1_585_462_201),
        Err(UserSigError::Expired { .. })
    ));
}

#[wasm_bindgen_test]
fn mint_and_verify_with_the_wasm_clock() {
    let now = WorkerRuntime.now_secs();
    let sig = usersig::mint_now(KEY, 1_400_000_000, "alice", 86_400, now);
    let expected = Expected {
        sdkappid: 1_400_000_000,
        identifier: None,
        userbuf: None,
    };
    let decoded = usersig::verify(&sig, KEY, &expected, now).expect("fresh sig verifies");
    assert_eq!(decoded.identifier, "alice");
    assert_eq!(decoded.expires_at(), now + 86_400);
    assert_eq!(
        usersig::verify(&sig, "another-key", &expected, now),
        Err(UserSigError::BadSignature)
    );
    let other_app = Expected {
        sdkappid: 1_400_000_001,
        ..expected
    };
    assert_eq!(
        usersig::verify(&sig, KEY, &other_app, now),
        Err(UserSigError::AppIdMismatch)
    );
}

// ------------------------------------------------------------ WebCrypto JWT

mod webcrypto {
    use callkit_edge::api::auth::claim_path::ClaimPath;
    use callkit_edge::api::auth::config::{JwtAlg, JwtConfig, JwtKeys};
    use callkit_edge::api::auth::jwt::JwtVerifier;
    use callkit_edge::api::auth::webcrypto::WebCrypto;
    use callkit_edge::api::auth::{AuthError, JwksError, JwksSource};
    use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
    use wasm_bindgen_test::wasm_bindgen_test;

    const JWKS: &str = include_str!("../src/api/auth/testdata/jwks.json");
    const RSA_PRIVATE: &str = include_str!("../src/api/auth/testdata/rsa_private.pem");
    const EC_PRIVATE: &str = include_str!("../src/api/auth/testdata/ec_private.pem");
    const NOW: u64 = 1_700_000_000;

    struct Fixture;

    impl JwksSource for Fixture {
        async fn fetch_jwks(&self) -> Result<String, JwksError> {
            Ok(JWKS.to_owned())
        }
    }

    fn verifier(alg: JwtAlg) -> JwtVerifier<Fixture, WebCrypto> {
        let config = JwtConfig {
            alg,
            keys: JwtKeys::Jwks {
                url: "https://issuer.example/jwks".into(),
                refresh_secs: 300,
            },
            issuer: Some("https://issuer.example".into()),
            audience: Some("callkit".into()),
            leeway_secs: 30,
            admin_claim: None,
            user_claim: ClaimPath::default(),
        };
        JwtVerifier::new(&config, Fixture, WebCrypto).unwrap()
    }

    fn token(alg: Algorithm, kid: &str, key: &EncodingKey) -> String {
        let claims = serde_json::json!({
            "sub": "alice", "iss": "https://issuer.example", "aud": "callkit", "exp": NOW + 600,
        });
        let mut header = Header::new(alg);
        header.kid = Some(kid.into());
        encode(&header, &claims, key).unwrap()
    }

    /// Flips one bit of the signature.
    fn tampered(token: &str) -> String {
        let (input, sig) = token.rsplit_once('.').unwrap();
        let mut sig = sig.as_bytes().to_vec();
        sig[5] = if sig[5] == b'A' { b'B' } else { b'A' };
        format!("{input}.{}", String::from_utf8(sig).unwrap())
    }

    async fn check(alg: JwtAlg, good: String) {
        let v = verifier(alg);
        assert_eq!(v.verify(&good, NOW).await.unwrap().subject, "alice");
        // Twice: the second use goes through the cached CryptoKey.
        assert!(v.verify(&good, NOW + 1).await.is_ok());
        assert_eq!(
            v.verify(&tampered(&good), NOW).await,
            Err(AuthError::BadSignature)
        );
    }

    #[wasm_bindgen_test]
    async fn rs256_verifies_with_webcrypto() {
        let key = EncodingKey::from_rsa_pem(RSA_PRIVATE.as_bytes()).unwrap();
        check(JwtAlg::Rs256, token(Algorithm::RS256, "rsa-1", &key)).await;
    }

    #[wasm_bindgen_test]
    async fn es256_verifies_with_webcrypto() {
        let key = EncodingKey::from_ec_pem(EC_PRIVATE.as_bytes()).unwrap();
        check(JwtAlg::Es256, token(Algorithm::ES256, "ec-1", &key)).await;
    }
}

/// The client's headers on a socket upgrade, as the edge forwards them to
/// the board: a header the board reads (or any other) never passes.
#[wasm_bindgen_test]
fn a_socket_request_carries_the_upgrade_headers_and_the_ticket_only() {
    use callkit_edge::board::Viewer;
    use callkit_edge::live::{socket_headers, tickets::Ticket};

    let upgrade = web_sys::Headers::new().unwrap();
    for (name, value) in [
        ("Upgrade", "websocket"),
        ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
        ("Sec-WebSocket-Version", "13"),
        ("Cookie", "session=1"),
        ("Authorization", "Bearer someone's token"),
        ("Origin", "https://elsewhere.example"),
        (
            "X-Board-Viewer",
            r#"{"userId":"administrator","isAdmin":true}"#,
        ),
        ("X-Board-Max-Calls", "1"),
        ("X-Board-Known-Only", "1"),
        ("X-Board-Replay-Key", "k"),
    ] {
        upgrade.set(name, value).unwrap();
    }
    let ticket = Ticket {
        nonce: "00".repeat(16),
        expires_ms: 1_800_000_000_000,
        socket_until_ms: 1_800_000_060_000,
        shard: 0,
        viewer: Viewer {
            user_id: "alice".into(),
            is_admin: false,
        },
    };
    let headers = socket_headers(&upgrade, &ticket).unwrap();
    let pairs: Vec<(String, String)> = js_sys::try_iter(headers.as_ref())
        .unwrap()
        .unwrap()
        .map(|entry| {
            let entry = js_sys::Array::from(&entry.unwrap());
            (
                entry.get(0).as_string().unwrap(),
                entry.get(1).as_string().unwrap(),
            )
        })
        .collect();
    let names: Vec<&str> = pairs.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "sec-websocket-key",
            "sec-websocket-version",
            "upgrade",
            "x-board-nonce",
            "x-board-nonce-expires",
            "x-board-socket-until",
            "x-board-viewer",
        ]
    );
    let viewer = &pairs.last().unwrap().1;
    assert_eq!(viewer, r#"{"userId":"alice","isAdmin":false}"#);
}

/// A Durable Object state whose runtime refuses every socket (as workerd
/// does past its limits), and a `WebSocketPair` that Node lacks.
fn refusing_state() -> worker::State {
    use wasm_bindgen::JsCast;
    let state = js_sys::eval(
        r#"(() => {
            globalThis.WebSocketPair = function () {
              const end = () => ({ send() {}, serializeAttachment() {} });
              return { 0: end(), 1: end() };
            };
            return {
              getWebSockets() { return []; },
              acceptWebSocket() { throw new Error('too many hibernatable sockets'); },
            };
        })()"#,
    )
    .unwrap();
    worker::State::from(state.unchecked_into::<worker::worker_sys::DurableObjectState>())
}

/// `worker`'s own accept unwraps the runtime's refusal and would panic the
/// board; ours turns it into an error the object answers 503.
#[wasm_bindgen_test]
fn a_refused_socket_is_an_error_not_a_panic() {
    use callkit_edge::board::{Summary, Viewer};
    let viewer = Viewer {
        user_id: "alice".into(),
        is_admin: false,
    };
    let accepted = callkit_edge::live::sockets::accept(
        &refusing_state(),
        &viewer,
        &[],
        Summary::default(),
        0,
        1,
    );
    assert!(accepted.is_err());
}
