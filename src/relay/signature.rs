//! The Standard Webhooks symmetric signature (standardwebhooks.com, spec
//! "Signature scheme"): `v1,` + base64(HMAC-SHA256(secret, id.timestamp.body)),
//! with the secret given as `whsec_` + base64 of 24 to 64 random bytes.

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

const PREFIX: &str = "whsec_";
/// The spec: "Random. At least 24 bytes (192 bits, 512 maximum)".
const MIN_SECRET_BYTES: usize = 24;
const MAX_SECRET_BYTES: usize = 64;

/// The decoded key. `Debug` never shows it.
#[derive(Clone)]
pub struct SigningSecret(Vec<u8>);

impl std::fmt::Debug for SigningSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningSecret([REDACTED])")
    }
}

impl SigningSecret {
    /// `whsec_<base64>`; the reason never quotes the value.
    pub fn parse(value: &str) -> Result<Self, &'static str> {
        let encoded = value
            .strip_prefix(PREFIX)
            .ok_or("expected the Standard Webhooks form whsec_<base64>")?;
        let key = STANDARD
            .decode(encoded)
            .or_else(|_| STANDARD_NO_PAD.decode(encoded))
            .map_err(|_| "the part after whsec_ is not base64")?;
        if !(MIN_SECRET_BYTES..=MAX_SECRET_BYTES).contains(&key.len()) {
            return Err("expected 24 to 64 random bytes after whsec_");
        }
        Ok(Self(key))
    }

    /// The `webhook-signature` header's value for one attempt.
    pub fn sign(&self, id: &str, timestamp: u64, body: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reference libraries' shared vector ("sign function works" in
    /// standard-webhooks/libraries/javascript/src/webhook.test.ts, and the
    /// same in the Go, Python and Rust suites): see docs/relay.md.
    #[test]
    fn matches_the_published_example() {
        let secret = SigningSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        assert_eq!(
            secret.sign(
                "msg_p5jXN8AQM9LWM0D4loKWxJek",
                1_614_265_330,
                br#"{"test": 2432232314}"#
            ),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn every_part_is_signed() {
        let secret = SigningSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let base = secret.sign("msg_1", 1, b"{}");
        assert_ne!(base, secret.sign("msg_2", 1, b"{}"));
        assert_ne!(base, secret.sign("msg_1", 2, b"{}"));
        assert_ne!(base, secret.sign("msg_1", 1, b"{ }"));
        let other = SigningSecret::parse("whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA").unwrap();
        assert_ne!(base, other.sign("msg_1", 1, b"{}"));
    }

    #[test]
    fn only_whsec_secrets_of_24_to_64_bytes() {
        assert!(SigningSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").is_ok());
        // 24 bytes, written without padding.
        assert!(
            SigningSecret::parse(&format!("whsec_{}", STANDARD_NO_PAD.encode([7u8; 25]))).is_ok()
        );
        for bad in [
            "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".to_owned(),
            format!("whsec_{}", STANDARD.encode([1u8; 23])),
            format!("whsec_{}", STANDARD.encode([1u8; 65])),
            "whsec_not base64!".to_owned(),
            "whsec_".to_owned(),
        ] {
            assert!(SigningSecret::parse(&bad).is_err(), "{bad}");
        }
        let secret = SigningSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        assert!(!format!("{secret:?}").contains("MfKQ"));
    }
}
