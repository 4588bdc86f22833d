//! The route table: any method and path resolve to a route, 405 or 404,
//! exactly as a plain reading of the table says: a path matches a route's
//! pattern segment by segment (`{callId}` takes one non-empty segment), HEAD
//! may only reach a GET route, and nothing else is ever served.
#![no_main]

use callkit_edge::api::actions::{Method, Spec, TABLE};
use callkit_edge::api::router::{Resolved, Router};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // "METHOD\npath", or just a path for GET.
    let (method, path) = text.split_once('\n').unwrap_or(("GET", text));
    // The table read plainly: the routes whose pattern matches, then the one
    // for this method (HEAD is GET), else 405 with their methods, else 404.
    let matching: Vec<(&Spec, Option<&str>)> = TABLE
        .iter()
        .filter_map(|r| matches(r.path, path).map(|id| (r, id)))
        .collect();
    let wanted = match method {
        "GET" | "HEAD" => Some(Method::Get),
        "POST" => Some(Method::Post),
        "PUT" => Some(Method::Put),
        "DELETE" => Some(Method::Delete),
        _ => None,
    };
    let expected = match matching.iter().find(|(r, _)| Some(r.method) == wanted) {
        Some((route, id)) => Resolved::Found {
            action: route.action,
            call_id: id.map(str::to_owned),
        },
        None if matching.is_empty() => Resolved::NotFound,
        None => Resolved::MethodNotAllowed {
            allow: matching.iter().map(|(r, _)| r.method).collect(),
        },
    };
    assert_eq!(
        Router::new().resolve(method, path),
        expected,
        "{method} {path:?}"
    );
});

/// Whether `path` matches `pattern`; the `{callId}` segment when it does.
fn matches<'a>(pattern: &str, path: &'a str) -> Option<Option<&'a str>> {
    let (want, got): (Vec<&str>, Vec<&str>) =
        (pattern.split('/').collect(), path.split('/').collect());
    if want.len() != got.len() {
        return None;
    }
    let mut id = None;
    for (w, g) in want.iter().zip(&got) {
        if *w == "{callId}" && !g.is_empty() {
            id = Some(*g);
        } else if w != g {
            return None;
        }
    }
    Some(id)
}
