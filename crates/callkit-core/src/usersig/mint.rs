//! Minting: the HMAC content string, `TLS.sig`, and the full UserSig.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::codec::{encode_tencent_base64, zlib_store};
use super::document::{OutgoingDoc, VERSION};

/// Fields signed by TLS.sig.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SigFields<'a> {
    pub sdkappid: u64,
    pub identifier: &'a str,
    /// Unix seconds at signing.
    pub time: u64,
    /// Validity in seconds, relative to `time`.
    pub expire: u64,
    pub userbuf: Option<&'a [u8]>,
}

/// The exact HMAC content string ("TLS.identifier:..\nTLS.sdkappid:..\n...").
pub fn hmac_content(fields: &SigFields<'_>) -> String {
    let userbuf = fields.userbuf.map(|buf| STANDARD.encode(buf));
    content_with_encoded_userbuf(
        fields.identifier,
        fields.sdkappid,
        fields.time,
        fields.expire,
        userbuf.as_deref(),
    )
}

/// An SDK secret key made ready to sign: HMAC's keyed state is computed once
/// instead of on every mint and verify. Its Debug shows no key material.
#[derive(Clone)]
pub struct SigningKey(Hmac<Sha256>);

impl SigningKey {
    /// HMAC-SHA256 keyed with the UTF-8 bytes of the key (not hex-decoded).
    pub fn new(key: &str) -> Self {
        // HMAC takes keys of any length (long ones are hashed), so this never fails.
        Self(Hmac::new_from_slice(key.as_bytes()).expect("HMAC accepts any key length"))
    }

    /// base64std(HMAC-SHA256(key, content)).
    pub(crate) fn sign_content(&self, content: &str) -> String {
        let mut mac = self.0.clone();
        mac.update(content.as_bytes());
        STANDARD.encode(mac.finalize().into_bytes())
    }
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningKey([REDACTED])")
    }
}

/// base64std(HMAC-SHA256(utf8(key), content)) — the 44-char TLS.sig.
pub fn sign(key: &str, fields: &SigFields<'_>) -> String {
    SigningKey::new(key).sign_content(&hmac_content(fields))
}

/// Full UserSig string: compact JSON in Go/Python key order, zlib without
/// compression (as Tencent's Go library writes it), Tencent base64.
///
/// ```
/// use callkit_core::usersig::{decode, mint, sign, SigFields};
///
/// // The sample key and SDKAppID of Tencent's examples, with the fields of
/// // test vector A (docs/tencent-callkit-v4.md §7.4).
/// let key = "5bd2850fff3ecb11d7c805251c51ee463a25727bddc2385f3fa8bfee1bb93b5e";
/// let fields = SigFields {
///     sdkappid: 1_400_000_000,
///     identifier: "0",
///     time: 1_569_910_200,
///     expire: 15_552_000,
///     userbuf: None,
/// };
/// let usersig = mint(key, &fields);
///
/// // Libraries write different strings for the same fields, so read it back
/// // rather than comparing strings: `TLS.sig` is the published value.
/// let decoded = decode(&usersig).unwrap();
/// assert_eq!(decoded.identifier, "0");
/// assert_eq!(decoded.expires_at(), 1_585_462_200);
/// assert_eq!(decoded.sig, "CpjuBdQs9ZwnuGAJR8onoOeI9fweX2vIMMY94iOJWJY=");
/// assert_eq!(sign(key, &fields), decoded.sig);
/// ```
pub fn mint(key: &str, fields: &SigFields<'_>) -> String {
    mint_with(&SigningKey::new(key), fields)
}

/// [`mint`] with a prepared key.
pub fn mint_with(key: &SigningKey, fields: &SigFields<'_>) -> String {
    let userbuf = fields.userbuf.map(|buf| STANDARD.encode(buf));
    let sig = key.sign_content(&hmac_content(fields));
    let doc = OutgoingDoc {
        ver: VERSION,
        identifier: fields.identifier,
        sdkappid: fields.sdkappid,
        expire: fields.expire,
        time: fields.time,
        userbuf: userbuf.as_deref(),
        sig: &sig,
    };
    // A struct of strings and integers always serialises.
    let json = serde_json::to_vec(&doc).expect("UserSig document serialises");
    encode_tencent_base64(&zlib_store(&json))
}

/// Convenience for the common case: no userbuf.
///
/// ```
/// use callkit_core::usersig::{mint_now, verify, Expected};
///
/// let key = "5bd2850fff3ecb11d7c805251c51ee463a25727bddc2385f3fa8bfee1bb93b5e";
/// let now = 1_700_000_000;
/// // An admin UserSig valid for 24 h from `now`.
/// let usersig = mint_now(key, 1_400_000_000, "administrator", 86_400, now);
///
/// let expected = Expected {
///     sdkappid: 1_400_000_000,
///     identifier: Some("administrator"),
///     userbuf: None,
/// };
/// // Still valid at its last second, expired one second later.
/// assert!(verify(&usersig, key, &expected, now + 86_400).is_ok());
/// assert!(verify(&usersig, key, &expected, now + 86_401).is_err());
/// ```
pub fn mint_now(
    key: &str,
    sdkappid: u64,
    identifier: &str,
    expire_secs: u64,
    now_secs: u64,
) -> String {
    mint(
        key,
        &SigFields {
            sdkappid,
            identifier,
            time: now_secs,
            expire: expire_secs,
            userbuf: None,
        },
    )
}

