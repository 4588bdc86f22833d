//! The UserSig wire encoding: zlib-compressed JSON in Tencent's base64
//! alphabet (standard base64 with `+`→`*`, `/`→`-`, `=`→`_`).

use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine;
use miniz_oxide::inflate::core::{decompress, inflate_flags, DecompressorOxide};
use miniz_oxide::inflate::TINFLStatus;

use super::error::UserSigError;

/// Longest UserSig string accepted. Real ones are a few hundred characters;
/// even Go's uncompressed output of a maximal document stays far below this.
pub const MAX_USERSIG_LEN: usize = 16 * 1024;

/// Largest inflated JSON accepted, so a zlib bomb cannot cost memory.
pub const MAX_JSON_LEN: usize = 8 * 1024;

/// Padding is optional on input: the official libraries always pad, but a
/// missing `_` does not make a credential any less genuine.
const LENIENT_STANDARD: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

fn malformed(reason: &'static str) -> UserSigError {
    UserSigError::Malformed { reason }
}

/// Standard base64, then Tencent's character substitution.
pub fn encode_tencent_base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD
        .encode(bytes)
        .chars()
        .map(|c| match c {
            '+' => '*',
            '/' => '-',
            '=' => '_',
            other => other,
        })
        .collect()
}

/// Reverse of [`encode_tencent_base64`]. The standard `+ / =` characters are
/// refused: no official library emits them, and accepting both spellings
/// would give one credential many string forms.
pub fn decode_tencent_base64(text: &str) -> Result<Vec<u8>, UserSigError> {
    if text.is_empty() {
        return Err(malformed("empty"));
    }
    if text.len() > MAX_USERSIG_LEN {
        return Err(malformed("too large"));
    }
    let mut standard = String::with_capacity(text.len());
    for c in text.chars() {
        standard.push(match c {
            '*' => '+',
            '-' => '/',
            '_' => '=',
            'A'..='Z' | 'a'..='z' | '0'..='9' => c,
            _ => return Err(malformed("bad alphabet")),
        });
    }
    LENIENT_STANDARD
        .decode(standard.as_bytes())
        .map_err(|_| malformed("bad base64"))
}

/// A zlib (RFC 1950) stream holding `data` in one stored deflate block: what
/// Tencent's Go library writes (`zlib.NoCompression`). A UserSig's JSON is
/// ~200 bytes, so compressing saves ~60 characters but costs a compressor's
/// 160 KB of tables per mint, a hundred times the rest of minting.
pub fn zlib_store(data: &[u8]) -> Vec<u8> {
    // One stored block holds at most 65,535 bytes; a UserSig document is far smaller.
    let len = u16::try_from(data.len()).expect("a UserSig document fits one stored block");
    let mut out = Vec::with_capacity(data.len() + 11);
    // CMF 0x78 (deflate, 32 KiB window), FLG 0x01 (fastest, header checksum ok).
    out.extend_from_slice(&[0x78, 0x01]);
    // BFINAL = 1, BTYPE = 00 (stored), then LEN and its complement, little-endian.
    out.push(0x01);
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&(!len).to_le_bytes());
    out.extend_from_slice(data);
    out.extend_from_slice(&adler2::adler32_slice(data).to_be_bytes());
    out
}

