//! The route table: any method and path resolve to a route, 405 or 404.
#![no_main]

use callkit_edge::api::actions::TABLE;
use callkit_edge::api::router::{Resolved, Router};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // "METHOD\npath", or just a path for GET.
    let (method, path) = text.split_once('\n').unwrap_or(("GET", text));
    let router = Router::new();
    match router.resolve(method, path) {
        // Only a declared method of a declared route is ever served.
        Resolved::Found { action, .. } => assert!(TABLE
            .iter()
            .any(|r| r.action == action && (r.method.as_str() == method || method == "HEAD"))),
        Resolved::MethodNotAllowed { allow } => assert!(!allow.is_empty()),
        Resolved::NotFound => {}
    }
});
