//! UserSig decode and verify: the bearer token in `usersig` auth mode, so
//! any string a caller sends. Must never panic or allocate without bound.
#![no_main]

use callkit_core::usersig::{decode, verify, Expected};
use libfuzzer_sys::fuzz_target;

const KEY: &str = "5bd2850fff3ecb11d7c805251c51ee463a25727bddc2385f3fa8bfee1bb93b5e";

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(decoded) = decode(text) {
        // Decoding is deterministic, and a decoded sig keeps its fields.
        assert_eq!(decode(text).map(|d| d.expires_at()).ok(), Some(decoded.expires_at()));
    }
    let expected = Expected {
        sdkappid: 1_400_000_000,
        identifier: None,
        userbuf: None,
    };
    let _ = verify(text, KEY, &expected, 1_700_000_000);
});
