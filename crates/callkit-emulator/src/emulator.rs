//! The whole emulator's shared state: apps by SDKAppID plus the process-wide
//! RequestId sequence, fault queue, webhook sender and counters.

use crate::app::App;
use crate::config::EmulatorConfig;
use crate::counters::{Counters, CountersView};
use crate::error::EmulatorError;
use crate::faults::FaultQueue;
use crate::ids::RequestIds;
use crate::webhook::{WebhookLog, WebhookSender};
use std::collections::HashMap;
use std::sync::Arc;

#[derive(Debug)]
pub struct Emulator {
    apps: HashMap<u64, Arc<App>>,
    /// The first configured app: the control API's default.
    default_app: u64,
    pub request_ids: RequestIds,
    pub faults: FaultQueue,
    pub webhooks: WebhookSender,
    /// TRTC's room and media events, when `--trtc-url` is given.
    pub trtc: Option<crate::webhook::TrtcEmitter>,
    /// Requests for a command whose SDKAppID is missing or unknown.
    pub unattributed: Counters,
}

impl Emulator {
    /// Needs a Tokio runtime only once webhooks are sent.
    pub fn new(config: &EmulatorConfig) -> Self {
        let record_delay_ms = u64::try_from(config.record_delay.as_millis()).unwrap_or(u64::MAX);
        let apps: HashMap<u64, Arc<App>> = config
            .apps
            .iter()
            .map(|a| {
                (
                    a.sdkappid,
                    Arc::new(App::new(a, config.rate_limit, record_delay_ms)),
                )
            })
            .collect();
        let default_app = config
            .apps
            .first()
            .map(|a| a.sdkappid)
            .unwrap_or(crate::config::DEMO_SDKAPPID);
        Self {
            apps,
            default_app,
            request_ids: RequestIds::new(),
            faults: FaultQueue::default(),
            webhooks: WebhookSender::new(
                config.webhook_token.clone(),
                config.webhook_timeout,
                Arc::new(WebhookLog::default()),
            ),
            unattributed: Counters::default(),
            trtc: config.trtc.clone().map(crate::webhook::TrtcEmitter::new),
        }
    }

    pub fn app(&self, sdkappid: u64) -> Option<&Arc<App>> {
        self.apps.get(&sdkappid)
    }

    /// The named app, or the default one when `None`.
    pub fn app_or_default(&self, sdkappid: Option<u64>) -> Result<&Arc<App>, EmulatorError> {
        let id = sdkappid.unwrap_or(self.default_app);
        self.apps.get(&id).ok_or(EmulatorError::UnknownApp(id))
    }

    /// All apps, sorted by SDKAppID.
    pub fn apps(&self) -> Vec<&Arc<App>> {
        let mut apps: Vec<_> = self.apps.values().collect();
        apps.sort_by_key(|a| a.sdkappid);
        apps
    }

    /// One app's counters, or the sum over all (unattributed requests included).
    pub fn counters(&self, sdkappid: Option<u64>) -> Result<CountersView, EmulatorError> {
        match sdkappid {
            Some(id) => Ok(self
                .apps
                .get(&id)
                .ok_or(EmulatorError::UnknownApp(id))?
                .counters
                .view()),
            None => {
                let mut view = self.unattributed.view();
                for app in self.apps.values() {
                    app.counters.add_to(&mut view);
                }
                Ok(view)
            }
        }
    }

    /// Back to a fresh start: state, counters, faults and the webhook log.
    pub fn reset(&self) {
        for app in self.apps.values() {
            app.reset();
        }
        self.unattributed.reset();
        self.faults.clear();
        self.webhooks.log().clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{AppConfig, DEMO_SDKAPPID};
    use callkit_core::command::Command;

    fn two_apps() -> Emulator {
        let mut config = EmulatorConfig::default();
        config
            .apps
            .push("1400000001:k2:admin".parse::<AppConfig>().expect("spec"));
        Emulator::new(&config)
    }

    #[test]
    fn default_app_is_the_first() {
        let emu = two_apps();
        assert_eq!(
            emu.app_or_default(None).expect("app").sdkappid,
            DEMO_SDKAPPID
        );
        assert_eq!(
            emu.app_or_default(Some(1_400_000_001))
                .expect("app")
                .sdkappid,
            1_400_000_001
        );
        assert!(matches!(
            emu.app_or_default(Some(5)),
            Err(EmulatorError::UnknownApp(5))
        ));
        assert_eq!(emu.apps().len(), 2);
    }

    #[test]
    fn counters_per_app_and_in_total() {
        let emu = two_apps();
        emu.app(DEMO_SDKAPPID)
            .expect("app")
            .counters
            .received(Command::EndCall);
        emu.app(1_400_000_001)
            .expect("app")
            .counters
            .received(Command::EndCall);
        emu.unattributed.received(Command::EndCall);
        assert_eq!(
            emu.counters(Some(DEMO_SDKAPPID)).expect("v").received["end_call"],
            1
        );
        assert_eq!(emu.counters(None).expect("v").received["end_call"], 3);
        assert!(emu.counters(Some(9)).is_err());
        emu.reset();
        assert_eq!(emu.counters(None).expect("v").received["end_call"], 0);
    }
}
