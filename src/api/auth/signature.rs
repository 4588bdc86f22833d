//! The RS256/ES256 signature check, behind a trait so the auth layer stays
//! platform-free: the Worker implements it with WebCrypto (`crypto.subtle`),
//! which costs no wasm, and native tests with RustCrypto.

use super::config::JwtAlg;

/// A public key from the JWKS, already checked for the pinned algorithm:
/// RSA with a modulus of at least 2048 bits, or an EC P-256 point. Values are
/// the JWK's base64url members, as WebCrypto's JWK import takes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublicKey {
    Rsa { n: String, e: String },
    P256 { x: String, y: String },
}

#[allow(async_fn_in_trait)] // single-threaded Worker: no Send bound wanted
pub trait SignatureVerifier {
    /// An imported key, kept with the key entry so each key is imported once.
    type Key: Clone;

    /// `None` when the platform refuses the key; the entry is then skipped.
    async fn import_key(&self, key: &PublicKey, alg: JwtAlg) -> Option<Self::Key>;

    /// RSASSA-PKCS1-v1_5 with SHA-256 (RS256), or ECDSA P-256 with SHA-256
    /// over a raw 64-byte `r ‖ s` signature (ES256).
    async fn verify(&self, key: &Self::Key, alg: JwtAlg, message: &[u8], signature: &[u8]) -> bool;
}

/// For modes without JWKS keys (UserSig, HS256): imports nothing, verifies nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoSignatures;

impl SignatureVerifier for NoSignatures {
    type Key = ();

    async fn import_key(&self, _: &PublicKey, _: JwtAlg) -> Option<()> {
        None
    }

    async fn verify(&self, _: &(), _: JwtAlg, _: &[u8], _: &[u8]) -> bool {
        false
    }
}

/// Real RustCrypto verification (through `jsonwebtoken`, a dev-dependency)
/// for native tests of everything above the platform.
#[cfg(test)]
pub mod rust_crypto {
    use jsonwebtoken::{Algorithm, DecodingKey};

    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;

    #[derive(Debug, Clone, Copy, Default)]
    pub struct RustCrypto;

    impl SignatureVerifier for RustCrypto {
        type Key = DecodingKey;

        async fn import_key(&self, key: &PublicKey, _: JwtAlg) -> Option<DecodingKey> {
            match key {
                PublicKey::Rsa { n, e } => DecodingKey::from_rsa_components(n, e).ok(),
                PublicKey::P256 { x, y } => DecodingKey::from_ec_components(x, y).ok(),
            }
        }

        async fn verify(&self, key: &DecodingKey, alg: JwtAlg, message: &[u8], sig: &[u8]) -> bool {
            let alg = match alg {
                JwtAlg::Rs256 => Algorithm::RS256,
                JwtAlg::Es256 => Algorithm::ES256,
                JwtAlg::Hs256 => return false,
            };
            let sig = URL_SAFE_NO_PAD.encode(sig);
            jsonwebtoken::crypto::verify(&sig, message, key, alg).unwrap_or(false)
        }
    }
}
