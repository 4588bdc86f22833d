//! Which URLs may carry a credential (the upstream base URL, which gets the
//! admin UserSig; a JWKS URL, whose keys decide who is signed in).
//!
//! A strict reading rather than a URL parser: anything a WHATWG parser could
//! read differently from this code (user info, backslashes, whitespace,
//! percent-escapes in the host) is refused outright, so the host checked is
//! the host `fetch` connects to. `http://localhost:80@evil.example` is
//! refused, not mistaken for localhost.

/// Why a URL was refused. A fixed sentence: the URL itself is never echoed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct UrlRefused(pub &'static str);

/// Checks `url` (already trimmed): `https://host[:port][/path]`, or
/// `http://` to this machine only (localhost, 127.0.0.0/8, [::1]).
/// A query is accepted only when `allow_query`; a fragment never.
pub fn check(url: &str, allow_query: bool) -> Result<(), UrlRefused> {
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    let (rest, clear_text) = if lower.starts_with("https://") {
        (&url["https://".len()..], false)
    } else if lower.starts_with("http://") {
        (&url["http://".len()..], true)
    } else {
        return Err(UrlRefused("must start with http:// or https://"));
    };
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(UrlRefused("must not contain whitespace"));
    }
    // URL parsers read `\` as `/` and everything before `@` as a user name.
    if url.contains(['\\', '@']) {
        return Err(UrlRefused("must not contain user info or backslashes"));
    }
    if url.contains('#') {
        return Err(UrlRefused("must not have a fragment"));
    }
    if !allow_query && url.contains('?') {
        return Err(UrlRefused("must not have a query"));
    }
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    if authority.is_empty() || authority.starts_with(':') {
        return Err(UrlRefused("missing host"));
    }
    let plain = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b':' | b'[' | b']');
    if !authority.bytes().all(plain) {
        return Err(UrlRefused(
            "the host has characters a URL parser would rewrite",
        ));
    }
    if clear_text && !is_loopback_authority(authority) {
        return Err(UrlRefused(
            "http:// is allowed only for localhost, 127.0.0.0/8 or [::1]",
        ));
    }
    Ok(())
}

/// `host[:port]` names this machine: `localhost`, an address in
/// 127.0.0.0/8 in dotted-quad form, or `[::1]`. Anything else, including
/// other spellings of those addresses, is not trusted with clear text.
fn is_loopback_authority(authority: &str) -> bool {
    let (host, port) = match authority.strip_prefix('[') {
        Some(v6) => match v6.split_once(']') {
            Some((host, after)) => (
                host,
                after.strip_prefix(':').or(after.is_empty().then_some("")),
            ),
            None => return false,
        },
        None => match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, Some("")),
        },
    };
    let port_ok = port
        .is_some_and(|p| p.is_empty() || (p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit())));
    let host_ok = if authority.starts_with('[') {
        host.parse::<std::net::Ipv6Addr>()
            .is_ok_and(|ip| ip.is_loopback())
    } else {
        host.eq_ignore_ascii_case("localhost")
            || host
                .parse::<std::net::Ipv4Addr>()
                .is_ok_and(|ip| ip.is_loopback())
    };
    port_ok && host_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_anywhere_clear_text_only_to_this_machine() {
        for ok in [
            "https://proxy.example:8443/tencent",
            "https://id.example/jwks",
            "http://localhost",
            "http://LOCALHOST:8790/prefix",
            "http://127.0.0.1:8790",
            "http://127.9.8.7/jwks",
            "http://[::1]:8790",
            "http://[::1]",
            "HTTPS://ID.EXAMPLE/jwks",
        ] {
            assert_eq!(check(ok, false), Ok(()), "{ok}");
        }
    }

    #[test]
    fn anything_a_parser_could_read_another_way_is_refused() {
        for bad in [
            "http://localhost:80@evil.example",
            "http://localhost@idp.example/jwks",
            "http://[::1]@idp.example/jwks",
            "https://user:secret@proxy.example",
            "http://127.0.0.1\\@evil.example",
            "http://127.0.0.1\\evil.example",
            "http://idp.example/jwks?x=@localhost",
            "http://idp.example/jwks#@localhost",
            "http://localhost.evil.example",
            "http://127.0.0.1.evil.example",
            "http://%6cocalhost/",
            "http://proxy.example",
            "http://10.0.0.1:8790",
            "http://[::2]:80",
            "http://[::1",
            "http://localhost:80x",
            "http://ho st",
            "http://host\t/x",
            "https://",
            "https://:443/x",
            "ftp://localhost/jwks",
            "file:///etc/jwks.json",
            "localhost/jwks",
            "not a url",
            "",
        ] {
            assert!(check(bad, true).is_err(), "{bad}");
        }
    }

    #[test]
    fn query_only_where_allowed_and_the_url_is_never_echoed() {
        assert_eq!(check("https://id.example/jwks?tenant=x", true), Ok(()));
        let refused = check("https://id.example/x?usersig=secret", false).unwrap_err();
        assert!(!refused.to_string().contains("secret"));
    }
}
