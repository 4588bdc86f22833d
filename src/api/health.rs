//! `GET /api/v1/health`: what an operator needs to see at a glance, and never
//! a secret.

use callkit_core::client::CredentialMode;
use serde::Serialize;

use super::state::EdgeState;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Health {
    pub status: &'static str,
    pub region: String,
    pub sdk_app_id: u64,
    pub auth_mode: &'static str,
    pub credential_mode: &'static str,
    /// Unix seconds: when the admin sig the next request would use expires.
    pub credential_expires_at: Option<u64>,
}

pub fn report(app: &EdgeState) -> Health {
    let status = app.client.ready_credential_status();
    Health {
        status: "ok",
        region: app.tencent.client.endpoint.label().to_owned(),
        sdk_app_id: app.tencent.client.sdkappid,
        auth_mode: app.auth_mode,
        credential_mode: match status.mode {
            CredentialMode::Minted => "secretKey",
            CredentialMode::Static => "staticUserSig",
        },
        credential_expires_at: status.expires_at,
    }
}
