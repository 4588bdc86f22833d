//! A path into a token's claims, as `JWT_USER_CLAIM` and `ADMIN_CLAIM`
//! write it: member names joined by dots (`app_metadata.tuid`). A name that
//! itself holds dots, like Auth0's namespaced `https://example.com/tuid`, is
//! written in square brackets: `[https://example.com/tuid]`, or
//! `[https://example.com/app].tuid` one level down. Parsed once at start-up;
//! a lookup walks a few map entries.

use serde_json::{Map, Value};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimPath {
    segments: Vec<String>,
}

/// Why a path cannot be read; the caller names the setting.
pub const PATH_RULE: &str = "must be claim names joined by `.`, a name holding `.` in square brackets (e.g. app_metadata.tuid or [https://example.com/tuid])";

impl Default for ClaimPath {
    /// `sub`, the registered subject claim.
    fn default() -> Self {
        Self {
            segments: vec!["sub".to_owned()],
        }
    }
}

impl ClaimPath {
    /// `None` when `raw` is empty, has an empty segment or an unclosed bracket.
    pub fn parse(raw: &str) -> Option<Self> {
        let mut segments = Vec::new();
        let mut rest = raw.trim();
        loop {
            let (segment, after) = match rest.strip_prefix('[') {
                Some(inner) => {
                    let close = inner.find(']')?;
                    (&inner[..close], &inner[close + 1..])
                }
                None => {
                    let end = rest.find(['.', '[', ']']).unwrap_or(rest.len());
                    (&rest[..end], &rest[end..])
                }
            };
            if segment.is_empty() {
                return None;
            }
            segments.push(segment.to_owned());
            if after.is_empty() {
                return Some(Self { segments });
            }
            rest = after.strip_prefix('.')?;
        }
    }

    /// Whether this is the plain `sub` claim.
    pub fn is_sub(&self) -> bool {
        self.segments.len() == 1 && self.segments[0] == "sub"
    }

    /// The value at this path, if every step is an object holding the name.
    pub fn find<'a>(&self, claims: &'a Map<String, Value>) -> Option<&'a Value> {
        let (first, rest) = self.segments.split_first()?;
        rest.iter()
            .try_fold(claims.get(first)?, |value, name| value.get(name))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn path(raw: &str) -> ClaimPath {
        ClaimPath::parse(raw).unwrap_or_else(|| panic!("{raw} should parse"))
    }

    #[test]
    fn dotted_and_bracketed_names() {
        assert_eq!(path("sub"), ClaimPath::default());
        assert!(path(" sub ").is_sub());
        assert_eq!(path("app_metadata.tuid").segments, ["app_metadata", "tuid"]);
        assert_eq!(
            path("[https://example.com/tuid]").segments,
            ["https://example.com/tuid"]
        );
        assert_eq!(
            path("[https://example.com/app].tuid").segments,
            ["https://example.com/app", "tuid"]
        );
        assert_eq!(path("a.[b.c].d").segments, ["a", "b.c", "d"]);
        assert_eq!(path("cognito:groups").segments, ["cognito:groups"]);
    }

    #[test]
    fn malformed_paths_are_refused() {
        for bad in [
            "", " ", ".", "a.", ".a", "a..b", "[]", "[a", "a]", "[a]b", "a[b]", "a.[b", "[a]..b",
        ] {
            assert_eq!(ClaimPath::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn finds_nested_values_only_through_objects() {
        let claims = json!({
            "sub": "u-1",
            "app_metadata": { "tuid": "alice", "roles": ["admin"] },
            "https://example.com/tuid": "bob",
            "https://example.com/app": { "tuid": "carol" },
            "list": [{ "x": 1 }],
        });
        let claims = claims.as_object().unwrap();
        let at = |raw: &str| path(raw).find(claims).cloned();
        assert_eq!(at("sub"), Some(json!("u-1")));
        assert_eq!(at("app_metadata.tuid"), Some(json!("alice")));
        assert_eq!(at("app_metadata.roles"), Some(json!(["admin"])));
        assert_eq!(at("[https://example.com/tuid]"), Some(json!("bob")));
        assert_eq!(at("[https://example.com/app].tuid"), Some(json!("carol")));
        // Unbracketed, the dots split the name and nothing is found.
        assert_eq!(at("https://example.com/tuid"), None);
        assert_eq!(at("app_metadata.missing"), None);
        assert_eq!(at("sub.deeper"), None);
        assert_eq!(at("list.0"), None, "no array indexes");
    }
}
