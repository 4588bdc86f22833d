//! Small helpers for building hyper responses.

use std::io::Write;

use bytes::Bytes;
use flate2::write::GzEncoder;
use flate2::Compression;
use http_body_util::Full;
use hyper::header::{HeaderValue, CONTENT_ENCODING, CONTENT_TYPE};
use hyper::{Response, StatusCode};

pub type Resp = Response<Full<Bytes>>;

const NGINX_502: &str = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";

fn with_type(status: StatusCode, content_type: &'static str, body: Bytes) -> Resp {
    let mut resp = Response::new(Full::new(body));
    *resp.status_mut() = status;
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    resp
}

pub fn json(status: StatusCode, body: Vec<u8>) -> Resp {
    with_type(status, "application/json", Bytes::from(body))
}

/// How much whitespace an `oversized` fault puts before the answer.
pub const OVERSIZED_PADDING: usize = 2 * 1024 * 1024;

/// `body` after [`OVERSIZED_PADDING`] bytes of JSON whitespace, gzipped on
/// request: a small compressed body that inflates past any sane cap.
pub fn oversized_json(body: &[u8], gzip: bool) -> Resp {
    let mut padded = vec![b' '; OVERSIZED_PADDING];
    padded.extend_from_slice(body);
    if !gzip {
        return json(StatusCode::OK, padded);
    }
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    // Writing into a Vec cannot fail.
    let _ = encoder.write_all(&padded);
    let mut resp = json(StatusCode::OK, encoder.finish().unwrap_or_default());
    resp.headers_mut()
        .insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    resp
}

/// What a proxy in front of the upstream answers when the backend is down.
pub fn html_502() -> Resp {
    with_type(
        StatusCode::BAD_GATEWAY,
        "text/html",
        Bytes::from_static(NGINX_502.as_bytes()),
    )
}
