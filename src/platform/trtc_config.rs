//! The TRTC room and media callback's key (`TRTC_CALLBACK_KEY`): up to 32
//! letters and digits, as TRTC's console allows (docs/trtc-events.md).

use callkit_core::secret::Secret;

use super::settings::{names, optional, ConfigError, Get};

const MAX_KEY_CHARS: usize = 32;

#[derive(Debug, Clone, Default)]
pub struct TrtcConfig {
    /// Unset: `POST /api/v1/webhooks/trtc` answers 503 `misconfigured`.
    pub key: Option<Secret>,
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
        Ok(Self {
            key: key.map(Secret::new),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::settings::from_pairs;

    #[test]
    fn the_key_is_optional_and_checked() {
        assert!(TrtcConfig::from_getter(&from_pairs(&[]))
            .unwrap()
            .key
            .is_none());
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
