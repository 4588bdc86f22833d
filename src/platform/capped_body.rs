//! Reading a body, a request's or a fetched response's, with a hard size
//! cap: a declared `Content-Length` over the cap is refused before reading,
//! and a streamed body is cancelled at the first chunk that goes past it, so
//! memory stays bounded whatever the other side sends.

use js_sys::futures::JsFuture;
use js_sys::{Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{ReadableStream, ReadableStreamDefaultReader};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyError {
    /// Declared or streamed past the cap.
    TooLarge,
    /// The body could not be read.
    Unreadable,
}

/// Whether a `Content-Length` value announces more than `cap` bytes (a
/// number too large for u64 does too). A value that is not a number
/// announces nothing; the streamed cap still applies.
pub fn declared_over(content_length: Option<&str>, cap: usize) -> bool {
    let Some(value) = content_length.map(str::trim) else {
        return false;
    };
    let is_number = !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit());
    is_number && value.parse::<u64>().map_or(true, |n| n > cap as u64)
}

/// The body of a fetched `response`, at most `cap` bytes. An uncompressed
/// body whose length is declared (and within the cap) is read with one
/// `arrayBuffer()`: the framing bounds it, and it costs far less than a
/// stream reader. Anything else, chunked or compressed (a small gzip can
/// inflate to gigabytes), is streamed and cancelled past the cap.
pub async fn read_response(response: web_sys::Response, cap: usize) -> Result<Vec<u8>, BodyError> {
    let headers = response.headers();
    let header = |name| headers.get(name).ok().flatten();
    let length = header("Content-Length");
    if declared_over(length.as_deref(), cap) {
        return Err(BodyError::TooLarge);
    }
    let declared = length.is_some_and(|v| v.trim().parse::<u64>().is_ok());
    let encoded =
        header("Content-Encoding").is_some_and(|v| !v.trim().eq_ignore_ascii_case("identity"));
    if declared && !encoded {
        return array_buffer(&response).await;
    }
    read_stream(response.body(), cap).await
}

/// The body of an incoming request, at most `cap` bytes: with a declared
/// length in one `arrayBuffer()` (the runtime holds the body to it; incoming
/// bodies are never decompressed), else streamed and cancelled past the cap.
pub async fn read_request(request: &web_sys::Request, cap: usize) -> Result<Vec<u8>, BodyError> {
    let length = request.headers().get("Content-Length").ok().flatten();
    if declared_over(length.as_deref(), cap) {
        return Err(BodyError::TooLarge);
    }
    if length.is_some_and(|v| v.trim().parse::<u64>().is_ok()) {
        return buffered(request.array_buffer()).await;
    }
    read_stream(request.body(), cap).await
}

async fn array_buffer(response: &web_sys::Response) -> Result<Vec<u8>, BodyError> {
    buffered(response.array_buffer()).await
}

async fn buffered(promise: Result<js_sys::Promise, JsValue>) -> Result<Vec<u8>, BodyError> {
    let promise = promise.map_err(|_| BodyError::Unreadable)?;
    let buffer = JsFuture::from(promise)
        .await
        .map_err(|_| BodyError::Unreadable)?;
    Ok(Uint8Array::new(&buffer).to_vec())
}

/// The whole stream (none: an empty body), or `TooLarge` at the first chunk
/// that passes `cap`. The rest is not read: the stream is cancelled, which
/// tells the runtime nobody wants it. (Merely releasing the reader leaves an
/// upload hanging: under wrangler dev the connection then stalls until the
/// client gives up.)
pub async fn read_stream(stream: Option<ReadableStream>, cap: usize) -> Result<Vec<u8>, BodyError> {
    let Some(stream) = stream else {
        return Ok(Vec::new());
    };
    let reader: ReadableStreamDefaultReader = stream.get_reader().unchecked_into();
    let result = read_until(&reader, cap).await;
    if result == Err(BodyError::TooLarge) {
        // Settles at once; a rejection only means the stream already closed.
        let _ = JsFuture::from(reader.cancel()).await;
    }
    reader.release_lock();
    result
}

async fn read_until(
    reader: &ReadableStreamDefaultReader,
    cap: usize,
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
        if start + len > cap {
            return Err(BodyError::TooLarge);
        }
        body.resize(start + len, 0);
        chunk.copy_to(&mut body[start..]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_length_is_checked_first() {
        assert!(declared_over(Some("65537"), 65_536));
        assert!(declared_over(Some(" 99999999999999999999 "), 65_536));
        assert!(!declared_over(Some("65536"), 65_536));
        assert!(!declared_over(Some("nonsense"), 65_536));
        assert!(!declared_over(None, 65_536));
    }
}
