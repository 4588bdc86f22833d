//! Settings of the webhook relay: where every accepted event goes on to
//! (`WEBHOOK_FORWARD_URLS`) and the Standard Webhooks secret it is signed
//! with (`WEBHOOK_FORWARD_SECRET`). Both unset: the relay is off.

use callkit_core::credential_url;

use super::settings::{names, optional, ConfigError, Get};
use crate::relay::signature::SigningSecret;

/// Tencent allows one callback per app; five backends behind it is plenty,
/// and bounds the fan-out of each event.
pub const MAX_FORWARD_URLS: usize = 5;

#[derive(Debug, Clone, Default)]
pub struct RelayConfig {
    /// Empty when the relay is off.
    pub urls: Vec<String>,
    pub secret: Option<SigningSecret>,
}

impl RelayConfig {
    pub fn from_getter(get: Get<'_>) -> Result<Self, ConfigError> {
        let urls = urls(get)?;
        let secret = optional(get, names::WEBHOOK_FORWARD_SECRET)
            .map(|s| {
                SigningSecret::parse(&s)
                    .map_err(|reason| ConfigError::invalid(names::WEBHOOK_FORWARD_SECRET, reason))
            })
            .transpose()?;
        match (urls.is_empty(), secret.is_some()) {
            (false, false) => Err(ConfigError::Missing(names::WEBHOOK_FORWARD_SECRET)),
            (true, true) => Err(ConfigError::Missing(names::WEBHOOK_FORWARD_URLS)),
            _ => Ok(Self { urls, secret }),
        }
    }

    /// Both settings are given.
    pub fn is_on(&self) -> bool {
        self.secret.is_some() && !self.urls.is_empty()
    }

    /// The URL's position among the configured ones, if it still is one.
    pub fn position(&self, url: &str) -> Option<usize> {
        self.urls.iter().position(|u| u == url)
    }
}

/// Comma- or whitespace-separated; each one `https://`, or `http://` to
/// this machine, with no query (it could carry a credential into the log).
fn urls(get: Get<'_>) -> Result<Vec<String>, ConfigError> {
    let name = names::WEBHOOK_FORWARD_URLS;
    let Some(value) = optional(get, name) else {
        return Ok(Vec::new());
    };
    let mut urls: Vec<String> = Vec::new();
    for url in value
        .split([',', ' ', '\n', '\t'])
        .filter(|u| !u.is_empty())
    {
        credential_url::check(url, false)
            .map_err(|refused| ConfigError::invalid(name, format!("each URL {refused}")))?;
        if !urls.iter().any(|u| u == url) {
            urls.push(url.to_owned());
        }
    }
    if urls.len() > MAX_FORWARD_URLS {
        return Err(ConfigError::invalid(
            name,
            format!("at most {MAX_FORWARD_URLS} URLs"),
        ));
    }
    Ok(urls)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::settings::from_pairs;

    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

    fn parse(pairs: &[(&str, &str)]) -> Result<RelayConfig, ConfigError> {
        RelayConfig::from_getter(&from_pairs(pairs))
    }

    #[test]
    fn off_by_default_and_on_with_both() {
        assert!(!parse(&[]).unwrap().is_on());
        let c = parse(&[
            (
                "WEBHOOK_FORWARD_URLS",
                "https://a.example/hook, http://127.0.0.1:9/x https://a.example/hook",
            ),
            ("WEBHOOK_FORWARD_SECRET", SECRET),
        ])
        .unwrap();
        assert!(c.is_on());
        assert_eq!(c.urls, ["https://a.example/hook", "http://127.0.0.1:9/x"]);
        assert_eq!(c.position("http://127.0.0.1:9/x"), Some(1));
        assert_eq!(c.position("https://b.example"), None);
    }

    #[test]
    fn one_without_the_other_is_named() {
        let err = parse(&[("WEBHOOK_FORWARD_URLS", "https://a.example")]).unwrap_err();
        assert_eq!(err, ConfigError::Missing("WEBHOOK_FORWARD_SECRET"));
        let err = parse(&[("WEBHOOK_FORWARD_SECRET", SECRET)]).unwrap_err();
        assert_eq!(err, ConfigError::Missing("WEBHOOK_FORWARD_URLS"));
    }

    #[test]
    fn bad_urls_and_secrets_are_refused_without_echoing_them() {
        for bad in [
            "http://backend.example/hook",
            "https://a.example/hook?token=s3cr3t",
            "https://user:s3cr3t@a.example",
            "ftp://a.example",
            "https://1.example,https://2.example,https://3.example,https://4.example,https://5.example,https://6.example",
        ] {
            let err = parse(&[
                ("WEBHOOK_FORWARD_URLS", bad),
                ("WEBHOOK_FORWARD_SECRET", SECRET),
            ])
            .unwrap_err();
            assert_eq!(err.setting(), "WEBHOOK_FORWARD_URLS", "{bad}");
            assert!(!err.to_string().contains("s3cr3t"), "{err}");
        }
        for bad in [
            "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "whsec_c2hvcnQ=",
            "whsec_!!!",
        ] {
            let err = parse(&[
                ("WEBHOOK_FORWARD_URLS", "https://a.example"),
                ("WEBHOOK_FORWARD_SECRET", bad),
            ])
            .unwrap_err();
            assert_eq!(err.setting(), "WEBHOOK_FORWARD_SECRET", "{bad}");
            assert!(!err.to_string().contains(bad), "{err}");
        }
    }
}
