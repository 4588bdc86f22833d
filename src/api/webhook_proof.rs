//! Whether a webhook really comes from Tencent. CallKit signs nothing, so the
//! operator sets a token (Tencent's Chat/TUILiveKit scheme: `Sign` =
//! sha256hex(token + `RequestTime`), fresh within 60 s) or a key carried in
//! the configured URL. Both compare in constant time.

use callkit_core::secret::Secret;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// How far `RequestTime` may be from now, either way (seconds).
pub const MAX_SKEW_SECS: u64 = 60;

/// The query parameters the proof is read from.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct WebhookQuery {
    pub sdkappid: Option<String>,
    pub sign: Option<String>,
    pub request_time: Option<String>,
    pub key: Option<String>,
}

impl WebhookQuery {
    pub fn from_pairs(pairs: &[(String, String)]) -> Self {
        let get = |name: &str| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        };
        Self {
            sdkappid: get("SdkAppid"),
            sign: get("Sign"),
            request_time: get("RequestTime"),
            key: get("key"),
        }
    }
}

/// The configured secrets; at least one must be set to receive anything.
pub struct Secrets<'a> {
    pub token: Option<&'a Secret>,
    pub url_key: Option<&'a Secret>,
}

/// Why a webhook was refused. Never carries what was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Neither a valid `Sign` nor a valid `key`.
    Unproven,
    /// A valid `Sign` whose `RequestTime` is too far from now.
    Stale,
}

/// Accepts the webhook when either configured proof holds.
pub fn check(secrets: &Secrets, query: &WebhookQuery, now_secs: u64) -> Result<(), Refusal> {
    if let (Some(key), Some(sent)) = (secrets.url_key, query.key.as_deref()) {
        if same(key.expose().as_bytes(), sent.as_bytes()) {
            return Ok(());
        }
    }
    let (Some(token), Some(sign), Some(time)) = (
        secrets.token,
        query.sign.as_deref(),
        query.request_time.as_deref(),
    ) else {
        return Err(Refusal::Unproven);
    };
    if !same(sign_of(token.expose(), time).as_bytes(), sign.as_bytes()) {
        return Err(Refusal::Unproven);
    }
    match time.parse::<u64>() {
        Ok(t) if t.abs_diff(now_secs) <= MAX_SKEW_SECS => Ok(()),
        _ => Err(Refusal::Stale),
    }
}

/// `sha256(token + request_time)` as lower-case hex: a plain hash, not an HMAC.
pub fn sign_of(token: &str, request_time: &str) -> String {
    let digest = Sha256::new()
        .chain_update(token.as_bytes())
        .chain_update(request_time.as_bytes())
        .finalize();
    hex(&digest)
}

/// What makes a delivery the same delivery again: its proof and its body.
pub fn replay_key(query: &WebhookQuery, body: &[u8]) -> String {
    let mut hash = Sha256::new();
    for part in [&query.sign, &query.request_time] {
        hash.update(part.as_deref().unwrap_or("").as_bytes());
        hash.update([0]);
    }
    hash.update(body);
    hex(&hash.finalize())
}