/// Inflates one complete zlib stream of at most `max` bytes, checking its
/// Adler-32. A truncated stream, or bytes after its end, are refused for the
/// same reason as the alphabet above.
pub fn zlib_inflate_capped(data: &[u8], max: usize) -> Result<Vec<u8>, UserSigError> {
    let flags = inflate_flags::TINFL_FLAG_PARSE_ZLIB_HEADER
        | inflate_flags::TINFL_FLAG_USING_NON_WRAPPING_OUTPUT_BUF;
    let mut state = Box::<DecompressorOxide>::default();
    // Real documents inflate to about twice their compressed size.
    let mut out = vec![
        0;
        data.len()
            .saturating_mul(4)
            .max(256)
            .min(max.saturating_add(1))
    ];
    let (mut input, mut written) = (data, 0);
    loop {
        let (status, read, wrote) = decompress(&mut state, input, &mut out, written, flags);
        written += wrote;
        input = input.get(read..).ok_or(malformed("not zlib"))?;
        match status {
            TINFLStatus::Done if input.is_empty() => break,
            TINFLStatus::Done => return Err(malformed("trailing data after zlib")),
            TINFLStatus::HasMoreOutput if out.len() > max => return Err(malformed("too large")),
            TINFLStatus::HasMoreOutput => {
                let grown = out.len().saturating_mul(2).min(max.saturating_add(1));
                out.resize(grown, 0);
            }
            TINFLStatus::NeedsMoreInput | TINFLStatus::FailedCannotMakeProgress => {
                return Err(malformed("truncated zlib"))
            }
            _ => return Err(malformed("not zlib")),
        }
    }
    if written > max {
        return Err(malformed("too large"));
    }
    out.truncate(written);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use flate2::Compression;

    use super::*;

    fn zlib_compress(data: &[u8]) -> Vec<u8> {
        super::super::fixtures::deflate_at(data, 6)
    }

    #[test]
    fn alphabet_round_trips_every_byte() {
        let all: Vec<u8> = (0..=255).collect();
        for len in 0..all.len() {
            let text = encode_tencent_base64(&all[..len]);
            assert!(!text.contains(['+', '/', '=']));
            if len > 0 {
                assert_eq!(decode_tencent_base64(&text).unwrap(), &all[..len]);
            }
        }
    }

    #[test]
    fn substitution_is_tencents() {
        // 0xfb 0xff 0xbf → standard "+/+/", 0xff → "/w==".
        assert_eq!(encode_tencent_base64(&[0xfb, 0xff, 0xbf]), "*-*-");
        assert_eq!(encode_tencent_base64(&[0xff]), "-w__");
        assert_eq!(decode_tencent_base64("-w__").unwrap(), vec![0xff]);
    }

    #[test]
    fn padding_is_optional_on_input() {
        assert_eq!(decode_tencent_base64("-w").unwrap(), vec![0xff]);
    }

    #[test]
    fn standard_characters_and_junk_are_refused() {
        for bad in ["/w==", "+/+/", "ab c", "abc\n", "ab%2F", "é"] {
            assert_eq!(
                decode_tencent_base64(bad),
                Err(UserSigError::Malformed {
                    reason: "bad alphabet"
                }),
                "{bad:?}"
            );
        }
        assert_eq!(
            decode_tencent_base64("a"),
            Err(UserSigError::Malformed {
                reason: "bad base64"
            })
        );
        assert_eq!(
            decode_tencent_base64(""),
            Err(UserSigError::Malformed { reason: "empty" })
        );
        assert_eq!(
            decode_tencent_base64(&"A".repeat(MAX_USERSIG_LEN + 4)),
            Err(UserSigError::Malformed {
                reason: "too large"
            })
        );
    }

    #[test]
    fn stored_stream_is_standard_zlib() {
        let json = br#"{"TLS.ver":"2.0","TLS.identifier":"alice"}"#;
        let stored = zlib_store(json);
        // 2 header + 5 block header + data + 4 Adler-32.
        assert_eq!(stored.len(), json.len() + 11);
        assert_eq!(u16::from_be_bytes([stored[0], stored[1]]) % 31, 0, "FCHECK");
        // An independent inflater (flate2's) reads it back, and so does ours.
        let mut inflated = Vec::new();
        flate2::write::ZlibDecoder::new(&mut inflated)
            .write_all(&stored)
            .unwrap();
        assert_eq!(inflated, json);
        assert_eq!(zlib_inflate_capped(&stored, json.len()).unwrap(), json);
        assert!(zlib_inflate_capped(&stored, json.len() - 1).is_err());
        assert_eq!(zlib_inflate_capped(&zlib_store(b""), 10).unwrap(), b"");
    }

    #[test]
    fn zlib_round_trip_with_rfc1950_header() {
        let json = br#"{"a":1}"#;
        let packed = zlib_compress(json);
        assert_eq!(packed[0], 0x78, "zlib header, not raw deflate or gzip");
        assert_eq!(zlib_inflate_capped(&packed, 100).unwrap(), json);
        // Exactly at the cap is fine, one byte over is not.
        assert_eq!(zlib_inflate_capped(&packed, json.len()).unwrap(), json);
        assert_eq!(
            zlib_inflate_capped(&packed, json.len() - 1),
            Err(UserSigError::Malformed {
                reason: "too large"
            })
        );
    }

    #[test]
    fn inflate_refuses_truncation_corruption_and_trailing_bytes() {
        let packed = zlib_compress(br#"{"TLS.ver":"2.0","padding":"xxxxxxxxxxxxxxxx"}"#);
        for cut in 0..packed.len() {
            assert!(
                zlib_inflate_capped(&packed[..cut], 1024).is_err(),
                "cut at {cut}"
            );
        }
        let mut bad_adler = packed.clone();
        let last = bad_adler.len() - 1;
        bad_adler[last] ^= 1;
        assert!(zlib_inflate_capped(&bad_adler, 1024).is_err());
        let mut trailing = packed.clone();
        trailing.push(0);
        assert_eq!(
            zlib_inflate_capped(&trailing, 1024),
            Err(UserSigError::Malformed {
                reason: "trailing data after zlib"
            })
        );
    }

    #[test]
    fn inflate_stops_a_bomb_at_the_cap() {
        let bomb = zlib_compress(&vec![b' '; 10 * 1024 * 1024]);
        assert!(bomb.len() < 20 * 1024);
        assert_eq!(
            zlib_inflate_capped(&bomb, MAX_JSON_LEN),
            Err(UserSigError::Malformed {
                reason: "too large"
            })
        );
    }

    #[test]
    fn inflate_refuses_raw_deflate_and_gzip() {
        let mut raw = Vec::new();
        let mut enc = flate2::write::DeflateEncoder::new(&mut raw, Compression::new(6));
        enc.write_all(b"{}").unwrap();
        enc.finish().unwrap();
        assert!(zlib_inflate_capped(&raw, 1024).is_err());
        let mut gz = Vec::new();
        let mut enc = flate2::write::GzEncoder::new(&mut gz, Compression::new(6));
        enc.write_all(b"{}").unwrap();
        enc.finish().unwrap();
        assert!(zlib_inflate_capped(&gz, 1024).is_err());
    }
}
