//! `/api/v1/callback`: the app's one webhook configuration. The URL's `key`
//! parameter (`WEBHOOK_URL_KEY`) is a secret: answers leave it out and say
//! `"keyed": true`, and a PUT may keep the stored one (`"keepKey": true`).

use callkit_core::models::{CallbackCommand, SetCallback};
use serde::{Deserialize, Serialize};

use callkit_core::client::{Runtime, Transport};

use super::{Input, Success};
use crate::api::problem::ApiError;
use crate::api::validate;

const MAX_URL_LEN: usize = 1024;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Config<'a> {
    request_id: &'a str,
    /// Without its `key` parameter.
    url: String,
    /// The stored URL carries a `key` parameter.
    keyed: bool,
    commands: &'a [CallbackCommand],
}

impl<'a> Config<'a> {
    fn new(request_id: &'a str, url: &str, commands: &'a [CallbackCommand]) -> Self {
        let (url, key) = split_key(url);
        Self {
            request_id,
            url,
            keyed: key.is_some(),
            commands,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PutCallback {
    pub url: String,
    pub commands: Vec<CallbackCommand>,
    /// Carry the stored URL's `key` over to this URL (which has none).
    #[serde(default, rename = "keepKey")]
    pub keep_key: bool,
}

/// The URL without its `key` query parameters, and the first one's raw
/// `key=…` text.
fn split_key(url: &str) -> (String, Option<String>) {
    let (rest, fragment) = url
        .split_once('#')
        .map_or((url, None), |(r, f)| (r, Some(f)));
    let Some((base, query)) = rest.split_once('?') else {
        return (url.to_owned(), None);
    };
    let is_key = |p: &&str| p.split('=').next() == Some("key");
    let key = query.split('&').find(is_key).map(str::to_owned);
    let kept: Vec<&str> = query
        .split('&')
        .filter(|p| !is_key(p) && !p.is_empty())
        .collect();
    let mut out = base.to_owned();
    if !kept.is_empty() {
        out.push('?');
        out.push_str(&kept.join("&"));
    }
    if let Some(f) = fragment {
        out.push('#');
        out.push_str(f);
    }
    (out, key)
}

/// `url` with the `key=…` pair appended to its query.
fn with_key(url: &str, key: &str) -> String {
    let (rest, fragment) = url
        .split_once('#')
        .map_or((url, None), |(r, f)| (r, Some(f)));
    let sep = if rest.contains('?') { '&' } else { '?' };
    let mut out = format!("{rest}{sep}{key}");
    if let Some(f) = fragment {
        out.push('#');
        out.push_str(f);
    }
    out
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
        let host_ok = authority.is_some_and(authority_ok);
        // A URL on the wire is visible ASCII (the rest percent-encoded, hosts in
        // punycode): the same set as the schema's pattern, whatever a regex's `\s` means.
        let text_ok = self.url.bytes().all(|b| b.is_ascii_graphic());
        if !host_ok || !text_ok || self.url.len() > MAX_URL_LEN {
            return Err(ApiError::bad_request(
                "invalid_field",
                format!(
                    "`url` must be an http:// or https:// URL with a host name or IPv4 address and no user info, at most {MAX_URL_LEN} visible ASCII characters (percent-encode the rest)."
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

/// What the schema's pattern allows before the path: RFC 3986's reg-name
/// (a host name or IPv4 address, no user info) with an optional port. No
/// IPv6 literals: their brackets are where URL parsers disagree.
fn authority_ok(authority: &str) -> bool {
    !authority.is_empty()
        && authority
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~%!$&'()*+,;=:".contains(&b))
}

pub async fn get<T: Transport, R: Runtime>(input: Input<'_, T, R>) -> Result<Success, ApiError> {
    let reply = input.client.callbacks().get().await?;
    let body = Config::new(
        &reply.request_id,
        &reply.data.url,
        &reply.data.callback_command_list,
    );
    Success::json(200, &body, Some(&reply.request_id))
}

pub async fn put<T: Transport, R: Runtime>(input: Input<'_, T, R>) -> Result<Success, ApiError> {
    let request: PutCallback = validate::json_body(input.content_type.as_deref(), &input.body)?;
    let keep_key = request.keep_key;
    let mut request = request.validate()?;
    if keep_key && split_key(&request.url).1.is_none() {
        let stored = input.client.callbacks().get().await?;
        if let Some(key) = split_key(&stored.data.url).1 {
            request.url = with_key(&request.url, &key);
        }
    }
    let reply = input.client.callbacks().set(&request).await?;
    let body = Config::new(
        &reply.request_id,
        &request.url,
        &request.callback_command_list,
    );
    Success::json(200, &body, Some(&reply.request_id))
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Deleted<'a> {
    request_id: &'a str,
    deleted: bool,
}

pub async fn delete<T: Transport, R: Runtime>(input: Input<'_, T, R>) -> Result<Success, ApiError> {
    let reply = input.client.callbacks().delete().await?;
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
        for url in [
            "http://127.0.0.1:9/hook?x=[1]",
            "https://xn--bcher-kva.example",
        ] {
            let body = format!(r#"{{"url":"{url}","commands":[]}}"#);
            assert_eq!(parse(&body).unwrap().url, url);
        }
        for bad in [
            r#"{"url":"ftp://x","commands":[]}"#,
            r#"{"url":"https://","commands":[]}"#,
            r#"{"url":"https:///path","commands":[]}"#,
            r#"{"url":"https://user:pw@hooks.example/cb","commands":[]}"#,
            r#"{"url":"https://x y","commands":[]}"#,
            // Whitespace to Rust but not to a regex's `\s` (U+0085), and the reverse (U+FEFF).
            r#"{"url":"https://x\u0085/cb","commands":[]}"#,
            r#"{"url":"https://x\ufeff/cb","commands":[]}"#,
            r#"{"url":"https://b\u00fccher.example/cb","commands":[]}"#,
            // Brackets (IPv6 literals, which parsers disagree on) and a backslash.
            r#"{"url":"http://[x/cb","commands":[]}"#,
            r#"{"url":"http://a]b/cb","commands":[]}"#,
            r#"{"url":"http://[::1]:8080/cb","commands":[]}"#,
            r#"{"url":"http://[0]/cb","commands":[]}"#,
            r#"{"url":"http://a\\b/cb","commands":[]}"#,
            r#"{"url":"https://x","commands":["Call.Nope"]}"#,
            r#"{"url":"https://x","commands":[],"token":"t"}"#,
        ] {
            assert_eq!(parse(bad).unwrap_err().to_problem().status, 400, "{bad}");
        }
    }
}

#[cfg(test)]
mod key_tests {
    use super::*;

    #[test]
    fn the_key_is_split_off_and_put_back() {
        let (url, key) = split_key("https://e.test/api/v1/webhooks/tencent?key=s3cret&x=1#f");
        assert_eq!(url, "https://e.test/api/v1/webhooks/tencent?x=1#f");
        assert_eq!(key.as_deref(), Some("key=s3cret"));
        assert_eq!(
            with_key(&url, "key=s3cret"),
            "https://e.test/api/v1/webhooks/tencent?x=1&key=s3cret#f"
        );
        let (url, key) = split_key("https://e.test/hook?key=a&key=b");
        assert_eq!(
            (url.as_str(), key.as_deref()),
            ("https://e.test/hook", Some("key=a"))
        );
        assert_eq!(
            split_key("https://e.test/hook?monkey=1"),
            ("https://e.test/hook?monkey=1".into(), None)
        );
        assert_eq!(
            split_key("https://e.test/hook"),
            ("https://e.test/hook".into(), None)
        );
        assert_eq!(
            with_key("https://e.test/hook", "key=k"),
            "https://e.test/hook?key=k"
        );
    }
}

#[cfg(test)]
mod upstream_tests {
    use callkit_core::client::testing::Step;

    use super::*;
    use crate::api::handlers::test_support::{admin, json, problem, run, sample, Upstream};

    #[test]
    fn no_configuration_yet_is_a_404_that_says_how_to_make_one() {
        let up = Upstream::new(vec![Step::api_error(100301)]);
        let who = admin();
        let p = problem(run(get(up.input(&who, None))));
        assert_eq!(
            (p.status, p.code.as_str()),
            (404, "callback_not_configured")
        );
        assert!(p.detail.contains("PUT /api/v1/callback"));
    }

    #[test]
    fn a_configuration_is_rendered_in_the_edge_vocabulary() {
        let up = Upstream::new(vec![sample("get_callback.response.json")]);
        let who = admin();
        let body = json(&run(get(up.input(&who, None))).unwrap());
        assert!(body["url"].as_str().unwrap().starts_with("http"), "{body}");
        assert!(body["commands"].is_array());
        assert!(body["requestId"].as_str().unwrap().starts_with("Id-"));
    }
}
