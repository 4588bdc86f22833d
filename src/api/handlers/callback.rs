//! `/api/v1/callback`: the app's one webhook configuration.

use callkit_core::models::{CallbackCommand, SetCallback};
use serde::{Deserialize, Serialize};

use super::{Input, Success};
use crate::api::problem::ApiError;
use crate::api::validate;

const MAX_URL_LEN: usize = 1024;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Config<'a> {
    request_id: &'a str,
    url: &'a str,
    commands: &'a [CallbackCommand],
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PutCallback {
    pub url: String,
    pub commands: Vec<CallbackCommand>,
}

impl PutCallback {
    /// Public for the fuzz target; the handler is its only other caller.
    pub fn validate(self) -> Result<SetCallback, ApiError> {
        let rest = self
            .url
            .strip_prefix("https://")
            .or_else(|| self.url.strip_prefix("http://"));
        // Tencent calls this URL: it needs a host, and credentials in it would leak.
        let authority = rest.map(|r| r.split(['/', '?', '#']).next().unwrap_or_default());
        let host_ok = authority.is_some_and(|a| !a.is_empty() && !a.contains('@'));
        if !host_ok || self.url.len() > MAX_URL_LEN || self.url.chars().any(char::is_whitespace) {
            return Err(ApiError::bad_request(
                "invalid_field",
                format!(
                    "`url` must be an http:// or https:// URL of at most {MAX_URL_LEN} characters."
                ),
            ));
        }
        let mut commands: Vec<CallbackCommand> = Vec::new();
        for command in self.commands {
            if !commands.contains(&command) {
                commands.push(command);
            }
        }
        Ok(SetCallback {
            url: self.url,
            callback_command_list: commands,
        })
    }
}

pub async fn get(input: Input<'_>) -> Result<Success, ApiError> {
    let reply = input
        .app
        .client
        .callbacks()
        .get()
        .await
        .map_err(ApiError::Upstream)?;
    let body = Config {
        request_id: &reply.request_id,
        url: &reply.data.url,
        commands: &reply.data.callback_command_list,
    };
    Success::json(200, &body, Some(&reply.request_id))
}

pub async fn put(input: Input<'_>) -> Result<Success, ApiError> {
    let request: PutCallback = validate::json_body(input.content_type.as_deref(), &input.body)?;
    let request = request.validate()?;
    let reply = input
        .app
        .client
        .callbacks()
        .set(&request)
        .await
        .map_err(ApiError::Upstream)?;
    let body = Config {
        request_id: &reply.request_id,
        url: &request.url,
        commands: &request.callback_command_list,
    };
    Success::json(200, &body, Some(&reply.request_id))
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Deleted<'a> {
    request_id: &'a str,
    deleted: bool,
}

pub async fn delete(input: Input<'_>) -> Result<Success, ApiError> {
    let reply = input
        .app
        .client
        .callbacks()
        .delete()
        .await
        .map_err(ApiError::Upstream)?;
    Success::json(
        200,
        &Deleted {
            request_id: &reply.request_id,
            deleted: true,
        },
        Some(&reply.request_id),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<SetCallback, ApiError> {
        let req: PutCallback = validate::json_body(Some("application/json"), json.as_bytes())?;
        req.validate()
    }

    #[test]
    fn put_callback_validation() {
        let ok =
            parse(r#"{"url":"https://hooks.example/cb","commands":["Call.CallbackAfterEndCall"]}"#)
                .unwrap();
        assert_eq!(
            ok.callback_command_list,
            vec![CallbackCommand::AfterEndCall]
        );
        for bad in [
            r#"{"url":"ftp://x","commands":[]}"#,
            r#"{"url":"https://","commands":[]}"#,
            r#"{"url":"https:///path","commands":[]}"#,
            r#"{"url":"https://user:pw@hooks.example/cb","commands":[]}"#,
            r#"{"url":"https://x y","commands":[]}"#,
            r#"{"url":"https://x","commands":["Call.Nope"]}"#,
            r#"{"url":"https://x","commands":[],"token":"t"}"#,
        ] {
            assert_eq!(parse(bad).unwrap_err().to_problem().status, 400, "{bad}");
        }
    }
}
