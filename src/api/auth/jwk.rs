//! Reading a JWKS document (RFC 7517), or Google's map of key IDs to X.509
//! certificates, into the public keys usable with the pinned algorithm.
//! Entries of other types, uses, operations or algorithms, and entries with
//! unusable shapes, are skipped rather than failing the set.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::config::JwtAlg;
use super::jwks::JwksError;
use super::jws::decode;
use super::signature::PublicKey;
use super::x509;

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

/// The usable keys of a document with their `kid`s, in document order: a
/// JWKS (`{"keys": [...]}`), or Google's `{"<kid>": "<PEM certificate>"}`
/// map, which Firebase documents for its ID tokens (RS256 only).
pub fn parse_jwks(doc: &str, alg: JwtAlg) -> Result<Vec<(Option<String>, PublicKey)>, JwksError> {
    if doc.len() > MAX_JWKS_BYTES {
        return Err(JwksError::Invalid);
    }
    let doc: Map<String, Value> = serde_json::from_str(doc).map_err(|_| JwksError::Invalid)?;
    let keys: Vec<_> = match doc.get("keys") {
        Some(Value::Array(keys)) => keys
            .iter()
            .filter_map(|raw| RawJwk::deserialize(raw).ok())
            .filter_map(|jwk| Some((jwk.kid.clone(), usable_key(&jwk, alg)?)))
            .collect(),
        Some(_) => return Err(JwksError::Invalid),
        None if alg == JwtAlg::Rs256 => certificate_keys(&doc),
        None => Vec::new(),
    };
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
    rsa_checked(&decode(n)?, &decode(e)?).then(|| PublicKey::Rsa {
        n: n.clone(),
        e: e.clone(),
    })
}

/// The RSA keys of a `{kid: certificate}` map; other members are skipped.
fn certificate_keys(doc: &Map<String, Value>) -> Vec<(Option<String>, PublicKey)> {
    doc.iter()
        .filter_map(|(kid, pem)| {
            let (n, e) = x509::rsa_public_key(pem.as_str()?)?;
            let key = PublicKey::Rsa {
                n: URL_SAFE_NO_PAD.encode(&n),
                e: URL_SAFE_NO_PAD.encode(&e),
            };
            rsa_checked(&n, &e).then(|| (Some(kid.clone()), key))
        })
        .collect()
}

/// A modulus of 2048-8192 bits and a short, non-empty exponent.
fn rsa_checked(n: &[u8], e: &[u8]) -> bool {
    let significant = n.iter().skip_while(|b| **b == 0).count();
    let e_ok = !e.is_empty() && e.len() <= MAX_RSA_EXPONENT_BYTES;
    e_ok && (MIN_RSA_MODULUS_BYTES..=MAX_RSA_MODULUS_BYTES).contains(&significant)
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
    fn reads_a_map_of_kids_to_certificates_for_rs256() {
        const CERT: &str = include_str!("testdata/rsa_cert.pem");
        const EC_CERT: &str = include_str!("testdata/ec_cert.pem");
        let doc =
            serde_json::json!({ "k1": CERT, "k2": EC_CERT, "k3": "not a certificate", "k4": 7 });
        let keys = parse_jwks(&doc.to_string(), JwtAlg::Rs256).unwrap();
        assert_eq!(kids(&keys), ["k1"]);
        let jwks = parse_jwks(JWKS, JwtAlg::Rs256).unwrap();
        assert_eq!(keys[0].1, jwks[0].1, "the same key as the JWK form");
        assert_eq!(
            parse_jwks(&doc.to_string(), JwtAlg::Es256).err(),
            Some(JwksError::NoUsableKey)
        );
        assert_eq!(
            parse_jwks(r#"{"keys": {"k1": 1}}"#, JwtAlg::Rs256).err(),
            Some(JwksError::Invalid)
        );
        assert_eq!(
            parse_jwks("[]", JwtAlg::Rs256).err(),
            Some(JwksError::Invalid)
        );
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
