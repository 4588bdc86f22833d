//! Compact JWS parsing (RFC 7515 §7.1), strict: exactly three base64url
//! parts, unpadded and canonical, within size caps. Nothing here trusts the
//! token: the header is only read so the verifier can refuse it.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::error::AuthError;

/// Longer tokens are refused before any decoding work.
pub const MAX_TOKEN_LEN: usize = 8 * 1024;
/// An RSA-8192 signature; real ones are 64 (ES256) to 512 (RSA-4096) bytes.
const MAX_SIGNATURE_BYTES: usize = 1024;

/// The header fields the verifier looks at. Duplicate fields are an error.
#[derive(Debug, Deserialize)]
pub struct JoseHeader {
    pub alg: String,
    #[serde(default)]
    pub kid: Option<String>,
    #[serde(default)]
    pub crit: Option<Value>,
}

/// A token split and decoded, signature not yet checked.
#[derive(Debug)]
pub struct CompactJws<'a> {
    pub header: JoseHeader,
    pub claims: Map<String, Value>,
    /// `base64url(header) "." base64url(payload)`: what the signature covers.
    pub signing_input: &'a str,
    pub signature: Vec<u8>,
}

/// Splits the token and decodes its header. The payload and signature are
/// decoded by [`decode_rest`] once the header passed its checks.
pub fn parse_header(token: &str) -> Result<(JoseHeader, [&str; 3]), AuthError> {
    let valid_chars = token
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if token.len() > MAX_TOKEN_LEN || !valid_chars {
        return Err(AuthError::Malformed);
    }
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(AuthError::Malformed);
    };
    if header.is_empty() || payload.is_empty() {
        return Err(AuthError::Malformed);
    }
    let bytes = decode(header).ok_or(AuthError::Malformed)?;
    let parsed = serde_json::from_slice(&bytes).map_err(|_| AuthError::Malformed)?;
    Ok((parsed, [header, payload, signature]))
}

/// Decodes the claims (a JSON object) and the signature bytes.
pub fn decode_rest<'a>(
    token: &'a str,
    header: JoseHeader,
    parts: [&str; 3],
) -> Result<CompactJws<'a>, AuthError> {
    let [head, payload, signature] = parts;
    let claims_bytes = decode(payload).ok_or(AuthError::Malformed)?;
    let claims = serde_json::from_slice::<Map<String, Value>>(&claims_bytes)
        .map_err(|_| AuthError::Malformed)?;
    // A signature that is not even base64url cannot verify; the caller hears
    // "bad signature" as it did before, not "malformed".
    let signature = decode(signature)
        .filter(|s| s.len() <= MAX_SIGNATURE_BYTES)
        .ok_or(AuthError::BadSignature)?;
    Ok(CompactJws {
        header,
        claims,
        signing_input: &token[..head.len() + 1 + payload.len()],
        signature,
    })
}

/// Strict base64url: URL-safe alphabet only, no padding, no stray trailing
/// bits (so each value has exactly one encoding).
pub fn decode(part: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(part).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(s: &str) -> String {
        URL_SAFE_NO_PAD.encode(s)
    }

    #[test]
    fn splits_into_exactly_three_parts() {
        let token = format!(
            "{}.{}.{}",
            b64(r#"{"alg":"HS256"}"#),
            b64(r#"{"sub":"a"}"#),
            b64("sig")
        );
        let (header, parts) = parse_header(&token).unwrap();
        assert_eq!(header.alg, "HS256");
        let jws = decode_rest(&token, header, parts).unwrap();
        assert_eq!(jws.signature, b"sig");
        assert_eq!(jws.claims["sub"], "a");
        assert_eq!(jws.signing_input, token.rsplit_once('.').unwrap().0);
        for bad in [
            format!("{token}.x"),
            token.replacen('.', "", 1),
            String::new(),
            ".a.b".into(),
        ] {
            assert_eq!(
                parse_header(&bad).err(),
                Some(AuthError::Malformed),
                "{bad}"
            );
        }
    }

    #[test]
    fn base64url_is_strict() {
        assert_eq!(decode("YQ"), Some(b"a".to_vec()));
        assert_eq!(decode("YQ=="), None, "padding");
        assert_eq!(decode("YR"), None, "non-canonical trailing bits");
        assert_eq!(decode("Y+/"), None, "standard alphabet");
        assert_eq!(decode("Y"), None, "impossible length");
        let padded = format!("{}=.{}.x", b64(r#"{"alg":"HS256"}"#), b64("{}"));
        assert_eq!(parse_header(&padded).err(), Some(AuthError::Malformed));
    }

    #[test]
    fn header_and_claims_must_be_json_objects() {
        let no_alg = format!("{}.{}.x", b64(r#"{"typ":"JWT"}"#), b64("{}"));
        assert_eq!(parse_header(&no_alg).err(), Some(AuthError::Malformed));
        let dup = format!("{}.{}.x", b64(r#"{"alg":"HS256","alg":"none"}"#), b64("{}"));
        assert_eq!(parse_header(&dup).err(), Some(AuthError::Malformed));
        let array = format!("{}.{}.AA", b64(r#"{"alg":"HS256"}"#), b64("[1]"));
        let (header, parts) = parse_header(&array).unwrap();
        assert_eq!(
            decode_rest(&array, header, parts).err(),
            Some(AuthError::Malformed)
        );
    }

    #[test]
    fn sizes_are_capped() {
        let long = "a".repeat(MAX_TOKEN_LEN + 1);
        assert_eq!(parse_header(&long).err(), Some(AuthError::Malformed));
        let big_sig = URL_SAFE_NO_PAD.encode([7u8; MAX_SIGNATURE_BYTES + 1]);
        let token = format!("{}.{}.{big_sig}", b64(r#"{"alg":"RS256"}"#), b64("{}"));
        let (header, parts) = parse_header(&token).unwrap();
        assert_eq!(
            decode_rest(&token, header, parts).err(),
            Some(AuthError::BadSignature)
        );
    }
}
