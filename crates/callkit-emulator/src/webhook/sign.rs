//! The optional `Sign`/`RequestTime` query pair (TUILiveKit/Chat scheme, docs/tencent-callkit-v4.md §6.7).

use sha2::{Digest, Sha256};
use std::fmt::Write;

/// `sha256(token + request_time)` as lower-case hex. A plain hash, not an HMAC.
pub fn sign(token: &str, request_time: u64) -> String {
    let digest = Sha256::new()
        .chain_update(token.as_bytes())
        .chain_update(request_time.to_string().as_bytes())
        .finalize();
    let mut hex = String::with_capacity(64);
    for byte in digest {
        // Writing to a String cannot fail.
        let _ = write!(hex, "{byte:02x}");
    }
    hex
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_published_example() {
        assert_eq!(
            sign("xxxxyyyy", 1669872112),
            "17773bc39a671d7b9aa835458704d2a6db81360a5940292b587d6d760d484061"
        );
    }
}
