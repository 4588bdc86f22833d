//! Reading a JWKS document (RFC 7517) into the public keys usable with the
//! pinned algorithm. Entries of other types, uses, operations or algorithms,
//! and entries with unusable shapes, are skipped rather than failing the set.

use serde::Deserialize;

use super::config::JwtAlg;
use super::jwks::JwksError;
use super::jws::decode;
use super::signature::PublicKey;

/// Upper bound on a JWKS document; real ones are a few KiB.
pub const MAX_JWKS_BYTES: usize = 64 * 1024;
/// RSA keys below 2048 bits are refused.
const MIN_RSA_MODULUS_BYTES: usize = 256;
/// Above RSA-8192 a key only costs verification time.
const MAX_RSA_MODULUS_BYTES: usize = 1024;
/// Public exponents are small (65537); a long one is a malformed key.
const MAX_RSA_EXPONENT_BYTES: usize = 8;
/// A P-256 coordinate.
const P256_COORD_BYTES: usize = 32;

#[derive(Deserialize)]
struct RawSet {
    keys: Vec<serde_json::Value>,
}

#[derive(Deserialize)]
struct RawJwk {
    kty: String,
    kid: Option<String>,
    #[serde(rename = "use")]
    use_: Option<String>,
    alg: Option<String>,
    key_ops: Option<Vec<String>>,
    n: Option<String>,
    e: Option<String>,
    crv: Option<String>,
    x: Option<String>,
    y: Option<String>,
}

/// The usable keys of a document with their `kid`s, in document order.
pub fn parse_jwks(doc: &str, alg: JwtAlg) -> Result<Vec<(Option<String>, PublicKey)>, JwksError> {
    if doc.len() > MAX_JWKS_BYTES {
        return Err(JwksError::Invalid);
    }
    let set: RawSet = serde_json::from_str(doc).map_err(|_| JwksError::Invalid)?;
    let keys: Vec<_> = set
        .keys
        .into_iter()
        .filter_map(|raw| serde_json::from_value::<RawJwk>(raw).ok())
        .filter_map(|jwk| Some((jwk.kid.clone(), usable_key(&jwk, alg)?)))
        .collect();
    if keys.is_empty() {
        return Err(JwksError::NoUsableKey);
    }
    Ok(keys)
}

fn usable_key(jwk: &RawJwk, alg: JwtAlg) -> Option<PublicKey> {
    let for_signing = jwk.use_.as_deref().is_none_or(|u| u == "sig");
    let may_verify = jwk
        .key_ops
        .as_ref()
        .is_none_or(|ops| ops.iter().any(|op| op == "verify"));
    let alg_ok = jwk.alg.as_deref().is_none_or(|a| a == alg.as_str());
    if !(for_signing && may_verify && alg_ok) {
        return None;
    }
    match (alg, jwk.kty.as_str()) {
        (JwtAlg::Rs256, "RSA") => rsa_key(jwk),
        (JwtAlg::Es256, "EC") if jwk.crv.as_deref() == Some("P-256") => p256_key(jwk),
        _ => None,
    }
}

fn rsa_key(jwk: &RawJwk) -> Option<PublicKey> {
    let (n, e) = (jwk.n.as_ref()?, jwk.e.as_ref()?);
    let n_bytes = decode(n)?;
    let significant = n_bytes.iter().skip_while(|b| **b == 0).count();
    let e_bytes = decode(e)?;
    let e_ok = !e_bytes.is_empty() && e_bytes.len() <= MAX_RSA_EXPONENT_BYTES;
    let n_ok = (MIN_RSA_MODULUS_BYTES..=MAX_RSA_MODULUS_BYTES).contains(&significant);
    (n_ok && e_ok).then(|| PublicKey::Rsa {
        n: n.clone(),
        e: e.clone(),
    })
}

fn p256_key(jwk: &RawJwk) -> Option<PublicKey> {
    let (x, y) = (jwk.x.as_ref()?, jwk.y.as_ref()?);
    let coord_ok = |c: &str| decode(c).is_some_and(|b| b.len() == P256_COORD_BYTES);
    (coord_ok(x) && coord_ok(y)).then(|| PublicKey::P256 {
        x: x.clone(),
        y: y.clone(),
    })
}

#[cfg(test)]
mod tests {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;

    use super::*;

    const JWKS: &str = include_str!("testdata/jwks.json");

    fn kids(keys: &[(Option<String>, PublicKey)]) -> Vec<&str> {
        keys.iter()
            .map(|(kid, _)| kid.as_deref().unwrap_or(""))
            .collect()
    }

    #[test]
    fn filters_keys_by_pinned_algorithm() {
        let rsa = parse_jwks(JWKS, JwtAlg::Rs256).unwrap();
        assert_eq!(kids(&rsa), ["rsa-1"]);
        assert!(matches!(rsa[0].1, PublicKey::Rsa { .. }));
        let ec = parse_jwks(JWKS, JwtAlg::Es256).unwrap();
        assert_eq!(kids(&ec), ["ec-1"]);
        assert!(matches!(ec[0].1, PublicKey::P256 { .. }));
        assert!(parse_jwks(JWKS, JwtAlg::Hs256).is_err());
    }

    #[test]
    fn skips_unusable_entries() {
        let set: serde_json::Value = serde_json::from_str(JWKS).unwrap();
        let variant = |i: usize, field: &str, value: serde_json::Value| {
            let mut key = set["keys"][i].clone();
            key[field] = value;
            key
        };
        let rsa_unusable = [
            variant(0, "use", "enc".into()),
            variant(0, "alg", "RS512".into()),
            variant(0, "key_ops", serde_json::json!(["sign"])),
            variant(0, "n", URL_SAFE_NO_PAD.encode([0xff_u8; 128]).into()),
            variant(
                0,
                "n",
                URL_SAFE_NO_PAD
                    .encode([0xff_u8; MAX_RSA_MODULUS_BYTES + 1])
                    .into(),
            ),
            variant(0, "e", "".into()),
            variant(0, "n", 42.into()),
            serde_json::json!({"kty": "OKP", "crv": "Ed448", "x": "AA"}),
        ];
        let doc = serde_json::json!({ "keys": rsa_unusable });
        assert_eq!(
            parse_jwks(&doc.to_string(), JwtAlg::Rs256).err(),
            Some(JwksError::NoUsableKey)
        );
        let ec_unusable = [
            variant(1, "crv", "P-384".into()),
            variant(1, "x", URL_SAFE_NO_PAD.encode([1u8; 31]).into()),
            variant(1, "y", "not base64!".into()),
            variant(1, "kty", "RSA".into()),
        ];
        let doc = serde_json::json!({ "keys": ec_unusable });
        assert_eq!(
            parse_jwks(&doc.to_string(), JwtAlg::Es256).err(),
            Some(JwksError::NoUsableKey)
        );
        let ok =
            serde_json::json!({ "keys": [variant(0, "key_ops", serde_json::json!(["verify"]))] });
        assert!(parse_jwks(&ok.to_string(), JwtAlg::Rs256).is_ok());
        assert_eq!(
            parse_jwks("<html>", JwtAlg::Rs256).err(),
            Some(JwksError::Invalid)
        );
        let huge = format!("{{\"keys\":[],\"pad\":\"{}\"}}", "x".repeat(MAX_JWKS_BYTES));
        assert_eq!(
            parse_jwks(&huge, JwtAlg::Rs256).err(),
            Some(JwksError::Invalid)
        );
    }
}
