//! What the server is started with: apps (SDKAppID, key, admins) and knobs.

use crate::error::EmulatorError;
use crate::traffic::SimulationConfig;
use callkit_core::secret::Secret;
use std::net::SocketAddr;
use std::str::FromStr;
use std::time::Duration;

/// The public sample app of Tencent's UserSig examples (docs/tencent-callkit-v4.md §7.4), used when no `--app` is given.
pub const DEMO_SDKAPPID: u64 = 1_400_000_000;
pub const DEMO_KEY: &str = "5bd2850fff3ecb11d7c805251c51ee463a25727bddc2385f3fa8bfee1bb93b5e";
pub const DEMO_ADMIN: &str = "administrator";
/// Tencent allows at most 10 admins per app.
pub const MAX_ADMINS: usize = 10;

/// One emulated application.
#[derive(Debug, Clone)]
pub struct AppConfig {
    pub sdkappid: u64,
    pub key: Secret,
    pub admins: Vec<String>,
}

impl AppConfig {
    pub fn demo() -> Self {
        Self {
            sdkappid: DEMO_SDKAPPID,
            key: Secret::new(DEMO_KEY),
            admins: vec![DEMO_ADMIN.to_owned()],
        }
    }
}

impl FromStr for AppConfig {
    type Err = EmulatorError;

    /// `SDKAPPID:SECRETKEY:admin1,admin2`.
    fn from_str(spec: &str) -> Result<Self, Self::Err> {
        let mut parts = spec.splitn(3, ':');
        let (Some(id), Some(key), Some(admins)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(EmulatorError::AppSpec("three ':'-separated parts needed"));
        };
        let sdkappid = id
            .trim()
            .parse::<u64>()
            .map_err(|_| EmulatorError::AppSpec("SDKAppID must be a number"))?;
        let key = key.trim();
        if key.is_empty() {
            return Err(EmulatorError::AppSpec("secret key is empty"));
        }
        let admins: Vec<String> = admins
            .split(',')
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .map(str::to_owned)
            .collect();
        if admins.is_empty() {
            return Err(EmulatorError::AppSpec("at least one admin is needed"));
        }
        if admins.len() > MAX_ADMINS {
            return Err(EmulatorError::AppSpec("at most 10 admins per app"));
        }
        Ok(Self {
            sdkappid,
            key: Secret::new(key),
            admins,
        })
    }
}

/// Everything `serve` needs.
#[derive(Debug, Clone)]
pub struct EmulatorConfig {
    pub listen: SocketAddr,
    /// The first app is the default of the control API.
    pub apps: Vec<AppConfig>,
    /// How long after its end a record becomes queryable.
    pub record_delay: Duration,
    /// Requests per second per app and command; 0 turns limiting off.
    pub rate_limit: u32,
    pub seed_demo: bool,
    /// With a token, webhooks carry `Sign` and `RequestTime`.
    pub webhook_token: Option<Secret>,
    pub webhook_timeout: Duration,
    /// Background calls in the first app (`--simulate-calls`); `None` = off.
    pub simulation: Option<SimulationConfig>,
    /// TRTC's room and media events for the calls (`--trtc-url`, `--trtc-key`).
    pub trtc: Option<crate::webhook::TrtcCallback>,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8790)),
            apps: vec![AppConfig::demo()],
            record_delay: Duration::from_millis(5000),
            rate_limit: 200,
            seed_demo: false,
            webhook_token: None,
            webhook_timeout: Duration::from_secs(2),
            simulation: None,
            trtc: None,
        }
    }
}

impl EmulatorConfig {
    /// Rejects duplicate SDKAppIDs and an unusable simulation, and fills in
    /// the demo app when none is given.
    pub fn validated(mut self) -> Result<Self, EmulatorError> {
        if let Some(problem) = self.simulation.as_ref().and_then(SimulationConfig::problem) {
            return Err(EmulatorError::Simulation(problem));
        }
        if self.apps.is_empty() {
            self.apps.push(AppConfig::demo());
        }
        let mut seen = std::collections::HashSet::new();
        for app in &self.apps {
            if !seen.insert(app.sdkappid) {
                return Err(EmulatorError::DuplicateApp(app.sdkappid));
            }
        }
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_an_app_spec() {
        let app: AppConfig = "1400000001:abc:admin, ops ,".parse().expect("valid");
        assert_eq!(app.sdkappid, 1_400_000_001);
        assert_eq!(app.key.expose(), "abc");
        assert_eq!(app.admins, vec!["admin", "ops"]);
    }

    #[test]
    fn rejects_bad_specs_without_echoing_the_key() {
        for bad in [
            "1400000001:abc",
            "x:abc:admin",
            "1:secretvalue:",
            "1::admin",
            "1:k:a,b,c,d,e,f,g,h,i,j,k",
        ] {
            let err = bad.parse::<AppConfig>().expect_err(bad);
            assert!(!err.to_string().contains("secretvalue"), "{err}");
            assert!(!format!("{err:?}").contains("secretvalue"));
        }
    }

    #[test]
    fn debug_redacts_the_key() {
        let app = AppConfig::demo();
        assert!(!format!("{app:?}").contains(DEMO_KEY));
    }

    #[test]
    fn validated_adds_demo_and_rejects_duplicates() {
        let cfg = EmulatorConfig {
            apps: vec![],
            ..EmulatorConfig::default()
        }
        .validated()
        .expect("ok");
        assert_eq!(cfg.apps.len(), 1);
        assert_eq!(cfg.apps[0].sdkappid, DEMO_SDKAPPID);
        let dup = EmulatorConfig {
            apps: vec![AppConfig::demo(), AppConfig::demo()],
            ..EmulatorConfig::default()
        };
        assert!(matches!(
            dup.validated(),
            Err(EmulatorError::DuplicateApp(DEMO_SDKAPPID))
        ));
    }
}