/// The content with the userbuf already in base64; verification must use the
/// string found in the document verbatim.
pub(crate) fn content_with_encoded_userbuf(
    identifier: &str,
    sdkappid: u64,
    time: u64,
    expire: u64,
    userbuf_b64: Option<&str>,
) -> String {
    let mut content = format!(
        "TLS.identifier:{identifier}\nTLS.sdkappid:{sdkappid}\nTLS.time:{time}\nTLS.expire:{expire}\n"
    );
    if let Some(buf) = userbuf_b64 {
        content.push_str("TLS.userbuf:");
        content.push_str(buf);
        content.push('\n');
    }
    content
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::*;
    use super::*;

    fn a_fields(userbuf: Option<&[u8]>) -> SigFields<'_> {
        SigFields {
            sdkappid: SDKAPPID,
            identifier: "0",
            time: A_TIME,
            expire: A_EXPIRE,
            userbuf,
        }
    }

    #[test]
    fn content_string_is_byte_exact() {
        assert_eq!(hmac_content(&a_fields(None)), A_CONTENT);
        assert_eq!(
            hmac_content(&a_fields(Some(b"abc"))),
            format!("{A_CONTENT}TLS.userbuf:YWJj\n")
        );
    }

    #[test]
    fn published_hmac_vectors_a() {
        assert_eq!(sign(KEY, &a_fields(None)), A_SIG);
        assert_eq!(sign(KEY, &a_fields(Some(b"abc"))), A_SIG_USERBUF);
        assert_eq!(A_SIG.len(), 44);
    }

    #[test]
    fn millisecond_vectors_c() {
        let mut fields = a_fields(None);
        fields.time = C_TIME_MS;
        fields.expire = C_EXPIRE_MS;
        assert_eq!(sign(KEY, &fields), C_SIG);
        fields.userbuf = Some(b"abc");
        assert_eq!(sign(KEY, &fields), C_SIG_USERBUF);
    }

    #[test]
    fn recomputed_vectors_d() {
        for DRow {
            identifier,
            time,
            expire,
            userbuf,
            sig,
        } in D_ROWS
        {
            let fields = SigFields {
                sdkappid: SDKAPPID,
                identifier,
                time,
                expire,
                userbuf,
            };
            assert_eq!(sign(KEY, &fields), sig, "{identifier} {expire}");
        }
    }

    /// The published B strings are zlib level 6; mint stores the JSON
    /// uncompressed, as Tencent's Go library does. Verifiers never compare
    /// UserSig strings, only the JSON inside, so that is what must match.
    #[test]
    fn mint_reproduces_published_b_documents() {
        let no_buf = mint(KEY, &a_fields(None));
        assert_eq!(unpack(&no_buf), B_NO_BUF_JSON);
        assert_eq!(unpack(B_NO_BUF), B_NO_BUF_JSON);
        let with_buf = mint(KEY, &a_fields(Some(b"abc")));
        assert_eq!(unpack(&with_buf), B_WITH_BUF_JSON);
        assert_eq!(unpack(B_WITH_BUF), B_WITH_BUF_JSON);
        // A stored block after the zlib header, as Go's zlib.NoCompression writes.
        for usersig in [&no_buf, &with_buf] {
            let packed = super::super::codec::decode_tencent_base64(usersig).unwrap();
            assert_eq!(packed[..3], [0x78, 0x01, 0x01]);
        }
    }

    #[test]
    fn mint_now_is_mint_without_userbuf() {
        let minted = mint_now(KEY, SDKAPPID, "0", A_EXPIRE, A_TIME);
        assert_eq!(minted, mint(KEY, &a_fields(None)));
        assert_eq!(unpack(&minted), B_NO_BUF_JSON);
    }

    #[test]
    fn key_is_utf8_text_not_hex() {
        let fields = a_fields(None);
        assert_ne!(sign(KEY, &fields), sign(&KEY.to_uppercase(), &fields));
        assert_ne!(sign(KEY, &fields), sign("", &fields));
        // Empty and very long keys are legal HMAC keys.
        assert_eq!(sign("", &fields).len(), 44);
        assert_eq!(sign(&"k".repeat(10_000), &fields).len(), 44);
    }

    #[test]
    fn empty_userbuf_is_still_signed_and_written() {
        let fields = a_fields(Some(b""));
        assert_eq!(hmac_content(&fields), format!("{A_CONTENT}TLS.userbuf:\n"));
        assert!(unpack(&mint(KEY, &fields)).contains(r#""TLS.userbuf":"""#));
    }
}
