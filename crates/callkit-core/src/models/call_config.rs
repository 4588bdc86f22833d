//! `call_config`: the single webhook configuration of an SDKAppID.

use serde::{Deserialize, Serialize};

use super::enums::CallbackCommand;
use crate::command::{ApiCommand, Command};
use crate::envelope::{NoContent, ResponseBody};

/// `set_callback` request: creates or overwrites the configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetCallback {
    /// Must start with `http` or `https`.
    #[serde(rename = "Url")]
    pub url: String,
    #[serde(rename = "CallbackCommandList")]
    pub callback_command_list: Vec<CallbackCommand>,
}

impl ApiCommand for SetCallback {
    const COMMAND: Command = Command::SetCallback;
    type Response = NoContent;
}

/// `get_callback` request (`{}`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetCallback {}

impl ApiCommand for GetCallback {
    const COMMAND: Command = Command::GetCallback;
    type Response = GetCallbackResponse;
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetCallbackResponse {
    #[serde(rename = "Url")]
    pub url: String,
    #[serde(rename = "CallbackCommandList", default)]
    pub callback_command_list: Vec<CallbackCommand>,
}

impl ResponseBody for GetCallbackResponse {}

/// `delete_callback` request (`{}`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteCallback {}

impl ApiCommand for DeleteCallback {
    const COMMAND: Command = Command::DeleteCallback;
    type Response = NoContent;
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn set_callback_rejects_unknown_command_words() {
        let res = serde_json::from_value::<SetCallback>(json!({
            "Url": "https://x", "CallbackCommandList": ["Call.Nope"]
        }));
        assert!(res.is_err());
    }

    #[test]
    fn fieldless_requests_read_any_object() {
        assert_eq!(
            serde_json::from_str::<GetCallback>("{}").unwrap(),
            GetCallback {}
        );
        assert_eq!(
            serde_json::from_str::<DeleteCallback>(r#"{"x":1}"#).unwrap(),
            DeleteCallback {}
        );
    }
}
