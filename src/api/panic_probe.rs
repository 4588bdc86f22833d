//! A deliberate panic, for the one test that proves a panic in a handler
//! leaves the isolate serving (tests/integration/panic-recovery.test.mjs).
//! Off unless the setting `PANIC_PROBE` is exactly `on`, which no
//! configuration the repo ships sets; then `GET /api/v1/health` with the
//! header `X-Panic-Probe` panics. The setting is read once per isolate, so
//! health pays no boundary call for it when it is off.

use std::cell::RefCell;

use super::Incoming;
use crate::platform::config::names;

pub const HEADER: &str = "X-Panic-Probe";

thread_local! {
    static ENABLED: RefCell<Option<bool>> = const { RefCell::new(None) };
}

/// Panics when the probe is on and the request asks for it. The panic comes
/// while per-isolate state is borrowed, like one in the middle of updating a
/// cache: with `panic = "abort"` nothing unwinds, so only a fresh wasm
/// instance can serve health again.
pub fn check(request: &Incoming<'_>) {
    ENABLED.with_borrow_mut(|enabled| {
        let on = *enabled.get_or_insert_with(|| {
            request
                .env
                .var(names::PANIC_PROBE)
                .is_ok_and(|v| v.to_string() == "on")
        });
        if on && request.header(HEADER).is_some() {
            panic!(
                "panic probe: {HEADER} on a request while {} is on",
                names::PANIC_PROBE
            );
        }
    });
}
