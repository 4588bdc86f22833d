//! The route table: any method and path resolve to a route, 405 or 404,
//! exactly as a plain reading of the table says: a path matches a route's
//! pattern segment by segment (a `{param}` takes one non-empty segment, and
//! only `{callId}` is handed on), a literal segment wins over a parameter
//! (`/history/backfill` is not the call "backfill"), HEAD may only reach a
//! GET route, and nothing else is ever served.
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
    // The table read plainly: the routes whose pattern matches, the most
    // literal pattern among them, then the one for this method (HEAD is
    // GET), else 405 with their methods, else 404.
    let all: Vec<(&Spec, Option<&str>)> = TABLE
        .iter()
        .filter_map(|r| matches(r.path, path).map(|id| (r, id)))
        .collect();
    let best = all.iter().map(|(r, _)| params_at(r.path)).min();
    let matching: Vec<_> = all
        .into_iter()
        .filter(|(r, _)| Some(params_at(r.path)) == best)
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

/// Which segments of a pattern are parameters: the smallest is the most literal.
fn params_at(pattern: &str) -> Vec<bool> {
    pattern.split('/').map(|w| w.starts_with('{')).collect()
}

/// Whether `path` matches `pattern`; the `{callId}` segment when it does.
fn matches<'a>(pattern: &str, path: &'a str) -> Option<Option<&'a str>> {
    let (want, got): (Vec<&str>, Vec<&str>) =
        (pattern.split('/').collect(), path.split('/').collect());
    if want.len() != got.len() {
        return None;
    }
    let mut id = None;
    for (w, g) in want.iter().zip(&got) {
        if w.starts_with('{') && !g.is_empty() {
            id = (*w == "{callId}").then_some(*g).or(id);
        } else if w != g {
            return None;
        }
    }
    Some(id)
}
