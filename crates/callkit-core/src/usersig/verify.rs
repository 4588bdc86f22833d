//! Verification in the server's order (docs/tencent-callkit-v4.md §7.3): appid, identifier, expiry,
//! userbuf, HMAC.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use subtle::ConstantTimeEq;

use super::decode::{decode, DecodedUserSig};
use super::error::UserSigError;
use super::mint::{content_with_encoded_userbuf, SigningKey};

/// What a verifier expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expected<'a> {
    pub sdkappid: u64,
    /// `None` accepts any identifier and returns it: edge auth reads the
    /// identity from the sig itself.
    pub identifier: Option<&'a str>,
    /// `Some` requires a byte-equal userbuf; `None` requires its absence.
    pub userbuf: Option<&'a [u8]>,
}

/// Decodes and checks a UserSig; on success returns its fields.
///
/// Checks run in the server's order (docs/tencent-callkit-v4.md §7.3), and
/// each failure carries the code Tencent's server would answer.
///
/// ```
/// use callkit_core::usersig::{verify, Expected, UserSigError};
///
/// let key = "5bd2850fff3ecb11d7c805251c51ee463a25727bddc2385f3fa8bfee1bb93b5e";
/// // Published test vector B (docs/tencent-callkit-v4.md §7.4), made by
/// // another library: compressed, unlike what `mint` writes.
/// let usersig = "eJyrVgrxCdYrSy1SslIy0jNQ0gHzM1NS80oy0zLBwjDB4pTsxIKCzBQlK0MTAyiAyKRWFGQWpQLFTU1NjeCiJZm5YDEzS0tDAyOYaHFmOtBM54KsUqeUwGLLqPK8UndHryCL-Lx8-1RPy7Ty1AijMk9f30hLk0x-r3CvSFulWgAPYy*9";
/// let expected = Expected {
///     sdkappid: 1_400_000_000,
///     identifier: Some("0"),
///     userbuf: None,
/// };
///
/// // Issued at 1569910200 for 180 days.
/// let decoded = verify(usersig, key, &expected, 1_569_910_200).unwrap();
/// assert_eq!(decoded.identifier, "0");
///
/// let late = verify(usersig, key, &expected, 1_585_462_201).unwrap_err();
/// assert_eq!(late, UserSigError::Expired { expired_at: 1_585_462_200 });
/// assert_eq!(late.tencent_code(), 70001);
///
/// let other_key = verify(usersig, "another key", &expected, 1_569_910_200).unwrap_err();
/// assert_eq!(other_key, UserSigError::BadSignature);
/// assert_eq!(other_key.tencent_code(), 70009);
/// ```
pub fn verify(
    usersig: &str,
    key: &str,
    expected: &Expected<'_>,
    now_secs: u64,
) -> Result<DecodedUserSig, UserSigError> {
    verify_with(usersig, &SigningKey::new(key), expected, now_secs)
}

/// [`verify`] with a prepared key.
pub fn verify_with(
    usersig: &str,
    key: &SigningKey,
    expected: &Expected<'_>,
    now_secs: u64,
) -> Result<DecodedUserSig, UserSigError> {
    let decoded = decode(usersig)?;
    verify_decoded(&decoded, key, expected, now_secs)?;
    Ok(decoded)
}

/// The checks of [`verify`] on an already decoded UserSig.
pub fn verify_decoded(
    decoded: &DecodedUserSig,
    key: &SigningKey,
    expected: &Expected<'_>,
    now_secs: u64,
) -> Result<(), UserSigError> {
    if decoded.sdkappid != expected.sdkappid {
        return Err(UserSigError::AppIdMismatch);
    }
    if let Some(identifier) = expected.identifier {
        if decoded.identifier != identifier {
            return Err(UserSigError::IdentifierMismatch);
        }
    }
    // Equality is still valid, as in the Go and PHP libraries.
    let expired_at = decoded.expires_at();
    if now_secs > expired_at {
        return Err(UserSigError::Expired { expired_at });
    }
    match (expected.userbuf, decoded.userbuf.as_deref()) {
        (None, None) => {}
        (Some(want), Some(found)) => {
            let found = STANDARD
                .decode(found)
                .map_err(|_| UserSigError::UserBufMismatch)?;
            if found != want {
                return Err(UserSigError::UserBufMismatch);
            }
        }
        _ => return Err(UserSigError::UserBufMismatch),
    }
    let content = content_with_encoded_userbuf(
        &decoded.identifier,
        decoded.sdkappid,
        decoded.time,
        decoded.expire,
        decoded.userbuf.as_deref(),
    );
    let computed = key.sign_content(&content);
    // Compare the base64 text (as PHP does) so a non-canonical spelling of
    // the same bytes is refused too; `subtle` keeps the timing flat.
    if bool::from(computed.as_bytes().ct_eq(decoded.sig.as_bytes())) {
        Ok(())
    } else {
        Err(UserSigError::BadSignature)
    }
}

