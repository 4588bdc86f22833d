//! One emulated SDKAppID at run time: its key and admins, verified-sig cache,
//! rate limiter, counters and state.

use crate::config::AppConfig;
use crate::counters::Counters;
use crate::rate_limit::RateLimiter;
use crate::sig_cache::SigCache;
use crate::state::AppState;
use callkit_core::command::Command;
use callkit_core::secret::Secret;
use callkit_core::usersig::UserSigError;
use parking_lot::Mutex;
use std::collections::HashSet;

#[derive(Debug)]
pub struct App {
    pub sdkappid: u64,
    key: Secret,
    admins: HashSet<String>,
    /// In configuration order, for display.
    admin_list: Vec<String>,
    sig_cache: SigCache,
    pub limiter: RateLimiter,
    pub counters: Counters,
    pub state: Mutex<AppState>,
}

impl App {
    pub fn new(config: &AppConfig, rate_limit: u32, record_delay_ms: u64) -> Self {
        Self {
            sdkappid: config.sdkappid,
            key: config.key.clone(),
            admins: config.admins.iter().cloned().collect(),
            admin_list: config.admins.clone(),
            sig_cache: SigCache::default(),
            limiter: RateLimiter::new(rate_limit, Command::ALL.len()),
            counters: Counters::default(),
            state: Mutex::new(AppState::new(record_delay_ms)),
        }
    }

    pub fn is_admin(&self, identifier: &str) -> bool {
        self.admins.contains(identifier)
    }

    pub fn admins(&self) -> &[String] {
        &self.admin_list
    }

    /// Full TLSSigAPIv2 verification (cached by sig string).
    pub fn verify_usersig(
        &self,
        usersig: &str,
        identifier: &str,
        now_secs: u64,
    ) -> Result<(), UserSigError> {
        self.sig_cache.verify(
            usersig,
            self.key.expose(),
            self.sdkappid,
            identifier,
            now_secs,
        )
    }

    /// Clears state, counters, limiter buckets and the sig cache.
    pub fn reset(&self) {
        self.state.lock().reset();
        self.counters.reset();
        self.limiter.reset();
        self.sig_cache.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use callkit_core::usersig::mint_now;

    #[test]
    fn admin_check_and_sig_verification() {
        let app = App::new(&AppConfig::demo(), 0, 0);
        assert!(app.is_admin("administrator"));
        assert!(!app.is_admin("alice"));
        let sig = mint_now(
            crate::config::DEMO_KEY,
            app.sdkappid,
            "administrator",
            60,
            1000,
        );
        assert!(app.verify_usersig(&sig, "administrator", 1000).is_ok());
        assert_eq!(
            app.verify_usersig(&sig, "administrator", 1061)
                .expect_err("expired")
                .tencent_code(),
            70001
        );
        assert!(!format!("{app:?}").contains(crate::config::DEMO_KEY));
    }
}