/// Equal lengths and bytes, in time that depends on neither's content.
fn same(expected: &[u8], sent: &[u8]) -> bool {
    let a = Sha256::digest(expected);
    let b = Sha256::digest(sent);
    bool::from(a.ct_eq(&b))
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 15)] as char);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_669_872_112;

    fn query(sign: &str, time: &str, key: Option<&str>) -> WebhookQuery {
        WebhookQuery {
            sdkappid: Some("1400000000".into()),
            sign: Some(sign.into()),
            request_time: Some(time.into()),
            key: key.map(str::to_owned),
        }
    }

    #[test]
    fn matches_the_published_example() {
        assert_eq!(
            sign_of("xxxxyyyy", "1669872112"),
            "17773bc39a671d7b9aa835458704d2a6db81360a5940292b587d6d760d484061"
        );
    }

    #[test]
    fn a_token_proof_must_match_and_be_fresh() {
        let token = Secret::new("xxxxyyyy");
        let secrets = Secrets {
            token: Some(&token),
            url_key: None,
        };
        let good = sign_of("xxxxyyyy", "1669872112");
        assert_eq!(
            check(&secrets, &query(&good, "1669872112", None), NOW),
            Ok(())
        );
        assert_eq!(
            check(&secrets, &query(&good, "1669872112", None), NOW + 60),
            Ok(())
        );
        assert_eq!(
            check(&secrets, &query(&good, "1669872112", None), NOW + 61),
            Err(Refusal::Stale)
        );
        assert_eq!(
            check(&secrets, &query(&good, "1669872112", None), NOW - 61),
            Err(Refusal::Stale)
        );
        let forged = sign_of("guess", "1669872112");
        assert_eq!(
            check(&secrets, &query(&forged, "1669872112", None), NOW),
            Err(Refusal::Unproven)
        );
        assert_eq!(
            check(
                &secrets,
                &query(&good.to_uppercase(), "1669872112", None),
                NOW
            ),
            Err(Refusal::Unproven)
        );
        // The time is part of the signature: moving it breaks the proof.
        assert_eq!(
            check(&secrets, &query(&good, "1669872113", None), NOW),
            Err(Refusal::Unproven)
        );
        assert_eq!(
            check(&secrets, &WebhookQuery::default(), NOW),
            Err(Refusal::Unproven)
        );
    }

    #[test]
    fn a_key_proof_must_match_exactly() {
        let key = Secret::new("k3y-from-the-url");
        let secrets = Secrets {
            token: None,
            url_key: Some(&key),
        };
        assert_eq!(
            check(&secrets, &query("", "", Some("k3y-from-the-url")), NOW),
            Ok(())
        );
        for wrong in [
            "k3y-from-the-ur",
            "k3y-from-the-url ",
            "K3Y-FROM-THE-URL",
            "",
        ] {
            assert_eq!(
                check(&secrets, &query("", "", Some(wrong)), NOW),
                Err(Refusal::Unproven),
                "{wrong:?}"
            );
        }
        // A Sign proves nothing when no token is configured.
        let signed = query(&sign_of("", "1669872112"), "1669872112", None);
        assert_eq!(check(&secrets, &signed, NOW), Err(Refusal::Unproven));
    }

    #[test]
    fn either_proof_is_enough_when_both_are_set() {
        let token = Secret::new("t");
        let key = Secret::new("k");
        let secrets = Secrets {
            token: Some(&token),
            url_key: Some(&key),
        };
        assert_eq!(check(&secrets, &query("bad", "1", Some("k")), NOW), Ok(()));
        let t = NOW.to_string();
        assert_eq!(
            check(&secrets, &query(&sign_of("t", &t), &t, Some("bad")), NOW),
            Ok(())
        );
    }

    #[test]
    fn the_replay_key_covers_proof_and_body() {
        let a = query("s", "1", None);
        let b = query("s", "2", None);
        assert_eq!(replay_key(&a, b"{}"), replay_key(&a, b"{}"));
        assert_ne!(replay_key(&a, b"{}"), replay_key(&b, b"{}"));
        assert_ne!(replay_key(&a, b"{}"), replay_key(&a, b"{ }"));
        assert_eq!(replay_key(&a, b"{}").len(), 64);
    }

    #[test]
    fn the_query_is_read_by_its_documented_names() {
        let pairs = [
            ("SdkAppid", "1"),
            ("Sign", "s"),
            ("RequestTime", "2"),
            ("key", "k"),
            ("x", "y"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()));
        let q = WebhookQuery::from_pairs(&pairs);
        assert_eq!(
            q,
            WebhookQuery {
                sdkappid: Some("1".into()),
                sign: Some("s".into()),
                request_time: Some("2".into()),
                key: Some("k".into()),
            }
        );
    }
}
