//! Test fixtures: the test vectors of docs/tencent-callkit-v4.md §7.4 and helpers that
//! pack hand-written JSON into UserSig strings.

/// Sample key from Tencent's examples; used as UTF-8 bytes, not hex.
pub const KEY: &str = "5bd2850fff3ecb11d7c805251c51ee463a25727bddc2385f3fa8bfee1bb93b5e";
pub const SDKAPPID: u64 = 1_400_000_000;

/// Vectors A/B (docs/tencent-callkit-v4.md §7.4): identifier "0", 2019-10-01 06:10:00 UTC, 180 days.
pub const A_TIME: u64 = 1_569_910_200;
pub const A_EXPIRE: u64 = 15_552_000;
/// `A_TIME + A_EXPIRE`: the last valid second of the B strings.
pub const A_EXPIRES_AT: u64 = 1_585_462_200;
pub const A_CONTENT: &str =
    "TLS.identifier:0\nTLS.sdkappid:1400000000\nTLS.time:1569910200\nTLS.expire:15552000\n";
pub const A_SIG: &str = "CpjuBdQs9ZwnuGAJR8onoOeI9fweX2vIMMY94iOJWJY=";
pub const A_SIG_USERBUF: &str = "bC3u5cuslSg8Ds7KY58mhSkTrxunrFu50dkdkCYH4i8=";

pub const B_NO_BUF: &str = "eJyrVgrxCdYrSy1SslIy0jNQ0gHzM1NS80oy0zLBwjDB4pTsxIKCzBQlK0MTAyiAyKRWFGQWpQLFTU1NjeCiJZm5YDEzS0tDAyOYaHFmOtBM54KsUqeUwGLLqPK8UndHryCL-Lx8-1RPy7Ty1AijMk9f30hLk0x-r3CvSFulWgAPYy*9";
pub const B_NO_BUF_JSON: &str = r#"{"TLS.ver":"2.0","TLS.identifier":"0","TLS.sdkappid":1400000000,"TLS.expire":15552000,"TLS.time":1569910200,"TLS.sig":"CpjuBdQs9ZwnuGAJR8onoOeI9fweX2vIMMY94iOJWJY="}"#;
pub const B_WITH_BUF: &str = "eJw9zEELwiAcBfDv4jmGs1lu0GkRUd0chMeWbv2zDdEZg*i7J5a92-s9eC-UnHj2VBZViGQYLWIHqcYJOoic0El9MQYkqvIC--Jd1GzAquCUUvLXCYZoq7LMMUnqnbKt78KvOB-u6Rr6AG299PTq3YP3bOvWR0HZcOO6sbMf7c5TLLXUtdgXwDbo-QEmHTZF";
pub const B_WITH_BUF_JSON: &str = r#"{"TLS.ver":"2.0","TLS.identifier":"0","TLS.sdkappid":1400000000,"TLS.expire":15552000,"TLS.time":1569910200,"TLS.userbuf":"YWJj","TLS.sig":"bC3u5cuslSg8Ds7KY58mhSkTrxunrFu50dkdkCYH4i8="}"#;

/// Vectors C (docs/tencent-callkit-v4.md §7.4): the same construction fed milliseconds.
pub const C_TIME_MS: u64 = 1_569_910_200_000;
pub const C_EXPIRE_MS: u64 = 15_552_000_000;
pub const C_SIG: &str = "bEj7EPKeOGh/DZ+LevCNXjSrLtgjj+lC8Ed0uirJXYU=";
pub const C_SIG_USERBUF: &str = "sWtbl2+lkv1DcoBF2Y2IWjGB44KoDgDIFxdhzwVXo2Q=";

/// One row of vectors D (docs/tencent-callkit-v4.md §7.4).
pub struct DRow {
    pub identifier: &'static str,
    pub time: u64,
    pub expire: u64,
    pub userbuf: Option<&'static [u8]>,
    pub sig: &'static str,
}

/// Vectors D (docs/tencent-callkit-v4.md §7.4), from the official Python logic (row 1 also Node).
pub const D_ROWS: [DRow; 3] = [
    DRow {
        identifier: "xiaojun",
        time: 1_700_000_000,
        expire: 15_552_000,
        userbuf: None,
        sig: "LvA7d/Iw7gSsnskvVzBDPOCCDbuNCw4GHwTC0bip+B4=",
    },
    DRow {
        identifier: "administrator",
        time: 1_700_000_000,
        expire: 86_400,
        userbuf: None,
        sig: "yLAe+w7WUeUuqbV9h/TX78u21oTGi+i9Zp1u3PpnY60=",
    },
    DRow {
        identifier: "xiaojun",
        time: 1_700_000_000,
        expire: 15_552_000,
        userbuf: Some(b"abc"),
        sig: "QjT201xPkXk/aM1e+y0vakZb0K2iPrFue++0s5y6bFM=",
    },
];
/// Row 1 as minted by the official Python library (spaces in the JSON).
pub const D_PYTHON: &str = "eJyrVgrxCdYrSy1SslJQMtIzUNJRAItkpqTmlWSmZUIkKjIT87NK82CSxSnZiQUFmSlAKUMTAyiAyqVWFGQWpYJkTE1NjRDiJZm5YFFzNPXFmekgG3zKHM1T9D3LzdODi-OKs8vCqpxcAvydnV2SSv2cy03cPcpDnA2SMgu0nUxslWoBHdYzUg__";
/// Row 1 as minted by the official Node library (time before expire).
pub const D_NODE: &str = "eJyrVgrxCdYrSy1SslIy0jNQ0gHzM1NS80oy0zLBwhWZiflZpXlQqeKU7MSCgswUJStDEwMogMiUZOamKlkZmqOKplYUZBaBxE1NTY3gosWZ6UpWSj5ljuYp*p7l5unBxXnF2WVhVU4uAf7Ozi5JpX7O5SbuHuUhzgZJmQXaTia2SrUAohcx8g__";

/// A zlib stream of `data` at any level, as the official libraries write them.
pub fn deflate_at(data: &[u8], level: u32) -> Vec<u8> {
    use std::io::Write;
    let mut enc = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::new(level));
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

/// Packs raw JSON text the way a UserSig is built, at any zlib level.
pub fn pack_at(json: &[u8], level: u32) -> String {
    super::codec::encode_tencent_base64(&deflate_at(json, level))
}

/// Packs raw JSON text at the official default level 6.
pub fn pack(json: &str) -> String {
    pack_at(json.as_bytes(), 6)
}

/// The JSON inside a UserSig string.
pub fn unpack(usersig: &str) -> String {
    let bytes = super::codec::decode_tencent_base64(usersig).unwrap();
    let json = super::codec::zlib_inflate_capped(&bytes, super::codec::MAX_JSON_LEN).unwrap();
    String::from_utf8(json).unwrap()
}
