//! Socket tickets: a browser cannot put `Authorization` on a WebSocket and a
//! token must never ride in a URL, so a signed-in caller trades their token
//! for a short-lived, single-use ticket. The ticket is signed by the edge
//! (HMAC-SHA256 with the app's own secret), so a forged or expired one is
//! refused before any board object is touched; the object still spends each
//! ticket once.
//!
//! Wire form: lower-case hex of `payload ‖ mac`, where
//! `payload = version ‖ nonce(16) ‖ expires_ms(8) ‖ socket_until_ms(8) ‖
//! shard(2) ‖ admin(1) ‖ user_id` and `mac = HMAC(secret, LABEL ‖ payload)`.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::board::Viewer;

const VERSION: u8 = 1;
const NONCE_BYTES: usize = 16;
const MAC_BYTES: usize = 32;
/// Everything before the user id.
const FIXED_BYTES: usize = 1 + NONCE_BYTES + 8 + 8 + 2 + 1;
/// A TUICallKit UserID is at most 32 bytes; JWT subjects are held to it too.
const MAX_USER_BYTES: usize = 32;
/// Keeps the ticket's MAC apart from anything else the same secret signs
/// (UserSigs sign text that starts with `TLS.identifier:`).
const LABEL: &[u8] = b"callkit-edge/live-ticket/v1\0";
/// The longest text a ticket can be; anything longer is refused unread.
pub const MAX_TICKET_LEN: usize = 2 * (FIXED_BYTES + MAX_USER_BYTES + MAC_BYTES);

/// What a valid ticket says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket {
    /// Spent once, in the shard's object.
    pub nonce: String,
    pub expires_ms: u64,
    /// The socket it opens is closed (4001) at this instant.
    pub socket_until_ms: u64,
    pub shard: u16,
    pub viewer: Viewer,
}

/// Why a ticket was refused; the caller answers all of them the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TicketError {
    Malformed,
    BadMac,
    Expired,
}

/// Signs a ticket for `ticket.viewer`; `None` for a user id too long to carry.
pub fn issue(secret: &[u8], ticket: &Ticket) -> Option<String> {
    let user = ticket.viewer.user_id.as_bytes();
    if user.len() > MAX_USER_BYTES || ticket.nonce.len() != NONCE_BYTES * 2 {
        return None;
    }
    let mut payload = Vec::with_capacity(FIXED_BYTES + user.len());
    payload.push(VERSION);
    payload.extend(unhex(&ticket.nonce)?);
    payload.extend(ticket.expires_ms.to_be_bytes());
    payload.extend(ticket.socket_until_ms.to_be_bytes());
    payload.extend(ticket.shard.to_be_bytes());
    payload.push(u8::from(ticket.viewer.is_admin));
    payload.extend(user);
    let mac = mac(secret, &payload).finalize().into_bytes();
    payload.extend(mac);
    Some(hex(&payload))
}

/// Checks the MAC (in constant time) and the expiry, then reads the ticket.
pub fn verify(secret: &[u8], text: &str, now_ms: u64) -> Result<Ticket, TicketError> {
    if text.len() > MAX_TICKET_LEN {
        return Err(TicketError::Malformed);
    }
    let bytes = unhex(text).ok_or(TicketError::Malformed)?;
    if bytes.len() < FIXED_BYTES + 1 + MAC_BYTES || bytes[0] != VERSION {
        return Err(TicketError::Malformed);
    }
    let (payload, sent_mac) = bytes.split_at(bytes.len() - MAC_BYTES);
    mac(secret, payload)
        .verify_slice(sent_mac)
        .map_err(|_| TicketError::BadMac)?;
    let number = |at: usize| u64::from_be_bytes(payload[at..at + 8].try_into().unwrap_or([0; 8]));
    let nonce_end = 1 + NONCE_BYTES;
    let expires_ms = number(nonce_end);
    if expires_ms < now_ms {
        return Err(TicketError::Expired);
    }
    let user_id =
        std::str::from_utf8(&payload[FIXED_BYTES..]).map_err(|_| TicketError::Malformed)?;
    Ok(Ticket {
        nonce: hex(&payload[1..nonce_end]),
        expires_ms,
        socket_until_ms: number(nonce_end + 8),
        shard: u16::from_be_bytes([payload[nonce_end + 16], payload[nonce_end + 17]]),
        viewer: Viewer {
            user_id: user_id.to_owned(),
            is_admin: payload[FIXED_BYTES - 1] == 1,
        },
    })
}

