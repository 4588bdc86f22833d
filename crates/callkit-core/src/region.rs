//! Tencent data-centre regions, their admin domains, and custom base URLs.

use std::fmt;
use std::str::FromStr;

use crate::credential_url;

/// A data centre where an SDKAppID can live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Region {
    China,
    Singapore,
    Seoul,
    Frankfurt,
    SiliconValley,
    Jakarta,
    Mumbai,
    Tokyo,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegionError {
    // The rejected value is not echoed: it comes from configuration.
    #[error("unknown region; expected one of: {}", accepted_names())]
    UnknownRegion,
    #[error("invalid base URL: {reason}")]
    InvalidBaseUrl { reason: &'static str },
}

fn accepted_names() -> String {
    Region::ALL.map(Region::as_str).join(", ")
}

impl Region {
    pub const ALL: [Region; 8] = [
        Region::China,
        Region::Singapore,
        Region::Seoul,
        Region::Frankfurt,
        Region::SiliconValley,
        Region::Jakarta,
        Region::Mumbai,
        Region::Tokyo,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Region::China => "china",
            Region::Singapore => "singapore",
            Region::Seoul => "seoul",
            Region::Frankfurt => "frankfurt",
            Region::SiliconValley => "silicon-valley",
            Region::Jakarta => "jakarta",
            Region::Mumbai => "mumbai",
            Region::Tokyo => "tokyo",
        }
    }

    pub fn primary_domain(self) -> &'static str {
        match self {
            Region::China => "console.tim.qq.com",
            Region::Singapore => "adminapisgp.im.qcloud.com",
            Region::Seoul => "adminapikr.im.qcloud.com",
            Region::Frankfurt => "adminapiger.im.qcloud.com",
            Region::SiliconValley => "adminapiusa.im.qcloud.com",
            Region::Jakarta => "adminapiidn.im.qcloud.com",
            Region::Mumbai => "adminapiind.im.qcloud.com",
            Region::Tokyo => "adminapijpn.im.qcloud.com",
        }
    }

    /// The `*.my-imcloud.com` backup from Chat's REST overview, tried on network failure.
    pub fn standby_domain(self) -> &'static str {
        match self {
            Region::China => "adminapi.my-imcloud.com",
            Region::Singapore => "adminapisgp.my-imcloud.com",
            Region::Seoul => "adminapikr.my-imcloud.com",
            Region::Frankfurt => "adminapiger.my-imcloud.com",
            Region::SiliconValley => "adminapiusa.my-imcloud.com",
            Region::Jakarta => "adminapiidn.my-imcloud.com",
            Region::Mumbai => "adminapiind.my-imcloud.com",
            Region::Tokyo => "adminapijpn.my-imcloud.com",
        }
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Region {
    type Err = RegionError;

    /// Case-insensitive; `_` or a space may stand for `-` (`silicon_valley`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted: String = s
            .trim()
            .chars()
            .map(|c| match c {
                '_' | ' ' => '-',
                c => c.to_ascii_lowercase(),
            })
            .collect();
        Region::ALL
            .into_iter()
            .find(|r| r.as_str() == wanted)
            .ok_or(RegionError::UnknownRegion)
    }
}

/// Where requests go: a Tencent region, or any base URL (the emulator).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    Region(Region),
    Custom { base_url: String },
}

impl Endpoint {
    /// A custom base such as `http://127.0.0.1:8787` or `https://proxy/prefix`.
    /// Surrounding whitespace and trailing `/` are trimmed.
    pub fn custom(base_url: &str) -> Result<Endpoint, RegionError> {
        let trimmed = base_url.trim().trim_end_matches('/');
        // The admin UserSig travels in the query string: https, or clear
        // text to this machine only; no query or fragment of our own.
        credential_url::check(trimmed, false)
            .map_err(|refused| RegionError::InvalidBaseUrl { reason: refused.0 })?;
        Ok(Endpoint::Custom {
            base_url: trimmed.to_owned(),
        })
    }

    /// Base URLs in the order to try them.
    pub fn base_urls(&self) -> Vec<String> {
        match self {
            Endpoint::Region(r) => vec![
                format!("https://{}", r.primary_domain()),
                format!("https://{}", r.standby_domain()),
            ],
            Endpoint::Custom { base_url } => vec![base_url.clone()],
        }
    }

