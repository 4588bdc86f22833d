//! CORS for browser frontends on other origins: an exact-match allow-list
//! (`ALLOWED_ORIGINS`), never `*`. Bearer tokens travel in a header, not
//! cookies, so credentials are never allowed.

pub use crate::platform::settings::names::ALLOWED_ORIGINS;
use crate::platform::settings::{optional, ConfigError, Get};

/// Status for an answered preflight.
pub const PREFLIGHT_STATUS: u16 = 204;

const ALLOW_METHODS: &str = "GET, POST, PUT, DELETE";
const ALLOW_HEADERS: &str = "Authorization, Content-Type";
const EXPOSE_HEADERS: &str = "X-Tencent-Request-Id, Retry-After";
const MAX_AGE_SECS: &str = "600";

pub type HeaderList = Vec<(&'static str, String)>;

const WILDCARD: &str = "must list exact origins; `*` and wildcards are not accepted";

fn not_an_origin(index: usize) -> ConfigError {
    ConfigError::invalid(
        ALLOWED_ORIGINS,
        format!("entry {index} is not a scheme://host[:port] origin (http or https, no path)"),
    )
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cors {
    allowed: Vec<String>,
}

impl Cors {
    /// A missing or empty `ALLOWED_ORIGINS` allows no cross-origin caller;
    /// the bundled console is same-origin and needs none.
    pub fn from_env(get: Get<'_>) -> Result<Self, ConfigError> {
        Self::parse(&optional(get, ALLOWED_ORIGINS).unwrap_or_default())
    }

    pub fn parse(list: &str) -> Result<Self, ConfigError> {
        let mut allowed = Vec::new();
        for (index, entry) in list.split(',').map(str::trim).enumerate() {
            if entry.is_empty() {
                continue;
            }
            if entry.contains('*') {
                return Err(ConfigError::invalid(ALLOWED_ORIGINS, WILDCARD));
            }
            let origin = normalize_origin(entry).ok_or_else(|| not_an_origin(index + 1))?;
            if !allowed.contains(&origin) {
                allowed.push(origin);
            }
        }
        Ok(Self { allowed })
    }

    pub fn is_allowed(&self, origin: &str) -> bool {
        self.allowed.iter().any(|o| o == origin)
    }

    /// Headers for an ordinary (non-preflight) response.
    pub fn response_headers(&self, origin: Option<&str>) -> HeaderList {
        let mut headers = vec![("Vary", "Origin".to_owned())];
        if let Some(origin) = origin.filter(|o| self.is_allowed(o)) {
            headers.push(("Access-Control-Allow-Origin", origin.to_owned()));
            headers.push(("Access-Control-Expose-Headers", EXPOSE_HEADERS.to_owned()));
        }
        headers
    }

    /// Headers for a preflight answer (send with [`PREFLIGHT_STATUS`]). A
    /// disallowed origin gets no grant, so the browser blocks the request.
    pub fn preflight_headers(&self, origin: Option<&str>) -> HeaderList {
        let mut headers = vec![("Vary", "Origin".to_owned())];
        if let Some(origin) = origin.filter(|o| self.is_allowed(o)) {
            headers.push(("Access-Control-Allow-Origin", origin.to_owned()));
            headers.push(("Access-Control-Allow-Methods", ALLOW_METHODS.to_owned()));
            headers.push(("Access-Control-Allow-Headers", ALLOW_HEADERS.to_owned()));
            headers.push(("Access-Control-Max-Age", MAX_AGE_SECS.to_owned()));
        }
        headers
    }
}

/// A CORS preflight is an OPTIONS request carrying `Access-Control-Request-Method`.
pub fn is_preflight(method: &str, access_control_request_method: Option<&str>) -> bool {
    method.eq_ignore_ascii_case("OPTIONS") && access_control_request_method.is_some()
}

/// The serialized form browsers send in `Origin`: lowercase scheme and host,
/// default port omitted. `None` for anything that is not such an origin.
fn normalize_origin(raw: &str) -> Option<String> {
    let (scheme, rest) = raw.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "http" => "80",
        "https" => "443",
        _ => return None,
    };
    let (host, port) = if let Some(v6) = rest.strip_prefix('[') {
        let (addr, after) = v6.split_once(']')?;
        let valid = !addr.is_empty()
            && addr
                .chars()
                .all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.');
        if !valid {
            return None;
        }
        let port = match after {
            "" => None,
            _ => Some(after.strip_prefix(':')?),
        };
        (format!("[{}]", addr.to_ascii_lowercase()), port)
    } else {
        let (host, port) = match rest.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (rest, None),
        };
        let valid = !host.is_empty()
            && !host.starts_with(['.', '-'])
            && !host.ends_with(['-'])
            && host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
        if !valid {
            return None;
        }
        (host.to_ascii_lowercase(), port)
    };
    let port = match port {
        None => None,
        Some(p) => {
            let number = p
                .parse::<u16>()
                .ok()
                .filter(|n| *n > 0 && p.bytes().all(|b| b.is_ascii_digit()))?;
            (number.to_string() != default_port).then_some(number)
        }
    };
    Some(match port {
        Some(port) => format!("{scheme}://{host}:{port}"),
        None => format!("{scheme}://{host}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get<'a>(headers: &'a HeaderList, name: &str) -> Option<&'a str> {
        headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    fn cors() -> Cors {
        Cors::parse("https://app.example, http://localhost:5173,HTTPS://Admin.Example:443").unwrap()
    }

    #[test]
    fn allowed_origin_gets_grant() {
        let headers = cors().response_headers(Some("https://app.example"));
        assert_eq!(
            get(&headers, "Access-Control-Allow-Origin"),
            Some("https://app.example")
        );
        assert_eq!(get(&headers, "Vary"), Some("Origin"));
        assert_eq!(
            get(&headers, "Access-Control-Expose-Headers"),
            Some("X-Tencent-Request-Id, Retry-After")
        );
        assert!(cors().is_allowed("http://localhost:5173"));
        // Normalised to what browsers send.
        assert!(cors().is_allowed("https://admin.example"));
    }

    #[test]
    fn disallowed_origin_gets_only_vary() {
        for origin in [
            Some("https://evil.example"),
            Some("https://app.example.evil.example"),
            Some("http://app.example"),
            Some("https://app.example:8443"),
            Some("null"),
            None,
        ] {
            let headers = cors().response_headers(origin);
            assert_eq!(headers, vec![("Vary", "Origin".to_owned())], "{origin:?}");
            let preflight = cors().preflight_headers(origin);
            assert_eq!(preflight, vec![("Vary", "Origin".to_owned())], "{origin:?}");
        }
    }

    #[test]
    fn preflight_is_answered_explicitly() {
        assert!(is_preflight("OPTIONS", Some("PUT")));
        assert!(!is_preflight("OPTIONS", None));
        assert!(!is_preflight("GET", Some("PUT")));
        let headers = cors().preflight_headers(Some("http://localhost:5173"));
        assert_eq!(
            get(&headers, "Access-Control-Allow-Origin"),
            Some("http://localhost:5173")
        );
        assert_eq!(
            get(&headers, "Access-Control-Allow-Methods"),
            Some("GET, POST, PUT, DELETE")
        );
        assert_eq!(
            get(&headers, "Access-Control-Allow-Headers"),
            Some("Authorization, Content-Type")
        );
        assert_eq!(get(&headers, "Access-Control-Max-Age"), Some("600"));
        assert_eq!(get(&headers, "Vary"), Some("Origin"));
        assert_eq!(get(&headers, "Access-Control-Allow-Credentials"), None);
        assert_eq!(PREFLIGHT_STATUS, 204);
    }

    #[test]
    fn wildcards_are_rejected() {
        let wildcard = Err(ConfigError::invalid(ALLOWED_ORIGINS, WILDCARD));
        assert_eq!(Cors::parse("*"), wildcard);
        assert_eq!(Cors::parse("https://a.example, *"), wildcard);
        assert_eq!(Cors::parse("https://*.example"), wildcard);
    }

    #[test]
    fn invalid_origins_are_named_by_position() {
        for bad in [
            "app.example",
            "https://app.example/",
            "https://app.example/path",
            "ftp://app.example",
            "https://user@app.example",
            "https://app.example:0",
            "https://app.example:99999",
            "https://app.example:+80",
            "https://",
            "null",
            "https://[zz]",
        ] {
            assert_eq!(
                Cors::parse(&format!("https://ok.example,{bad}")),
                Err(not_an_origin(2)),
                "{bad}"
            );
        }
        let err = Cors::parse("https://ok.example,https://secret-host.example/x").unwrap_err();
        assert!(!err.to_string().contains("secret-host"));
    }

    #[test]
    fn ipv6_default_ports_and_empty_config() {
        let cors = Cors::parse("http://[::1]:8787, http://example.com:80").unwrap();
        assert!(cors.is_allowed("http://[::1]:8787"));
        assert!(cors.is_allowed("http://example.com"));
        let none = Cors::from_env(&|_| None).unwrap();
        assert_eq!(none.response_headers(Some("https://app.example")).len(), 1);
    }
}
