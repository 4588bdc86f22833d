//! The composition root: configuration is parsed and the client, auth,
//! policy, CORS and router built once per isolate, on
//! the first request, then reused (see README.md, Performance). It sits
//! above `api` and `platform`, so neither needs the other to build itself.

use std::cell::RefCell;
use std::rc::Rc;

use callkit_core::client::{AdminCredential, Client, ClientError};
use worker::Env;

use crate::api::auth::jwks_fetch::FetchJwks;
use crate::api::auth::{AppKey, AuthConfig, AuthMethod, Authenticator};
use crate::api::cors::Cors;
use crate::api::policy::Policy;
use crate::api::router::Router;
pub use crate::api::state::{EdgeClient, EdgeState};
use crate::ledger::LedgerConfig;
use crate::platform::config::{names, ConfigError, TencentConfig};
use crate::platform::fetch_transport::FetchTransport;
use crate::platform::live_config::LiveConfig;
use crate::platform::relay_config::RelayConfig;
use crate::platform::runtime::WorkerRuntime;
use crate::platform::trtc_config::TrtcConfig;

thread_local! {
    static STATE: RefCell<Option<Rc<EdgeState>>> = const { RefCell::new(None) };
}

/// The isolate's state, built on first use. A configuration error is not
/// cached, so fixing a secret takes effect on the next request.
pub fn get_or_init(env: &Env) -> Result<Rc<EdgeState>, ConfigError> {
    if let Some(state) = STATE.with(|s| s.borrow().clone()) {
        return Ok(state);
    }
    let state = Rc::new(build(&|name| read_setting(env, name))?);
    STATE.with(|s| *s.borrow_mut() = Some(state.clone()));
    Ok(state)
}

/// Everything the routes need, from the settings `get` finds.
pub fn build(get: &dyn Fn(&str) -> Option<String>) -> Result<EdgeState, ConfigError> {
    let tencent = TencentConfig::from_getter(get)?;
    let app = AppKey {
        sdkappid: tencent.client.sdkappid,
        secret_key: tencent.secret_key.as_ref(),
    };
    let auth_config = AuthConfig::from_env(get, app)?;
    let auth_mode = match auth_config.method {
        AuthMethod::UserSig(_) => "usersig",
        AuthMethod::Jwt(_) => "jwt",
    };
    let auth = Authenticator::new(&auth_config, FetchJwks::new(auth_config.jwks_url()))?;
    let policy = Policy::from_env(get)?;
    let cors = Cors::from_env(get)?;
    let client = Client::new(
        tencent.client.clone(),
        tencent.credential.clone(),
        FetchTransport,
        WorkerRuntime,
    )
    .map_err(|e| client_config_error(e, &tencent.credential))?;
    let live = LiveConfig::from_getter(get)?;
    let ledger = LedgerConfig::from_getter(get)?;
    let relay = RelayConfig::from_getter(get)?;
    let trtc = TrtcConfig::from_getter(get)?;
    Ok(EdgeState {
        live,
        tencent,
        client,
        auth,
        auth_mode,
        policy,
        cors,
        router: Router::new(),
        ledger,
        relay,
        trtc,
    })
}

/// Names the setting behind a client that cannot be built.
fn client_config_error(e: ClientError, credential: &AdminCredential) -> ConfigError {
    let name = match (&e, credential) {
        (ClientError::CredentialInvalid { .. }, AdminCredential::StaticUserSig(_)) => {
            names::ADMIN_USERSIG
        }
        (ClientError::CredentialInvalid { .. }, AdminCredential::SecretKey { .. }) => {
            names::SECRET_KEY
        }
        _ => "TENCENT_* settings",
    };
    ConfigError::Invalid {
        name,
        reason: e.to_string(),
    }
}

/// Secrets first, then plain vars: both arrive as strings in `Env`.
fn read_setting(env: &Env, name: &str) -> Option<String> {
    env.secret(name)
        .map(|s| s.to_string())
        .or_else(|_| env.var(name).map(|v| v.to_string()))
        .ok()
}