    /// Safe for logs: the region name, or `"custom"`.
    pub fn label(&self) -> &str {
        match self {
            Endpoint::Region(r) => r.as_str(),
            Endpoint::Custom { .. } => "custom",
        }
    }
}

impl From<Region> for Endpoint {
    fn from(region: Region) -> Self {
        Endpoint::Region(region)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_region_has_its_documented_domains() {
        let expected = [
            ("china", "console.tim.qq.com", "adminapi.my-imcloud.com"),
            (
                "singapore",
                "adminapisgp.im.qcloud.com",
                "adminapisgp.my-imcloud.com",
            ),
            (
                "seoul",
                "adminapikr.im.qcloud.com",
                "adminapikr.my-imcloud.com",
            ),
            (
                "frankfurt",
                "adminapiger.im.qcloud.com",
                "adminapiger.my-imcloud.com",
            ),
            (
                "silicon-valley",
                "adminapiusa.im.qcloud.com",
                "adminapiusa.my-imcloud.com",
            ),
            (
                "jakarta",
                "adminapiidn.im.qcloud.com",
                "adminapiidn.my-imcloud.com",
            ),
            (
                "mumbai",
                "adminapiind.im.qcloud.com",
                "adminapiind.my-imcloud.com",
            ),
            (
                "tokyo",
                "adminapijpn.im.qcloud.com",
                "adminapijpn.my-imcloud.com",
            ),
        ];
        assert_eq!(Region::ALL.len(), expected.len());
        for (region, (name, primary, standby)) in Region::ALL.into_iter().zip(expected) {
            assert_eq!(region.as_str(), name);
            assert_eq!(region.primary_domain(), primary);
            assert_eq!(region.standby_domain(), standby);
            assert_eq!(name.parse::<Region>(), Ok(region));
            assert_eq!(
                Endpoint::Region(region).base_urls(),
                vec![format!("https://{primary}"), format!("https://{standby}")]
            );
            assert_eq!(Endpoint::Region(region).label(), name);
        }
    }

    #[test]
    fn region_parsing_is_forgiving_about_case_and_separators() {
        assert_eq!(" Silicon_Valley ".parse(), Ok(Region::SiliconValley));
        assert_eq!("TOKYO".parse(), Ok(Region::Tokyo));
    }

    #[test]
    fn unknown_region_lists_accepted_names_without_echo() {
        let err = "atlantis".parse::<Region>().unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains(
            "china, singapore, seoul, frankfurt, silicon-valley, jakarta, mumbai, tokyo"
        ));
        assert!(!msg.contains("atlantis"));
        assert!("".parse::<Region>().is_err());
    }

    #[test]
    fn custom_endpoint_trims_trailing_slashes() {
        let e = Endpoint::custom(" http://127.0.0.1:8787// ").unwrap();
        assert_eq!(e.base_urls(), vec!["http://127.0.0.1:8787".to_owned()]);
        assert_eq!(e.label(), "custom");
        let e = Endpoint::custom("https://proxy.example/tencent/").unwrap();
        assert_eq!(
            e.base_urls(),
            vec!["https://proxy.example/tencent".to_owned()]
        );
    }

    #[test]
    fn clear_text_only_to_loopback() {
        for ok in [
            "http://localhost",
            "http://LOCALHOST:8790/prefix",
            "http://127.0.0.1:8790",
            "http://127.9.8.7",
            "http://[::1]:8790",
            "http://[::1]",
            "https://proxy.example:8443/tencent",
        ] {
            assert!(Endpoint::custom(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn custom_endpoint_rejects_bad_urls_without_echo() {
        for bad in [
            "",
            "ftp://host",
            "127.0.0.1:8787",
            "http://",
            "https:///path",
            "http://host/?usersig=secret",
            "http://host#frag",
            "http://ho st",
            "http://proxy.example",
            "http://10.0.0.1:8790",
            "http://localhost.evil.example",
            "http://127.0.0.1.evil.example",
            "http://localhost:80@evil.example",
            "https://user:secret@proxy.example",
            "http://127.0.0.1\\@evil.example",
            "http://[::2]:80",
            "http://[::1",
            "http://localhost:80x",
        ] {
            let err = Endpoint::custom(bad).unwrap_err();
            assert!(matches!(err, RegionError::InvalidBaseUrl { .. }), "{bad}");
            assert!(!err.to_string().contains("secret"));
        }
    }
}
