//! UserSig (TLSSigAPIv2): mint, decode and verify (docs/tencent-callkit-v4.md §7).
//! A verifier must decode and parse; UserSig strings from
//! different official libraries differ for the same fields.

mod codec;
mod decode;
mod document;
mod error;
mod mint;
mod verify;

pub use codec::{encode_tencent_base64, zlib_store, MAX_JSON_LEN, MAX_USERSIG_LEN};
pub use decode::{decode, DecodedUserSig};
pub use error::UserSigError;
pub use mint::{hmac_content, mint, mint_now, mint_with, sign, SigFields, SigningKey};
pub use verify::{verify, verify_decoded, verify_with, Expected};

#[cfg(test)]
mod fixtures;
