//! A request body read up to a limit, and not one chunk further.

use worker::js_sys::{Reflect, Uint8Array};
use worker::wasm_bindgen::{JsCast, JsValue};
use worker::wasm_bindgen_futures::JsFuture;
use worker::web_sys::ReadableStreamDefaultReader;
use worker::Request;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyError {
    /// More than the limit arrived; reading stopped there.
    TooLarge,
    /// The stream failed or yielded something that is not bytes.
    Unreadable,
}

/// The whole body, or `TooLarge` at the first chunk that passes `limit`.
/// The rest is not read: the body is cancelled, which tells the runtime
/// nobody wants it. (Merely releasing the reader leaves the upload hanging:
/// under wrangler dev the connection then stalls until the client gives up.)
pub async fn read_capped(req: &Request, limit: usize) -> Result<Vec<u8>, BodyError> {
    let Some(stream) = req.inner().body() else {
        return Ok(Vec::new());
    };
    let reader: ReadableStreamDefaultReader = stream.get_reader().unchecked_into();
    let result = read_until(&reader, limit).await;
    if result == Err(BodyError::TooLarge) {
        // Settles at once; a rejection only means the stream already closed.
        let _ = JsFuture::from(reader.cancel()).await;
    }
    reader.release_lock();
    result
}

async fn read_until(
    reader: &ReadableStreamDefaultReader,
    limit: usize,
) -> Result<Vec<u8>, BodyError> {
    let mut body = Vec::new();
    loop {
        let step = JsFuture::from(reader.read())
            .await
            .map_err(|_| BodyError::Unreadable)?;
        let field = |name: &str| {
            Reflect::get(&step, &JsValue::from_str(name)).map_err(|_| BodyError::Unreadable)
        };
        if field("done")?.as_bool().unwrap_or(true) {
            return Ok(body);
        }
        let chunk: Uint8Array = field("value")?
            .dyn_into()
            .map_err(|_| BodyError::Unreadable)?;
        let (start, len) = (body.len(), chunk.length() as usize);
        if start + len > limit {
            return Err(BodyError::TooLarge);
        }
        body.resize(start + len, 0);
        chunk.copy_to(&mut body[start..]);
    }
}
