//! User accounts are strings, but the start-call webhook sample sends them as
//! JSON numbers (docs/tencent-callkit-v4.md §9.4). Fields that may carry either read through here.

use std::fmt;

use serde::de::{Error, Visitor};
use serde::Deserializer;

/// `#[serde(deserialize_with = "account::string_or_number")]`
pub(crate) fn string_or_number<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<String, D::Error> {
    struct Account;
    impl Visitor<'_> for Account {
        type Value = String;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a user account as a string or an integer")
        }
        fn visit_str<E: Error>(self, v: &str) -> Result<String, E> {
            Ok(v.to_owned())
        }
        fn visit_string<E: Error>(self, v: String) -> Result<String, E> {
            Ok(v)
        }
        fn visit_u64<E: Error>(self, v: u64) -> Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_i64<E: Error>(self, v: i64) -> Result<String, E> {
            Ok(v.to_string())
        }
    }
    deserializer.deserialize_any(Account)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Deserialize)]
    struct Holder(#[serde(deserialize_with = "string_or_number")] String);

    fn read(json: &str) -> Result<String, serde_json::Error> {
        serde_json::from_str::<Holder>(json).map(|h| h.0)
    }

    #[test]
    fn reads_strings_and_integers_exactly() {
        assert_eq!(read(r#""user1""#).unwrap(), "user1");
        // Above 2^53: must not pass through f64.
        assert_eq!(read("144115212830834855").unwrap(), "144115212830834855");
        assert_eq!(read("-7").unwrap(), "-7");
    }

    #[test]
    fn rejects_other_shapes() {
        for bad in ["1.5", "null", "true", "[]", "{}"] {
            assert!(read(bad).is_err(), "{bad}");
        }
    }
}
