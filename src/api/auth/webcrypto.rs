//! `SignatureVerifier` over the platform's WebCrypto. Keys are imported
//! once, from JWK members already checked by this layer, and kept as
//! `CryptoKey`s with the key entry.

use wasm_bindgen::JsValue;

use super::config::JwtAlg;
use super::{PublicKey, SignatureVerifier};
use crate::platform::webcrypto;

#[derive(Debug, Default, Clone, Copy)]
pub struct WebCrypto;

impl SignatureVerifier for WebCrypto {
    /// A `CryptoKey`.
    type Key = JsValue;

    async fn import_key(&self, key: &PublicKey, alg: JwtAlg) -> Option<JsValue> {
        // Only the key material: `alg`, `use` and `key_ops` were checked
        // already, and passing them on could only make the import fail.
        let algorithm: &[(&str, &str)] = match alg {
            JwtAlg::Rs256 => &[("name", "RSASSA-PKCS1-v1_5"), ("hash", "SHA-256")],
            JwtAlg::Es256 => &[("name", "ECDSA"), ("namedCurve", "P-256")],
            JwtAlg::Hs256 => return None,
        };
        match key {
            PublicKey::Rsa { n, e } => {
                let jwk = [("kty", "RSA"), ("n", n.as_str()), ("e", e.as_str())];
                webcrypto::import_verify_key(&jwk, algorithm).await
            }
            PublicKey::P256 { x, y } => {
                let jwk = [
                    ("kty", "EC"),
                    ("crv", "P-256"),
                    ("x", x.as_str()),
                    ("y", y.as_str()),
                ];
                webcrypto::import_verify_key(&jwk, algorithm).await
            }
        }
    }

    async fn verify(&self, key: &JsValue, alg: JwtAlg, message: &[u8], signature: &[u8]) -> bool {
        let algorithm: &[(&str, &str)] = match alg {
            JwtAlg::Rs256 => &[("name", "RSASSA-PKCS1-v1_5")],
            JwtAlg::Es256 => &[("name", "ECDSA"), ("hash", "SHA-256")],
            JwtAlg::Hs256 => return false,
        };
        webcrypto::verify(algorithm, key, message, signature).await
    }
}
