//! The JSON document inside a UserSig, as written and as read.

use serde::{Deserialize, Serialize};

/// The only version this module speaks; v1 sigs use ECDSA and other fields.
pub const VERSION: &str = "2.0";

/// Outgoing document. Field order is the Go/Python/PHP key order
/// (ver, identifier, sdkappid, expire, time, [userbuf], sig), which
/// serde_json keeps for structs.
#[derive(Serialize)]
pub struct OutgoingDoc<'a> {
    #[serde(rename = "TLS.ver")]
    pub ver: &'a str,
    #[serde(rename = "TLS.identifier")]
    pub identifier: &'a str,
    #[serde(rename = "TLS.sdkappid")]
    pub sdkappid: u64,
    #[serde(rename = "TLS.expire")]
    pub expire: u64,
    #[serde(rename = "TLS.time")]
    pub time: u64,
    #[serde(rename = "TLS.userbuf", skip_serializing_if = "Option::is_none")]
    pub userbuf: Option<&'a str>,
    #[serde(rename = "TLS.sig")]
    pub sig: &'a str,
}

/// Incoming document, any key order. Numbers must be JSON integers: every
/// official library (Go, Python, Node, PHP, Java, C++, C#) writes them so,
/// none writes numeric strings. Unknown keys are ignored; duplicates refused.
#[derive(Deserialize)]
pub struct IncomingDoc {
    #[serde(rename = "TLS.ver")]
    pub ver: String,
    #[serde(rename = "TLS.identifier")]
    pub identifier: String,
    #[serde(rename = "TLS.sdkappid")]
    pub sdkappid: u64,
    #[serde(rename = "TLS.expire")]
    pub expire: u64,
    #[serde(rename = "TLS.time")]
    pub time: u64,
    #[serde(rename = "TLS.userbuf", default)]
    pub userbuf: Option<String>,
    #[serde(rename = "TLS.sig")]
    pub sig: String,
}
