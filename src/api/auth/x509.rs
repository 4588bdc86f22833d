//! The RSA public key inside an X.509 certificate (RFC 5280 §4.1), for key
//! sets published as `{ "<kid>": "-----BEGIN CERTIFICATE-----…" }`, the form
//! Firebase documents for its ID-token keys. Only the path to the key is
//! walked (a few DER steps); as with a JWKS, the key is trusted because of the
//! HTTPS URL it came from, not because of the certificate's own signature.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

/// rsaEncryption, 1.2.840.113549.1.1.1 (RFC 8017 appendix C).
const RSA_ENCRYPTION: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
const SEQUENCE: u8 = 0x30;
const INTEGER: u8 = 0x02;
const BIT_STRING: u8 = 0x03;
const OID: u8 = 0x06;
/// `[0] EXPLICIT Version`, present in v2 and v3 certificates.
const VERSION: u8 = 0xa0;
/// serialNumber, signature, issuer, validity, subject: skipped to reach the key.
const FIELDS_BEFORE_KEY: usize = 5;

/// The key's `(n, e)` as unsigned big-endian bytes; `None` for a certificate
/// of another key type or anything that does not parse.
pub fn rsa_public_key(pem: &str) -> Option<(Vec<u8>, Vec<u8>)> {
    let der = pem_body(pem)?;
    let (certificate, _) = expect(&der, SEQUENCE)?;
    let (mut tbs, _) = expect(certificate, SEQUENCE)?;
    if tbs.first() == Some(&VERSION) {
        tbs = tlv(tbs)?.2;
    }
    for _ in 0..FIELDS_BEFORE_KEY {
        tbs = tlv(tbs)?.2;
    }
    let (spki, _) = expect(tbs, SEQUENCE)?;
    let (algorithm, key_bits) = expect(spki, SEQUENCE)?;
    if expect(algorithm, OID)?.0 != RSA_ENCRYPTION {
        return None;
    }
    // A key's BIT STRING has no unused bits.
    let (bits, _) = expect(key_bits, BIT_STRING)?;
    let (rsa, _) = expect(bits.strip_prefix(&[0])?, SEQUENCE)?;
    let (n, rest) = expect(rsa, INTEGER)?;
    let (e, _) = expect(rest, INTEGER)?;
    Some((unsigned(n), unsigned(e)))
}

fn pem_body(pem: &str) -> Option<Vec<u8>> {
    let body = pem
        .trim()
        .strip_prefix("-----BEGIN CERTIFICATE-----")?
        .strip_suffix("-----END CERTIFICATE-----")?;
    let base64: String = body.split_whitespace().collect();
    STANDARD.decode(base64).ok()
}

/// One DER element: its tag, its contents and what follows it. Definite
/// lengths of at most four bytes only (a key set is capped at 64 KiB anyway).
fn tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, mut rest) = rest.split_first()?;
    let len = if first < 0x80 {
        usize::from(first)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 || rest.len() < count {
            return None;
        }
        let (bytes, after) = rest.split_at(count);
        rest = after;
        bytes
            .iter()
            .fold(0usize, |len, b| (len << 8) | usize::from(*b))
    };
    (rest.len() >= len).then(|| {
        let (contents, after) = rest.split_at(len);
        (tag, contents, after)
    })
}

fn expect(input: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    let (found, contents, rest) = tlv(input)?;
    (found == tag).then_some((contents, rest))
}

/// A DER INTEGER's magnitude: without the sign byte a high bit needs.
fn unsigned(int: &[u8]) -> Vec<u8> {
    let start = int.iter().position(|b| *b != 0).unwrap_or(int.len());
    int[start..].to_vec()
}

#[cfg(test)]
mod tests {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    use super::*;

    const RSA_CERT: &str = include_str!("testdata/rsa_cert.pem");
    const EC_CERT: &str = include_str!("testdata/ec_cert.pem");
    const JWKS: &str = include_str!("testdata/jwks.json");

    #[test]
    fn reads_the_key_of_an_rsa_certificate() {
        let (n, e) = rsa_public_key(RSA_CERT).expect("an RSA certificate");
        // The same key as the test JWKS's `rsa-1`.
        let jwks: serde_json::Value = serde_json::from_str(JWKS).unwrap();
        assert_eq!(URL_SAFE_NO_PAD.encode(&n), jwks["keys"][0]["n"]);
        assert_eq!(URL_SAFE_NO_PAD.encode(&e), jwks["keys"][0]["e"]);
        assert_eq!(n.len(), 256);
    }

    #[test]
    fn anything_else_is_none() {
        assert_eq!(rsa_public_key(EC_CERT), None, "an EC key");
        let der = pem_body(RSA_CERT).unwrap();
        let pem = |bytes: &[u8]| {
            format!(
                "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----",
                STANDARD.encode(bytes)
            )
        };
        for cut in [1, 10, 200, der.len() - 300, der.len() - 1] {
            assert_eq!(rsa_public_key(&pem(&der[..cut])), None, "cut at {cut}");
        }
        let mut wrong_tag = der.clone();
        wrong_tag[0] = 0x31;
        assert_eq!(rsa_public_key(&pem(&wrong_tag)), None);
        for bad in [
            "",
            "MIIB",
            "-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----",
        ] {
            assert_eq!(rsa_public_key(bad), None, "{bad}");
        }
        assert_eq!(tlv(&[0x30, 0x85, 1, 0, 0, 0, 0]), None, "5-byte length");
        assert_eq!(tlv(&[0x30, 0x80]), None, "indefinite length");
    }
}
