//! The Workers rate-limit binding, called directly: `worker`'s wrapper
//! checks the binding's class name and converts both ways through serde on
//! every call, on the path of every signed-in request.

use js_sys::futures::JsFuture;
use js_sys::{Object, Promise, Reflect};
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};
use worker::Env;

#[wasm_bindgen]
extern "C" {
    type RateLimitBinding;

    #[wasm_bindgen(method, catch)]
    fn limit(this: &RateLimitBinding, options: &Object) -> Result<Promise, JsValue>;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateLimitError {
    /// No such binding: the deployment lacks `[[ratelimits]]`.
    Missing,
    /// The binding failed or answered something else than `{ success }`.
    Failed,
}

/// Whether `key` may go on (`false`: over its limit).
pub async fn allow(env: &Env, binding: &str, key: &str) -> Result<bool, RateLimitError> {
    let binding = Reflect::get(env, &JsValue::from_str(binding))
        .ok()
        .filter(JsValue::is_object)
        .ok_or(RateLimitError::Missing)?;
    let options = Object::new();
    Reflect::set(&options, &JsValue::from_str("key"), &JsValue::from_str(key))
        .map_err(|_| RateLimitError::Failed)?;
    let promise = binding
        .unchecked_ref::<RateLimitBinding>()
        .limit(&options)
        .map_err(|_| RateLimitError::Failed)?;
    let outcome = JsFuture::from(promise)
        .await
        .map_err(|_| RateLimitError::Failed)?;
    Reflect::get(&outcome, &JsValue::from_str("success"))
        .ok()
        .and_then(|success| success.as_bool())
        .ok_or(RateLimitError::Failed)
}
