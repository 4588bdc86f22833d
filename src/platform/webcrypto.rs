//! The runtime's WebCrypto (`crypto.subtle`): RS256 and ES256 verification
//! cost no wasm this way, where RustCrypto's RSA and P-256 code cost about
//! 200 KB gzip. Platform-level calls only; which JWK members and algorithm
//! dictionaries to pass is the auth layer's business.

use js_sys::futures::JsFuture;
use js_sys::{Array, Function, Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};

/// A JS dictionary of string members, e.g. `{name: "ECDSA", hash: "SHA-256"}`.
pub type Dict<'a> = &'a [(&'a str, &'a str)];

/// `crypto.subtle.importKey("jwk", jwk, algorithm, false, ["verify"])`: a
/// `CryptoKey`, or `None` when the runtime refuses the key.
pub async fn import_verify_key(jwk: Dict<'_>, algorithm: Dict<'_>) -> Option<JsValue> {
    let usages = Array::of1(&"verify".into());
    let args = [
        "jwk".into(),
        object(jwk)?.into(),
        object(algorithm)?.into(),
        JsValue::FALSE,
        usages.into(),
    ];
    call_subtle("importKey", &args).await
}

/// `crypto.subtle.verify(algorithm, key, signature, message)`; false on any failure.
pub async fn verify(algorithm: Dict<'_>, key: &JsValue, message: &[u8], signature: &[u8]) -> bool {
    let Some(algorithm) = object(algorithm) else {
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

fn object(fields: Dict<'_>) -> Option<Object> {
    let object = Object::new();
    for (name, value) in fields {
        Reflect::set(&object, &(*name).into(), &(*value).into()).ok()?;
    }
    Some(object)
}
