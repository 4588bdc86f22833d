//! Wall-clock time in the units Tencent uses (seconds for records, ms for webhooks).

use std::time::{SystemTime, UNIX_EPOCH};

pub fn now_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

pub fn now_secs() -> u64 {
    now_millis() / 1000
}
