//! UserSig decode and verify: the bearer token in `usersig` auth mode, so
//! any string a caller sends. Must never panic or allocate without bound,
//! and must never accept a sig the key did not make: every accepted one is
//! checked against an HMAC computed here, apart from the code under test.
#![no_main]

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use callkit_core::usersig::{
    decode, encode_tencent_base64, mint, verify, zlib_store, Expected, SigFields,
};
use hmac::{Hmac, Mac};
use libfuzzer_sys::fuzz_target;
use sha2::Sha256;

const KEY: &str = "5bd2850fff3ecb11d7c805251c51ee463a25727bddc2385f3fa8bfee1bb93b5e";
const SDKAPPID: u64 = 1_400_000_000;
const NOW: u64 = 1_700_000_000;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // A first byte below 4 is a mode: a sig is minted from the fuzzed fields
    // in the rest, so the appid, expiry, userbuf and signature checks see
    // sigs that decode. 4: the rest is the JSON document, packed here as
    // a UserSig, `TLS.sig` included. Anything else is a sig as sent.
    let sig = match data.first() {
        Some(&mode) if mode < 4 => minted(mode, &text[1..]),
        Some(4) => packed(text[1..].as_bytes()),
        _ => text.to_owned(),
    };
    if let Ok(decoded) = decode(&sig) {
        // Decoding is deterministic, and a decoded sig keeps its fields.
        assert_eq!(
            decode(&sig).map(|d| d.expires_at()).ok(),
            Some(decoded.expires_at())
        );
    }
    let expected = Expected {
        sdkappid: SDKAPPID,
        identifier: None,
        userbuf: None,
    };
    let Ok(accepted) = verify(&sig, KEY, &expected, NOW) else {
        return;
    };
    // Accepted: anything but this would be an authentication bypass.
    assert_eq!(accepted.sdkappid, SDKAPPID, "another app's sig");
    assert!(
        NOW <= accepted.time.saturating_add(accepted.expire),
        "an expired sig"
    );
    assert!(
        accepted.userbuf.is_none(),
        "a userbuf where none is expected"
    );
    let content = format!(
        "TLS.identifier:{}\nTLS.sdkappid:{}\nTLS.time:{}\nTLS.expire:{}\n",
        accepted.identifier, accepted.sdkappid, accepted.time, accepted.expire
    );
    let mut mac = Hmac::<Sha256>::new_from_slice(KEY.as_bytes()).expect("any key length");
    mac.update(content.as_bytes());
    assert_eq!(
        accepted.sig,
        STANDARD.encode(mac.finalize().into_bytes()),
        "a sig the key did not make"
    );
});

/// `identifier\nsdkappid\ntime\nexpire`, signed with the key or (mode bit 0)
/// another one, with the identifier as userbuf too (bit 1).
fn minted(mode: u8, text: &str) -> String {
    let mut parts = text.split('\n');
    let identifier = parts.next().unwrap_or("");
    let mut number = |default: u64| parts.next().and_then(|p| p.parse().ok()).unwrap_or(default);
    let sdkappid = number(SDKAPPID);
    let time = number(NOW);
    let expire = number(3_600);
    let key = if mode & 1 == 0 { KEY } else { "another key" };
    let userbuf = (mode & 2 != 0).then_some(identifier.as_bytes());
    mint(
        key,
        &SigFields {
            sdkappid,
            identifier,
            time,
            expire,
            userbuf,
        },
    )
}

/// `json` as a UserSig, the way the official Go library packs one.
fn packed(json: &[u8]) -> String {
    encode_tencent_base64(&zlib_store(json))
}
