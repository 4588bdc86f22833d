//! Decoding a UserSig string into its fields, without checking the signature.

use std::fmt;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::error::Category;

use super::codec::{decode_tencent_base64, zlib_inflate_capped, MAX_JSON_LEN};
use super::document::{IncomingDoc, VERSION};
use super::error::UserSigError;

/// A decoded UserSig. Its Debug redacts `sig`: sig and fields together
/// reconstitute a credential.
#[derive(Clone, PartialEq, Eq)]
pub struct DecodedUserSig {
    pub version: String,
    pub identifier: String,
    pub sdkappid: u64,
    pub time: u64,
    pub expire: u64,
    /// The base64 string as found in the document.
    pub userbuf: Option<String>,
    pub sig: String,
}

impl DecodedUserSig {
    /// Last valid second: `time + expire`, saturating.
    pub fn expires_at(&self) -> u64 {
        self.time.saturating_add(self.expire)
    }
}

impl fmt::Debug for DecodedUserSig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DecodedUserSig")
            .field("version", &self.version)
            .field("identifier", &self.identifier)
            .field("sdkappid", &self.sdkappid)
            .field("time", &self.time)
            .field("expire", &self.expire)
            .field("userbuf", &self.userbuf)
            .field("sig", &"[REDACTED]")
            .finish()
    }
}

/// Undo the alphabet, inflate (capped at [`MAX_JSON_LEN`]), parse the JSON.
/// Accepts any key order, whitespace and compression level.
///
/// Decoding checks no signature: use it to read a UserSig's expiry (as the
/// client does for a static admin UserSig), and [`verify`](super::verify)
/// to trust one.
///
/// ```
/// use callkit_core::usersig::{decode, mint_now, UserSigError};
///
/// let usersig = mint_now("any key", 1_400_000_000, "alice", 3_600, 1_700_000_000);
/// let decoded = decode(&usersig).unwrap();
/// assert_eq!((decoded.sdkappid, decoded.identifier.as_str()), (1_400_000_000, "alice"));
/// assert_eq!(decoded.expires_at(), 1_700_003_600);
///
/// // Not a UserSig: the error is what Tencent's server answers 70003 for.
/// let err = decode("not a usersig").unwrap_err();
/// assert!(matches!(err, UserSigError::Malformed { .. }));
/// assert_eq!(err.tencent_code(), 70003);
/// ```
pub fn decode(usersig: &str) -> Result<DecodedUserSig, UserSigError> {
    let compressed = decode_tencent_base64(usersig)?;
    let json = zlib_inflate_capped(&compressed, MAX_JSON_LEN)?;
    // serde_json's messages may quote the input, so only the category is kept.
    let doc: IncomingDoc =
        serde_json::from_slice(&json).map_err(|err| UserSigError::Malformed {
            reason: match err.classify() {
                Category::Data => "missing or mistyped field",
                Category::Syntax | Category::Eof | Category::Io => "not JSON",
            },
        })?;
    if doc.ver != VERSION {
        return Err(UserSigError::Malformed {
            reason: "unsupported TLS.ver",
        });
    }
    if let Some(buf) = &doc.userbuf {
        if STANDARD.decode(buf).is_err() {
            return Err(UserSigError::Malformed {
                reason: "userbuf not base64",
            });
        }
    }
    Ok(DecodedUserSig {
        version: doc.ver,
        identifier: doc.identifier,
        sdkappid: doc.sdkappid,
        time: doc.time,
        expire: doc.expire,
        userbuf: doc.userbuf,
        sig: doc.sig,
    })
}

#[cfg(test)]
mod tests {
    use super::super::codec::MAX_USERSIG_LEN;
    use super::super::fixtures::*;
    use super::*;

    fn malformed(reason: &'static str) -> Result<DecodedUserSig, UserSigError> {
        Err(UserSigError::Malformed { reason })
    }

    #[test]
    fn published_b_strings_decode_to_the_documented_fields() {
        assert_eq!(
            decode(B_NO_BUF).unwrap(),
            DecodedUserSig {
                version: "2.0".into(),
                identifier: "0".into(),
                sdkappid: SDKAPPID,
                time: A_TIME,
                expire: A_EXPIRE,
                userbuf: None,
                sig: A_SIG.into(),
            }
        );
        let with_buf = decode(B_WITH_BUF).unwrap();
        assert_eq!(with_buf.userbuf.as_deref(), Some("YWJj"));
        assert_eq!(with_buf.sig, A_SIG_USERBUF);
        assert_eq!(with_buf.expires_at(), A_EXPIRES_AT);
    }

