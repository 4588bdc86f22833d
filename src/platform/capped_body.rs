//! Reading a fetched body with a hard size cap: a declared `Content-Length`
//! over the cap is refused before reading, and a streamed body is abandoned
//! at the first chunk that goes past it, so memory stays bounded whatever
//! the server sends.

use futures_util::{Stream, StreamExt};
use js_sys::futures::JsFuture;
use js_sys::Uint8Array;

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

/// The body of `response`, at most `cap` bytes. An uncompressed body whose
/// length is declared (and within the cap) is read with one `arrayBuffer()`:
/// the framing bounds it, and it costs far less than a stream reader.
/// Anything else, chunked or compressed (a small gzip can inflate to
/// gigabytes), is streamed and dropped at the first byte past the cap.
pub async fn read_capped(response: web_sys::Response, cap: usize) -> Result<Vec<u8>, BodyError> {
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
    match worker::Response::from(response).stream() {
        Ok(stream) => read_stream_capped(stream, cap).await,
        // No body at all.
        Err(_) => Ok(Vec::new()),
    }
}

async fn array_buffer(response: &web_sys::Response) -> Result<Vec<u8>, BodyError> {
    let promise = response.array_buffer().map_err(|_| BodyError::Unreadable)?;
    let buffer = JsFuture::from(promise)
        .await
        .map_err(|_| BodyError::Unreadable)?;
    Ok(Uint8Array::new(&buffer).to_vec())
}

/// Collects `stream` into at most `cap` bytes; stops reading past it.
pub async fn read_stream_capped<S, E>(mut stream: S, cap: usize) -> Result<Vec<u8>, BodyError>
where
    S: Stream<Item = Result<Vec<u8>, E>> + Unpin,
{
    let mut body = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| BodyError::Unreadable)?;
        if body.len() + chunk.len() > cap {
            return Err(BodyError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use futures::executor::block_on;
    use futures::stream;

    use super::*;

    #[test]
    fn content_length_is_checked_first() {
        assert!(declared_over(Some("65537"), 65_536));
        assert!(declared_over(Some(" 99999999999999999999 "), 65_536));
        assert!(!declared_over(Some("65536"), 65_536));
        assert!(!declared_over(Some("nonsense"), 65_536));
        assert!(!declared_over(None, 65_536));
    }

    #[test]
    fn stops_reading_at_the_first_byte_past_the_cap() {
        let pulled = Cell::new(0);
        let chunks = stream::iter((0..100).map(|_| {
            pulled.set(pulled.get() + 1);
            Ok::<_, ()>(vec![b'x'; 1000])
        }));
        assert_eq!(
            block_on(read_stream_capped(chunks, 2_500)),
            Err(BodyError::TooLarge)
        );
        assert_eq!(
            pulled.get(),
            3,
            "no chunk read after the one that overflowed"
        );
        let exact = stream::iter([Ok::<_, ()>(vec![1; 2_000]), Ok(vec![2; 500])]);
        assert_eq!(
            block_on(read_stream_capped(exact, 2_500)).unwrap().len(),
            2_500
        );
        let broken = stream::iter([Ok(vec![1]), Err(())]);
        assert_eq!(
            block_on(read_stream_capped(broken, 10)),
            Err(BodyError::Unreadable)
        );
    }
}
