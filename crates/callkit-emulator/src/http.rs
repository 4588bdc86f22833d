//! Small helpers for building hyper responses.

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{HeaderValue, CONTENT_TYPE};
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

/// What a proxy in front of the upstream answers when the backend is down.
pub fn html_502() -> Resp {
    with_type(
        StatusCode::BAD_GATEWAY,
        "text/html",
        Bytes::from_static(NGINX_502.as_bytes()),
    )
}
