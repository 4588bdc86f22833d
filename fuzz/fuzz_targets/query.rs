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
    // The CallId rule, restated: 1-128 of A-Z a-z 0-9 - _ . and nothing else,
    // so a path segment, a query or a log line can never be broken out of.
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    let expected = !text.is_empty() && text.len() <= 128 && text.chars().all(allowed);
    match CallId::parse(text) {
        Ok(id) => {
            assert!(expected, "accepted {text:?}");
            assert_eq!(id.as_str(), text, "a CallId is the text as sent");
        }
        Err(_) => assert!(!expected, "refused {text:?}"),
    }
});