/// 16 random bytes as lower-case hex.
pub fn new_nonce() -> worker::Result<String> {
    let mut bytes = [0u8; NONCE_BYTES];
    getrandom::fill(&mut bytes).map_err(|e| worker::Error::RustError(e.to_string()))?;
    Ok(hex(&bytes))
}

/// Only what `new_nonce` makes is worth a storage lookup.
pub fn is_nonce(nonce: &str) -> bool {
    nonce.len() == NONCE_BYTES * 2
        && nonce
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fn mac(secret: &[u8], payload: &[u8]) -> Hmac<Sha256> {
    // HMAC takes a key of any length.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(LABEL);
    mac.update(payload);
    mac
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Lower-case hex only: the one spelling `issue` writes.
fn unhex(text: &str) -> Option<Vec<u8>> {
    let digit = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    let bytes = text.as_bytes();
    if !bytes.len().is_multiple_of(2) {
        return None;
    }
    bytes
        .chunks(2)
        .map(|pair| Some(digit(pair[0])? << 4 | digit(pair[1])?))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";
    const NOW: u64 = 1_700_000_000_000;

    fn ticket(user: &str, admin: bool) -> Ticket {
        Ticket {
            nonce: new_nonce().unwrap(),
            expires_ms: NOW + 30_000,
            socket_until_ms: NOW + 3_600_000,
            shard: 3,
            viewer: Viewer {
                user_id: user.into(),
                is_admin: admin,
            },
        }
    }

    #[test]
    fn a_ticket_round_trips_and_is_lower_case_hex() {
        let t = ticket("alice", false);
        let text = issue(SECRET, &t).unwrap();
        assert!(text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
        assert_eq!(verify(SECRET, &text, NOW), Ok(t.clone()));
        assert_eq!(verify(SECRET, &text, NOW + 30_000), Ok(t));
        let admin = ticket(&"x".repeat(32), true);
        let text = issue(SECRET, &admin).unwrap();
        assert!(text.len() <= MAX_TICKET_LEN);
        assert_eq!(verify(SECRET, &text, NOW).unwrap().viewer, admin.viewer);
        assert_eq!(issue(SECRET, &ticket(&"x".repeat(33), false)), None);
    }

    #[test]
    fn any_change_another_key_or_expiry_is_refused() {
        let text = issue(SECRET, &ticket("alice", false)).unwrap();
        assert_eq!(
            verify(SECRET, &text, NOW + 30_001),
            Err(TicketError::Expired)
        );
        assert_eq!(
            verify(b"another secret", &text, NOW),
            Err(TicketError::BadMac)
        );
        // Flip each hex digit of the payload: every one breaks the MAC.
        for i in 0..text.len() {
            let mut bytes = text.clone().into_bytes();
            bytes[i] = if bytes[i] == b'0' { b'1' } else { b'0' };
            let forged = String::from_utf8(bytes).unwrap();
            assert!(verify(SECRET, &forged, NOW).is_err(), "digit {i}");
        }
        // Claiming admin, another user or shard without the key.
        let forged = text.replacen(&hex(b"alice"), &hex(b"admin"), 1);
        assert_eq!(verify(SECRET, &forged, NOW), Err(TicketError::BadMac));
        for bad in [
            "",
            "zz",
            &text.to_uppercase(),
            &text[1..],
            &"a".repeat(64),
            &"0".repeat(MAX_TICKET_LEN + 2),
        ] {
            assert!(verify(SECRET, bad, NOW).is_err(), "{bad}");
        }
    }

    #[test]
    fn nonces_are_random_hex_of_fixed_length() {
        let a = new_nonce().unwrap();
        assert!(is_nonce(&a));
        assert_ne!(a, new_nonce().unwrap());
        assert!(!is_nonce(&a.to_uppercase()));
        assert!(!is_nonce(&a[1..]));
        assert!(!is_nonce(&format!("{}'", &a[1..])));
    }
}
