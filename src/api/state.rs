//! What the routes are served with, built once per isolate by `crate::app`.

use callkit_core::client::Client;

use super::auth::jwks_fetch::FetchJwks;
use super::auth::webcrypto::WebCrypto;
use super::auth::Authenticator;
use super::cors::Cors;
use super::policy::Policy;
use super::router::Router;
use crate::ledger::LedgerConfig;
use crate::platform::config::TencentConfig;
use crate::platform::fetch_transport::FetchTransport;
use crate::platform::live_config::LiveConfig;
use crate::platform::relay_config::RelayConfig;
use crate::platform::runtime::WorkerRuntime;
use crate::platform::trtc_config::TrtcConfig;

pub type EdgeClient = Client<FetchTransport, WorkerRuntime>;

pub struct EdgeState {
    pub tencent: TencentConfig,
    pub client: EdgeClient,
    pub auth: Authenticator<FetchJwks, WebCrypto>,
    pub auth_mode: &'static str,
    pub policy: Policy,
    pub cors: Cors,
    pub router: Router,
    pub live: LiveConfig,
    pub ledger: LedgerConfig,
    pub relay: RelayConfig,
    pub trtc: TrtcConfig,
}
