//! The TRTC room and media callback's key (`TRTC_CALLBACK_KEY`): up to 32
//! letters and digits, as TRTC's console allows (docs/trtc-events.md).

use std::time::Duration;

use callkit_core::secret::Secret;

use super::settings::{names, optional, within, ConfigError, Get};

const MAX_KEY_CHARS: usize = 32;
const DEFAULT_EMPTY_ROOM_SECS: u64 = 60;

#[derive(Debug, Clone)]
pub struct TrtcConfig {
    /// Unset: `POST /api/v1/webhooks/trtc` answers 503 `misconfigured`.
    pub key: Option<Secret>,
    /// A live call whose room has been empty this long is flagged
    /// `roomEmpty` and checked with Tencent at once (`LIVE_EMPTY_ROOM_SECS`).
    pub empty_room_after: Duration,
}

impl TrtcConfig {
    pub fn from_getter(get: Get<'_>) -> Result<Self, ConfigError> {
        let key = optional(get, names::TRTC_CALLBACK_KEY);
        if let Some(key) = &key {
            if key.len() > MAX_KEY_CHARS || !key.bytes().all(|b| b.is_ascii_alphanumeric()) {
                return Err(ConfigError::invalid(
                    names::TRTC_CALLBACK_KEY,
                    "expected up to 32 letters and digits, as the TRTC console sets it",
                ));
            }
        }
        let empty = within(
            get,
            names::LIVE_EMPTY_ROOM_SECS,
            DEFAULT_EMPTY_ROOM_SECS,
            1..=86_400,
            "seconds",
        )?;
        Ok(Self {
            key: key.map(Secret::new),
            empty_room_after: Duration::from_secs(empty),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::settings::from_pairs;

    #[test]
    fn the_key_is_optional_and_checked() {
        let defaults = TrtcConfig::from_getter(&from_pairs(&[])).unwrap();
        assert!(defaults.key.is_none());
        assert_eq!(defaults.empty_room_after, Duration::from_secs(60));
        let err =
            TrtcConfig::from_getter(&from_pairs(&[("LIVE_EMPTY_ROOM_SECS", "0")])).unwrap_err();
        assert_eq!(err.setting(), "LIVE_EMPTY_ROOM_SECS");
        let c = TrtcConfig::from_getter(&from_pairs(&[("TRTC_CALLBACK_KEY", "123654")])).unwrap();
        assert_eq!(c.key.unwrap().expose(), "123654");
        for bad in ["has space", "punct!", &"k".repeat(33)] {
            let err =
                TrtcConfig::from_getter(&from_pairs(&[("TRTC_CALLBACK_KEY", bad)])).unwrap_err();
            assert_eq!(err.setting(), "TRTC_CALLBACK_KEY");
            assert!(!err.to_string().contains(bad));
        }
    }
}
