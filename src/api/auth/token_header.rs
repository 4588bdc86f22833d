//! Which request header carries the caller's token: `Authorization: Bearer`
//! (RFC 6750), or Cloudflare Access's `Cf-Access-Jwt-Assertion`, which holds
//! the bare JWT. Exactly one is read; the other is ignored, so a token slipped
//! into the wrong header never counts.

use super::bearer::bearer_token;
use super::error::AuthError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TokenHeader {
    #[default]
    Authorization,
    CfAccessJwtAssertion,
}

impl TokenHeader {
    pub const CF_ACCESS: &'static str = "Cf-Access-Jwt-Assertion";

    pub fn name(self) -> &'static str {
        match self {
            Self::Authorization => "Authorization",
            Self::CfAccessJwtAssertion => Self::CF_ACCESS,
        }
    }

    /// `JWT_HEADER`'s value, case-insensitive like header names.
    pub fn parse(raw: &str) -> Option<Self> {
        [Self::Authorization, Self::CfAccessJwtAssertion]
            .into_iter()
            .find(|h| h.name().eq_ignore_ascii_case(raw.trim()))
    }

    /// The token in this header's value.
    pub fn token(self, value: Option<&str>) -> Result<&str, AuthError> {
        match self {
            Self::Authorization => bearer_token(value),
            Self::CfAccessJwtAssertion => {
                let token = value.map(str::trim).unwrap_or_default();
                if token.is_empty() {
                    Err(AuthError::Missing)
                } else if token.contains(char::is_whitespace) {
                    Err(AuthError::Malformed)
                } else {
                    Ok(token)
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_case_insensitively_and_nothing_else_does() {
        assert_eq!(
            TokenHeader::parse("cf-access-jwt-assertion"),
            Some(TokenHeader::CfAccessJwtAssertion)
        );
        assert_eq!(
            TokenHeader::parse(" Authorization "),
            Some(TokenHeader::Authorization)
        );
        for bad in ["X-Token", "Cookie", "CF_Authorization", ""] {
            assert_eq!(TokenHeader::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn cf_access_header_holds_the_bare_jwt() {
        let cf = TokenHeader::CfAccessJwtAssertion;
        assert_eq!(cf.token(Some(" a.b.c ")), Ok("a.b.c"));
        assert_eq!(cf.token(None), Err(AuthError::Missing));
        assert_eq!(cf.token(Some("")), Err(AuthError::Missing));
        assert_eq!(cf.token(Some("Bearer a.b.c")), Err(AuthError::Malformed));
        let auth = TokenHeader::Authorization;
        assert_eq!(auth.token(Some("Bearer a.b.c")), Ok("a.b.c"));
        assert_eq!(auth.token(Some("a.b.c")), Err(AuthError::Malformed));
    }
}