#[cfg(test)]
mod tests {
    use super::super::codec::{encode_tencent_base64, zlib_store};
    use super::super::fixtures::*;
    use super::super::mint::{mint, SigFields};
    use super::*;

    const NO_BUF: Expected<'static> = Expected {
        sdkappid: SDKAPPID,
        identifier: Some("0"),
        userbuf: None,
    };
    const WITH_BUF: Expected<'static> = Expected {
        sdkappid: SDKAPPID,
        identifier: Some("0"),
        userbuf: Some(b"abc"),
    };
    /// A frozen clock inside the B strings' validity.
    const B_NOW: u64 = A_TIME + 1;

    /// Asserts the error names no secret and echoes no input.
    fn rejected(usersig: &str, key: &str, expected: &Expected<'_>, now: u64) -> UserSigError {
        let err = verify(usersig, key, expected, now).unwrap_err();
        for text in [err.to_string(), format!("{err:?}")] {
            assert!(key.len() < 8 || !text.contains(key), "{text}");
            assert!(
                !text.contains(A_SIG) && !text.contains(A_SIG_USERBUF),
                "{text}"
            );
            assert!(usersig.len() < 4 || !text.contains(usersig), "{text}");
        }
        err
    }

    #[test]
    fn published_b_strings_verify_with_a_frozen_clock() {
        let ok = verify(B_NO_BUF, KEY, &NO_BUF, B_NOW).unwrap();
        assert_eq!(ok.identifier, "0");
        assert_eq!(
            verify(B_WITH_BUF, KEY, &WITH_BUF, B_NOW)
                .unwrap()
                .userbuf
                .as_deref(),
            Some("YWJj")
        );
        // The last second is still valid; the next one is not.
        assert!(verify(B_NO_BUF, KEY, &NO_BUF, A_EXPIRES_AT).is_ok());
        assert!(verify(B_WITH_BUF, KEY, &WITH_BUF, A_EXPIRES_AT).is_ok());
        let expired = UserSigError::Expired {
            expired_at: A_EXPIRES_AT,
        };
        assert_eq!(rejected(B_NO_BUF, KEY, &NO_BUF, A_EXPIRES_AT + 1), expired);
        assert_eq!(
            rejected(B_WITH_BUF, KEY, &WITH_BUF, A_EXPIRES_AT + 1),
            expired
        );
    }

    #[test]
    fn python_and_node_strings_verify() {
        let expected = Expected {
            sdkappid: SDKAPPID,
            identifier: Some("xiaojun"),
            userbuf: None,
        };
        let now = 1_700_000_000 + 86_400;
        assert_eq!(
            verify(D_PYTHON, KEY, &expected, now),
            verify(D_NODE, KEY, &expected, now)
        );
        assert_eq!(
            verify(D_NODE, KEY, &expected, now).unwrap().identifier,
            "xiaojun"
        );
        let expired = UserSigError::Expired {
            expired_at: 1_715_552_000,
        };
        assert_eq!(rejected(D_PYTHON, KEY, &expected, 1_715_552_001), expired);
        assert_eq!(rejected(D_NODE, KEY, &expected, 1_715_552_001), expired);
    }

    #[test]
    fn round_trip_with_and_without_userbuf() {
        let buf: &[u8] = &[0, 7, b'x', 0xff, 0xfe, 0x80];
        for userbuf in [None, Some(buf), Some(&b""[..])] {
            let fields = SigFields {
                sdkappid: 1_600_000_001,
                identifier: "alice_01-x",
                time: 1_800_000_000,
                expire: 86_400,
                userbuf,
            };
            let usersig = mint("another key", &fields);
            let expected = Expected {
                sdkappid: 1_600_000_001,
                identifier: Some("alice_01-x"),
                userbuf,
            };
            let decoded = verify(&usersig, "another key", &expected, 1_800_000_000).unwrap();
            assert_eq!(decoded, super::super::decode::decode(&usersig).unwrap());
            assert_eq!(decoded.expires_at(), 1_800_086_400);
            assert_eq!(
                decoded.sig,
                super::super::mint::sign("another key", &fields)
            );
        }
    }

    #[test]
    fn any_identifier_when_none_is_expected() {
        let usersig = mint_now_for("bob");
        let any = Expected {
            sdkappid: SDKAPPID,
            identifier: None,
            userbuf: None,
        };
        assert_eq!(
            verify(&usersig, KEY, &any, 1_000).unwrap().identifier,
            "bob"
        );
        // The signature still binds the identifier.
        let forged = pack(&unpack(&usersig).replace("\"bob\"", "\"eve\""));
        assert_eq!(
            rejected(&forged, KEY, &any, 1_000),
            UserSigError::BadSignature
        );
    }

    fn mint_now_for(identifier: &str) -> String {
        super::super::mint::mint_now(KEY, SDKAPPID, identifier, 3_600, 1_000)
    }

    #[test]
    fn each_rejection_has_its_variant() {
        let wrong_app = Expected {
            sdkappid: SDKAPPID + 1,
            ..NO_BUF
        };
        assert_eq!(
            rejected(B_NO_BUF, KEY, &wrong_app, B_NOW),
            UserSigError::AppIdMismatch
        );
        let wrong_user = Expected {
            identifier: Some("1"),
            ..NO_BUF
        };
        assert_eq!(
            rejected(B_NO_BUF, KEY, &wrong_user, B_NOW),
            UserSigError::IdentifierMismatch
        );
        let wrong_key = KEY.replace('5', "6");
        assert_eq!(
            rejected(B_NO_BUF, &wrong_key, &NO_BUF, B_NOW),
            UserSigError::BadSignature
        );
        assert_eq!(
            rejected(B_NO_BUF, "", &NO_BUF, B_NOW),
            UserSigError::BadSignature
        );
    }

    #[test]
    fn tampering_is_a_bad_signature() {
        // Flip one character of TLS.sig, first and last significant.
        for (from, to) in [
            ("\"CpjuBd", "\"DpjuBd"),
            ("WJY=\"", "WJZ=\""),
            ("WJY=\"", "WJY\""),
        ] {
            let tampered = pack(&B_NO_BUF_JSON.replace(from, to));
            assert_eq!(
                rejected(&tampered, KEY, &NO_BUF, B_NOW),
                UserSigError::BadSignature
            );
        }
        // Change a signed field without re-signing.
        let later = pack(&B_NO_BUF_JSON.replace("1569910200", "1569910201"));
        assert_eq!(
            rejected(&later, KEY, &NO_BUF, B_NOW),
            UserSigError::BadSignature
        );
        let longer = pack(&B_NO_BUF_JSON.replace("15552000", "15552001"));
        assert_eq!(
            rejected(&longer, KEY, &NO_BUF, B_NOW),
            UserSigError::BadSignature
        );
        let other_buf = pack(&B_WITH_BUF_JSON.replace("YWJj", "YWJk"));
        let expect_abd = Expected {
            userbuf: Some(b"abd"),
            ..WITH_BUF
        };
        assert_eq!(
            rejected(&other_buf, KEY, &expect_abd, B_NOW),
            UserSigError::BadSignature
        );
        // Dropping the userbuf changes the signed content too.
        let stripped = pack(&B_WITH_BUF_JSON.replace("\"TLS.userbuf\":\"YWJj\",", ""));
        assert_eq!(
            rejected(&stripped, KEY, &NO_BUF, B_NOW),
            UserSigError::BadSignature
        );
    }

    #[test]
    fn userbuf_must_match_both_ways() {
        // Expected but absent, present but not expected, present but different.
        assert_eq!(
            rejected(B_NO_BUF, KEY, &WITH_BUF, B_NOW),
            UserSigError::UserBufMismatch
        );
        assert_eq!(
            rejected(B_WITH_BUF, KEY, &NO_BUF, B_NOW),
            UserSigError::UserBufMismatch
        );
        let other = Expected {
            userbuf: Some(b"abd"),
            ..WITH_BUF
        };
        assert_eq!(
            rejected(B_WITH_BUF, KEY, &other, B_NOW),
            UserSigError::UserBufMismatch
        );
        let empty = Expected {
            userbuf: Some(b""),
            ..WITH_BUF
        };
        assert_eq!(
            rejected(B_WITH_BUF, KEY, &empty, B_NOW),
            UserSigError::UserBufMismatch
        );
    }

    #[test]
    fn checks_run_in_the_servers_order() {
        let late = A_EXPIRES_AT + 1;
        let all_wrong = Expected {
            sdkappid: 1,
            identifier: Some("x"),
            userbuf: Some(b"z"),
        };
        assert_eq!(
            rejected(B_NO_BUF, "k", &all_wrong, late),
            UserSigError::AppIdMismatch
        );
        let id_wrong = Expected {
            sdkappid: SDKAPPID,
            ..all_wrong
        };
        assert_eq!(
            rejected(B_NO_BUF, "k", &id_wrong, late),
            UserSigError::IdentifierMismatch
        );
        let time_wrong = Expected {
            identifier: Some("0"),
            ..id_wrong
        };
        assert!(matches!(
            rejected(B_NO_BUF, "k", &time_wrong, late),
            UserSigError::Expired { .. }
        ));
        assert_eq!(
            rejected(B_NO_BUF, "k", &time_wrong, B_NOW),
            UserSigError::UserBufMismatch
        );
        assert_eq!(
            rejected(B_NO_BUF, "k", &NO_BUF, B_NOW),
            UserSigError::BadSignature
        );
    }

    #[test]
    fn expiry_saturates_instead_of_wrapping() {
        let fields = SigFields {
            sdkappid: SDKAPPID,
            identifier: "0",
            time: u64::MAX - 5,
            expire: 100,
            userbuf: None,
        };
        let usersig = mint(KEY, &fields);
        assert!(verify(&usersig, KEY, &NO_BUF, u64::MAX).is_ok());
    }

    #[test]
    fn garbage_is_malformed_through_verify() {
        let not_zlib = encode_tencent_base64(b"definitely not zlib");
        let not_json = encode_tencent_base64(&zlib_store(b"<xml/>"));
        let no_sig = pack(&B_NO_BUF_JSON.replace(&format!(",\"TLS.sig\":\"{A_SIG}\""), ""));
        let huge = "A".repeat(10 << 20);
        let bomb = pack_at(&vec![b'{'; 8 << 20], 9);
        let cases: [(&str, &str); 7] = [
            ("", "empty"),
            ("!!!", "bad alphabet"),
            (&not_zlib, "not zlib"),
            (&not_json, "not JSON"),
            (&no_sig, "missing or mistyped field"),
            (&huge, "too large"),
            (&bomb, "too large"),
        ];
        for (input, reason) in cases {
            assert_eq!(
                rejected(input, KEY, &NO_BUF, B_NOW),
                UserSigError::Malformed { reason }
            );
        }
    }

    /// xorshift64*: a dependency-free, reproducible source of noise.
    struct Noise(u64);
    impl Noise {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n.max(1) as u64) as usize
        }
        fn mutate(&mut self, bytes: &mut Vec<u8>) {
            for _ in 0..=self.below(3) {
                let at = self.below(bytes.len());
                match self.below(3) {
                    0 if !bytes.is_empty() => bytes[at] ^= 1 << self.below(8),
                    1 => bytes.insert(at.min(bytes.len()), self.next() as u8),
                    _ if !bytes.is_empty() => {
                        bytes.remove(at);
                    }
                    _ => bytes.push(self.next() as u8),
                }
            }
        }
    }

    /// Mutated and random inputs never panic, and anything that still
    /// verifies carries exactly the original signed fields.
    #[test]
    fn random_and_mutated_inputs_never_panic() {
        let mut noise = Noise(0x9e37_79b9_7f4a_7c15);
        let original = verify(B_WITH_BUF, KEY, &WITH_BUF, B_NOW).unwrap();
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789*-_+/= !";
        let packed_original = deflate_at(B_WITH_BUF_JSON.as_bytes(), 6);
        let rounds = 4_000;
        let mut accepted = 0;
        for round in 0..rounds {
            let candidate: String = match round % 4 {
                // Mutate the UserSig text.
                0 => {
                    let mut text = B_WITH_BUF.as_bytes().to_vec();
                    noise.mutate(&mut text);
                    String::from_utf8_lossy(&text).into_owned()
                }
                // Mutate the zlib stream.
                1 => {
                    let mut packed = packed_original.clone();
                    noise.mutate(&mut packed);
                    encode_tencent_base64(&packed)
                }
                // Mutate the JSON.
                2 => {
                    let mut json = B_WITH_BUF_JSON.as_bytes().to_vec();
                    noise.mutate(&mut json);
                    encode_tencent_base64(&zlib_store(&json))
                }
                // Random text over a base64-ish alphabet.
                _ => (0..noise.below(400))
                    .map(|_| alphabet[noise.below(alphabet.len())] as char)
                    .collect(),
            };
            let _ = super::super::decode::decode(&candidate);
            if let Ok(decoded) = verify(&candidate, KEY, &WITH_BUF, B_NOW) {
                assert_eq!(decoded, original, "{candidate}");
                accepted += 1;
            }
        }
        // Some mutations are harmless (padding, JSON whitespace); most are not.
        assert!(accepted < rounds / 4);
    }
}
