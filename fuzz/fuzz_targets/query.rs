//! Query and path validation: the record filter and CallIds.
#![no_main]

use callkit_edge::api::validate::{record_filter, CallId, MAX_PER_PAGE, RECORD_WINDOW_SECS};
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
        // Times are clamped to Tencent's 7-day window; an empty range
        // (start after end) is answered without Tencent.
        assert!(f.start >= NOW - RECORD_WINDOW_SECS && f.end <= NOW);
        assert_eq!(f.is_empty(), f.start > f.end);
        assert!(f.page >= 1 && (1..=MAX_PER_PAGE).contains(&f.per_page));
    }
    if let Ok(id) = CallId::parse(text).map(|id| id.as_str().to_owned()) {
        assert!(!id.is_empty() && id.len() <= 128);
    }
});
