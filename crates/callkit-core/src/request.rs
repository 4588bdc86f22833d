//! The v4 request URL and body, and the inverse parse used by the emulator.

use crate::command::{ApiCommand, Command};

/// The credentials that travel in every query string.
#[derive(Clone, Copy)]
pub struct QueryAuth<'a> {
    pub sdkappid: u64,
    pub identifier: &'a str,
    pub usersig: &'a str,
}

// Hand-written so the UserSig never reaches a log through `{:?}`.
impl std::fmt::Debug for QueryAuth<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QueryAuth")
            .field("sdkappid", &self.sdkappid)
            .field("identifier", &self.identifier)
            .field("usersig", &"[REDACTED]")
            .finish()
    }
}

/// `{base}/v4/{service}/{command}?sdkappid=..&identifier=..&usersig=..&random=..&contenttype=json`,
/// values form-urlencoded. The result holds the UserSig: never log it.
pub fn build_url(base_url: &str, command: Command, auth: &QueryAuth<'_>, random: u32) -> String {
    let base = base_url.trim_end_matches('/');
    let mut url = String::with_capacity(base.len() + auth.usersig.len() + 160);
    url.push_str(base);
    url.push_str("/v4/");
    url.push_str(command.path());
    url.push_str("?sdkappid=");
    url.push_str(&auth.sdkappid.to_string());
    url.push_str("&identifier=");
    url.extend(form_urlencoded::byte_serialize(auth.identifier.as_bytes()));
    url.push_str("&usersig=");
    url.extend(form_urlencoded::byte_serialize(auth.usersig.as_bytes()));
    url.push_str("&random=");
    url.push_str(&random.to_string());
    url.push_str("&contenttype=json");
    url
}

/// Serialized body, never empty (`{}` for field-less commands).
pub fn encode_body<C: ApiCommand>(request: &C) -> Vec<u8> {
    // Derived `Serialize` on the models cannot fail (string keys only); the
    // fallback keeps the "never empty" promise rather than panicking.
    match serde_json::to_vec(request) {
        Ok(body) if body != b"null" => body,
        _ => b"{}".to_vec(),
    }
}

/// The query fields of a v4 request, as received.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestQuery {
    pub sdkappid: Option<String>,
    pub identifier: Option<String>,
    pub usersig: Option<String>,
    pub random: Option<String>,
    pub contenttype: Option<String>,
}

/// Parse a query string (with or without the leading `?`). Values are
/// percent-decoded; unknown parameters are ignored; the first of duplicates wins.
pub fn parse_query(query: &str) -> RequestQuery {
    let mut q = RequestQuery::default();
    let query = query.strip_prefix('?').unwrap_or(query);
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        let slot = match key.as_ref() {
            "sdkappid" => &mut q.sdkappid,
            "identifier" => &mut q.identifier,
            "usersig" => &mut q.usersig,
            "random" => &mut q.random,
            "contenttype" => &mut q.contenttype,
            _ => continue,
        };
        if slot.is_none() {
            *slot = Some(value.into_owned());
        }
    }
    q
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::{DeleteCallback, EndCall, GetCallback, GetRecordByFilter};

    const SIG: &str = "eJwtzM0KgkAUBeB3mW1h9*-_=";

    fn auth() -> QueryAuth<'static> {
        QueryAuth {
            sdkappid: 1400000000,
            identifier: "administrator",
            usersig: SIG,
        }
    }

    #[test]
    fn build_url_exact_output() {
        let url = build_url(
            "https://console.tim.qq.com",
            Command::GetCallInfo,
            &auth(),
            4294967295,
        );
        assert_eq!(
            url,
            "https://console.tim.qq.com/v4/call_engine_http_srv/get_call_info\
             ?sdkappid=1400000000&identifier=administrator\
             &usersig=eJwtzM0KgkAUBeB3mW1h9*-_%3D&random=4294967295&contenttype=json"
        );
    }

    #[test]
    fn build_url_trims_base_slash_and_percent_encodes() {
        let auth = QueryAuth {
            sdkappid: 1,
            identifier: "ad min&x=1/é",
            usersig: "a+b/c=?#",
        };
        let url = build_url("http://127.0.0.1:8787/", Command::DeleteCallback, &auth, 0);
        assert_eq!(
            url,
            "http://127.0.0.1:8787/v4/call_config/delete_callback?sdkappid=1\
             &identifier=ad+min%26x%3D1%2F%C3%A9&usersig=a%2Bb%2Fc%3D%3F%23\
             &random=0&contenttype=json"
        );
    }

    #[test]
    fn parse_query_round_trips_build_url() {
        let auth = QueryAuth {
            sdkappid: 1400000000,
            identifier: "ad min&x=1/é",
            usersig: "a+b/c=?#*-_",
        };
        let url = build_url("https://h", Command::EndCall, &auth, 123456);
        let (_, query) = url.split_once('?').unwrap();
        let q = parse_query(query);
        assert_eq!(
            q,
            RequestQuery {
                sdkappid: Some("1400000000".into()),
                identifier: Some("ad min&x=1/é".into()),
                usersig: Some("a+b/c=?#*-_".into()),
                random: Some("123456".into()),
                contenttype: Some("json".into()),
            }
        );
    }

    #[test]
    fn parse_query_ignores_unknown_keeps_first_and_tolerates_junk() {
        let q = parse_query("?foo=bar&sdkappid=1&sdkappid=2&usersig=%ZZ&&=x&random");
        assert_eq!(q.sdkappid.as_deref(), Some("1"));
        assert_eq!(q.usersig.as_deref(), Some("%ZZ"));
        assert_eq!(q.random.as_deref(), Some(""));
        assert_eq!(q.identifier, None);
        assert_eq!(q.contenttype, None);
        assert_eq!(parse_query(""), RequestQuery::default());
    }

    #[test]
    fn encode_body_is_braces_for_fieldless_commands() {
        assert_eq!(encode_body(&GetCallback {}), b"{}");
        assert_eq!(encode_body(&DeleteCallback {}), b"{}");
        assert_eq!(encode_body(&GetRecordByFilter::default()), b"{}");
    }

    #[test]
    fn encode_body_uses_tencent_field_names() {
        let body = encode_body(&EndCall {
            call_id: "c-1".into(),
        });
        assert_eq!(body, br#"{"CallId":"c-1"}"#);
    }

    #[test]
    fn debug_redacts_usersig() {
        let shown = format!("{:?}", auth());
        assert!(!shown.contains(SIG));
        assert!(shown.contains("administrator"));
    }
}
