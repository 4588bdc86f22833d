//! Reads a fetched body without ever holding more than a cap.

use futures_util::StreamExt;
use worker::Response;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyError {
    TooLarge { limit: usize },
    Unreadable,
}

/// A declared length past `limit` is refused unread. An uncompressed body
/// with a declared length within it is read in one call (the framing bounds
/// it); anything else, chunked or compressed (a small gzip can inflate to
/// gigabytes), is streamed and dropped at the first byte past `limit`.
pub async fn read_capped(response: &mut Response, limit: usize) -> Result<Vec<u8>, BodyError> {
    let headers = response.headers();
    let declared = headers
        .get("Content-Length")
        .ok()
        .flatten()
        .and_then(|v| v.trim().parse::<u64>().ok());
    let encoded = headers
        .get("Content-Encoding")
        .ok()
        .flatten()
        .is_some_and(|v| !v.trim().eq_ignore_ascii_case("identity"));
    match declared {
        Some(n) if n > limit as u64 => Err(BodyError::TooLarge { limit }),
        Some(_) if !encoded => response.bytes().await.map_err(|_| BodyError::Unreadable),
        _ => stream_capped(response, limit).await,
    }
}

async fn stream_capped(response: &mut Response, limit: usize) -> Result<Vec<u8>, BodyError> {
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
