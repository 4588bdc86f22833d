//! Identifiers the server makes up: RequestIds and CallIds.

use std::sync::atomic::{AtomicU64, Ordering};

/// Hands out `Id-<32 lowercase hex>-O-Seq-<n>`, the documented RequestId shape.
#[derive(Debug)]
pub struct RequestIds {
    seq: AtomicU64,
}

impl Default for RequestIds {
    fn default() -> Self {
        Self::new()
    }
}

impl RequestIds {
    pub fn new() -> Self {
        Self {
            seq: AtomicU64::new(1),
        }
    }

    pub fn next(&self) -> String {
        let seq = self.seq.fetch_add(1, Ordering::Relaxed);
        format!("Id-{:032x}-O-Seq-{seq}", fastrand::u128(..))
    }
}

/// A fresh CallId in UUID v4 form, like the samples.
pub fn new_call_id() -> String {
    uuid::Builder::from_random_bytes(fastrand::u128(..).to_le_bytes())
        .into_uuid()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_request_id(s: &str) -> bool {
        let Some(rest) = s.strip_prefix("Id-") else {
            return false;
        };
        let Some((hex, seq)) = rest.split_once("-O-Seq-") else {
            return false;
        };
        hex.len() == 32
            && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
            && !seq.is_empty()
            && seq.bytes().all(|b| b.is_ascii_digit())
    }

    #[test]
    fn request_ids_have_the_documented_shape_and_count_up() {
        let ids = RequestIds::new();
        let a = ids.next();
        let b = ids.next();
        assert!(is_request_id(&a), "{a}");
        assert!(is_request_id(&b), "{b}");
        assert!(
            a.ends_with("-O-Seq-1") && b.ends_with("-O-Seq-2"),
            "{a} {b}"
        );
        assert_ne!(a[3..35], b[3..35]);
        assert!(is_request_id(
            "Id-431454f25a44462d8155bdff4fed38cc-O-Seq-19029769"
        ));
    }

    #[test]
    fn call_ids_are_uuid_v4() {
        let id = new_call_id();
        let parsed = uuid::Uuid::parse_str(&id).expect("uuid");
        assert_eq!(parsed.get_version_num(), 4);
        assert_eq!(id, id.to_lowercase());
        assert_ne!(id, new_call_id());
    }
}
