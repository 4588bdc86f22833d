//! Reads a fetched body without ever holding more than a cap.

use futures_util::StreamExt;
use js_sys::futures::JsFuture;
use js_sys::Uint8Array;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyError {
    TooLarge { limit: usize },
    Unreadable,
}

/// A declared length past `limit` is refused unread. An uncompressed body
/// with a declared length within it is read with one `arrayBuffer()` (the
/// framing bounds it, and it is far cheaper than a stream reader); anything
/// else, chunked or compressed (a small gzip can inflate to gigabytes), is
/// streamed and dropped at the first byte past `limit`.
pub async fn read_capped(response: web_sys::Response, limit: usize) -> Result<Vec<u8>, BodyError> {
    let headers = response.headers();
    let header = |name| headers.get(name).ok().flatten();
    let declared = header("Content-Length").and_then(|v| v.trim().parse::<u64>().ok());
    let encoded = header("Content-Encoding")
        .is_some_and(|v| !v.trim().eq_ignore_ascii_case("identity"));
    match declared {
        Some(n) if n > limit as u64 => Err(BodyError::TooLarge { limit }),
        Some(_) if !encoded => array_buffer(&response).await,
        _ => stream_capped(response.into(), limit).await,
    }
}

async fn array_buffer(response: &web_sys::Response) -> Result<Vec<u8>, BodyError> {
    let promise = response.array_buffer().map_err(|_| BodyError::Unreadable)?;
    let buffer = JsFuture::from(promise)
        .await
        .map_err(|_| BodyError::Unreadable)?;
    Ok(Uint8Array::new(&buffer).to_vec())
}

async fn stream_capped(mut response: worker::Response, limit: usize) -> Result<Vec<u8>, BodyError> {
    let Ok(mut stream) = response.stream() else {
        // No body at all.
        return Ok(Vec::new());
    };
    let mut body = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| BodyError::Unreadable)?;
        if body.len() + chunk.len() > limit {
            return Err(BodyError::TooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
