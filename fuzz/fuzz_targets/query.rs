//! Query and path validation: the record filter and CallIds.
#![no_main]

use callkit_edge::api::validate::{record_filter, CallId, MAX_PER_PAGE};
use libfuzzer_sys::fuzz_target;

const NOW: u64 = 1_800_000_000;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let pairs: Vec<(String, String)> = text
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (k.to_owned(), v.to_owned())
        })
        .collect();
    if let Ok(f) = record_filter(&pairs, NOW) {
        // What passes is what the OpenAPI document promises Tencent gets.
        assert!(f.start <= f.end && f.page >= 1);
        assert!((1..=MAX_PER_PAGE).contains(&f.per_page));
    }
    if let Ok(id) = CallId::parse(text).map(|id| id.as_str().to_owned()) {
        assert!(!id.is_empty() && id.len() <= 128);
    }
});
