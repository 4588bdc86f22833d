//! One handler per API area. Each turns validated input into one upstream
//! command (plus a membership check where the policy asks for one) and
//! answers with a typed camelCase body.

pub mod callback;
pub mod calls;
pub mod history;
pub mod live;
pub mod me;
pub mod records;
pub mod relay;
pub mod trtc;
pub mod usersig;
pub mod webhook;

#[cfg(test)]
mod test_support;

use serde::Serialize;

use callkit_core::client::{Client, Runtime, Transport};

use super::auth::Identity;
use super::problem::ApiError;
use super::validate::CallId;
use crate::platform::config::TencentConfig;

/// What a handler produced, serialized once.
#[derive(Debug)]
pub struct Success {
    pub status: u16,
    pub body: String,
    pub request_id: Option<String>,
    /// A WebSocket's 101, answered as it is.
    pub upgrade: Option<web_sys::Response>,
}

impl Success {
    /// A body that is already JSON.
    pub fn raw(status: u16, body: String) -> Self {
        Self {
            status,
            body,
            request_id: None,
            upgrade: None,
        }
    }

    pub fn upgrade(response: web_sys::Response) -> Self {
        Self {
            upgrade: Some(response),
            ..Self::raw(101, String::new())
        }
    }

    /// A response built already (the export's stream), answered as it is.
    pub fn stream(response: web_sys::Response) -> Self {
        Self {
            upgrade: Some(response),
            ..Self::raw(200, String::new())
        }
    }

    pub fn json<T: Serialize>(
        status: u16,
        body: &T,
        request_id: Option<&str>,
    ) -> Result<Self, ApiError> {
        let body = serde_json::to_string(body).map_err(|e| ApiError::Internal(e.to_string()))?;
        Ok(Self {
            request_id: request_id.map(str::to_owned),
            ..Self::raw(status, body)
        })
    }
}

/// Everything a handler may look at. Generic over the client's transport
/// and runtime, so handlers run natively in tests against the core's fakes.
pub struct Input<'a, T: Transport, R: Runtime> {
    pub client: &'a Client<T, R>,
    pub tencent: &'a TencentConfig,
    pub identity: &'a Identity,
    /// The policy wants proof that the caller is in the call or record.
    pub needs_membership: bool,
    /// The `{callId}` of the route, already checked.
    pub call_id: Option<CallId>,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
    pub query: Vec<(String, String)>,
    pub now_secs: u64,
}

impl<T: Transport, R: Runtime> Input<'_, T, R> {
    /// The route's `{callId}`.
    pub fn call_id(&self) -> Result<&CallId, ApiError> {
        self.call_id
            .as_ref()
            .ok_or_else(|| ApiError::Internal("the route has no {callId}".into()))
    }
}