    #[test]
    fn python_and_node_layouts_decode_alike() {
        // Prove the two strings really carry the two layouts.
        assert!(unpack(D_PYTHON).contains(r#""TLS.ver": "2.0", "#));
        let node = unpack(D_NODE);
        assert!(node.find("TLS.time") < node.find("TLS.expire"));
        let python = decode(D_PYTHON).unwrap();
        assert_eq!(decode(D_NODE).unwrap(), python);
        let DRow {
            identifier,
            time,
            expire,
            sig,
            ..
        } = D_ROWS[0];
        assert_eq!(python.identifier, identifier);
        assert_eq!((python.time, python.expire), (time, expire));
        assert_eq!(python.sdkappid, SDKAPPID);
        assert_eq!(python.sig, sig);
        assert_eq!(python.userbuf, None);
    }

    #[test]
    fn other_writers_variants_are_accepted() {
        let expected = decode(B_NO_BUF).unwrap();
        // Go: uncompressed zlib and a trailing newline from json.Encoder.
        assert_eq!(
            decode(&pack_at(format!("{B_NO_BUF_JSON}\n").as_bytes(), 0)),
            Ok(expected.clone())
        );
        // Any level, any key order, pretty whitespace, \u escapes, unknown keys.
        let shuffled = format!(
            "{{ \"TLS.sig\" : \"{A_SIG}\",\n\t\"TLS.time\": {A_TIME}, \"TLS.expire\": {A_EXPIRE},\
             \"TLS.sdkappid\": 1400000000, \"TLS.identifier\": \"\\u0030\", \"TLS.ver\": \"2.0\", \"x\": [1] }}"
        );
        assert_eq!(
            decode(&pack_at(shuffled.as_bytes(), 9)),
            Ok(expected.clone())
        );
        // PHP's json_encode escapes the slashes in the sig.
        let php = unpack(D_NODE).replace('/', "\\/");
        assert!(php.contains("d\\/Iw"));
        assert_eq!(decode(&pack(&php)).unwrap().sig, D_ROWS[0].sig);
        // Padding is optional.
        assert_eq!(decode(B_NO_BUF.trim_end_matches('_')), Ok(expected));
        // A null userbuf means none.
        let null_buf = B_NO_BUF_JSON.replace("\"TLS.sig\"", "\"TLS.userbuf\":null,\"TLS.sig\"");
        assert_eq!(decode(&pack(&null_buf)).unwrap().userbuf, None);
    }

    #[test]
    fn garbage_is_malformed_with_its_own_reason() {
        assert_eq!(decode(""), malformed("empty"));
        assert_eq!(decode("!!!"), malformed("bad alphabet"));
        assert_eq!(decode("abcde"), malformed("bad base64"));
        assert_eq!(decode("aGVsbG8gd29ybGQ_"), malformed("not zlib")); // "hello world"
        assert_eq!(decode(&pack("not json at all")), malformed("not JSON"));
        assert_eq!(decode(&pack(r#"{"TLS.ver":"2.0""#)), malformed("not JSON"));
        assert_eq!(decode(&"A".repeat(1 << 20)), malformed("too large"));
        let bomb = pack_at(&vec![b' '; 4 << 20], 9);
        assert!(bomb.len() < MAX_USERSIG_LEN);
        assert_eq!(decode(&bomb), malformed("too large"));
        let mut truncated = B_NO_BUF.to_string();
        truncated.truncate(B_NO_BUF.len() - 8);
        assert!(matches!(
            decode(&truncated),
            Err(UserSigError::Malformed { .. })
        ));
    }

    #[test]
    fn missing_or_mistyped_fields_are_malformed() {
        let without_sig = B_NO_BUF_JSON.replace(&format!(",\"TLS.sig\":\"{A_SIG}\""), "");
        assert_eq!(
            decode(&pack(&without_sig)),
            malformed("missing or mistyped field")
        );
        let cases = [
            B_NO_BUF_JSON.replace("1400000000", "\"1400000000\""), // numeric string
            B_NO_BUF_JSON.replace("1569910200", "1569910200.0"),   // float
            B_NO_BUF_JSON.replace("1569910200", "-1"),             // negative
            B_NO_BUF_JSON.replace("15552000", "1e99"),             // overflow
            B_NO_BUF_JSON.replace("\"0\"", "0"),                   // numeric identifier
            B_NO_BUF_JSON.replace("\"TLS.ver\"", "\"TLS.version\""),
            B_NO_BUF_JSON.replace("{", "{\"TLS.sig\":\"x\","), // duplicate key
            B_NO_BUF_JSON.replace("\"TLS.sig\"", "\"TLS.userbuf\":5,\"TLS.sig\""),
            "[1,2]".to_string(),
            "null".to_string(),
        ];
        for json in cases {
            assert_eq!(
                decode(&pack(&json)),
                malformed("missing or mistyped field"),
                "{json}"
            );
        }
    }

    #[test]
    fn wrong_version_and_bad_userbuf_are_malformed() {
        let v1 = B_NO_BUF_JSON.replace("\"2.0\"", "\"201512300000\"");
        assert_eq!(decode(&pack(&v1)), malformed("unsupported TLS.ver"));
        let bad_buf = B_WITH_BUF_JSON.replace("YWJj", "Y!Jj");
        assert_eq!(decode(&pack(&bad_buf)), malformed("userbuf not base64"));
    }

    #[test]
    fn debug_redacts_the_sig() {
        let decoded = decode(B_NO_BUF).unwrap();
        let debug = format!("{decoded:?}");
        assert!(!debug.contains(A_SIG));
        assert!(!debug.contains("CpjuBd"));
        assert!(debug.contains("[REDACTED]"));
        assert!(debug.contains("identifier: \"0\""));
    }

    #[test]
    fn expires_at_saturates() {
        let mut decoded = decode(B_NO_BUF).unwrap();
        decoded.time = u64::MAX - 1;
        assert_eq!(decoded.expires_at(), u64::MAX);
    }
}
