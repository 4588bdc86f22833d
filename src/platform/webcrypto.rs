//! `SignatureVerifier` over the runtime's WebCrypto (`crypto.subtle`):
//! RS256 and ES256 cost no wasm, where RustCrypto's RSA and P-256 code cost
//! about 200 KB gzip. Keys are imported once, from JWK members already
//! checked by the auth layer, and kept as `CryptoKey`s with the key entry.

use js_sys::futures::JsFuture;
use js_sys::{Array, Function, Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};

use crate::api::auth::config::JwtAlg;
use crate::api::auth::{PublicKey, SignatureVerifier};

#[derive(Debug, Default, Clone, Copy)]
pub struct WebCrypto;

impl SignatureVerifier for WebCrypto {
    /// A `CryptoKey`.
    type Key = JsValue;

    async fn import_key(&self, key: &PublicKey, alg: JwtAlg) -> Option<JsValue> {
        // Only the key material: `alg`, `use` and `key_ops` were checked
        // already, and passing them on could only make the import fail.
        let jwk = match key {
            PublicKey::Rsa { n, e } => {
                object(&[("kty", "RSA"), ("n", n.as_str()), ("e", e.as_str())])
            }
            PublicKey::P256 { x, y } => object(&[
                ("kty", "EC"),
                ("crv", "P-256"),
                ("x", x.as_str()),
                ("y", y.as_str()),
            ]),
        }?;
        let algorithm = match alg {
            JwtAlg::Rs256 => object(&[("name", "RSASSA-PKCS1-v1_5"), ("hash", "SHA-256")]),
            JwtAlg::Es256 => object(&[("name", "ECDSA"), ("namedCurve", "P-256")]),
            JwtAlg::Hs256 => return None,
        }?;
        let usages = Array::of1(&"verify".into());
        let args = [
            "jwk".into(),
            jwk.into(),
            algorithm.into(),
            JsValue::FALSE,
            usages.into(),
        ];
        call_subtle("importKey", &args).await
    }

    async fn verify(&self, key: &JsValue, alg: JwtAlg, message: &[u8], signature: &[u8]) -> bool {
        let algorithm = match alg {
            JwtAlg::Rs256 => object(&[("name", "RSASSA-PKCS1-v1_5")]),
            JwtAlg::Es256 => object(&[("name", "ECDSA"), ("hash", "SHA-256")]),
            JwtAlg::Hs256 => return false,
        };
        let Some(algorithm) = algorithm else {
            return false;
        };
        let args = [
            algorithm.into(),
            key.clone(),
            Uint8Array::from(signature).into(),
            Uint8Array::from(message).into(),
        ];
        call_subtle("verify", &args).await.and_then(|v| v.as_bool()) == Some(true)
    }
}

/// `crypto.subtle[method](...args)`, awaited; `None` on any failure (a
/// missing API, a refused key, a rejected promise), which callers treat as
/// "does not verify".
async fn call_subtle(method: &str, args: &[JsValue]) -> Option<JsValue> {
    let crypto = Reflect::get(&js_sys::global(), &"crypto".into()).ok()?;
    let subtle = Reflect::get(&crypto, &"subtle".into()).ok()?;
    let function: Function = Reflect::get(&subtle, &method.into())
        .ok()?
        .dyn_into()
        .ok()?;
    let args: Array = args.iter().collect();
    let promise: Promise = function.apply(&subtle, &args).ok()?.dyn_into().ok()?;
    JsFuture::from(promise).await.ok()
}

fn object(fields: &[(&str, &str)]) -> Option<Object> {
    let object = Object::new();
    for (name, value) in fields {
        Reflect::set(&object, &(*name).into(), &(*value).into()).ok()?;
    }
    Some(object)
}
