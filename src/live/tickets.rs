//! Socket tickets: a browser cannot put `Authorization` on a WebSocket and a
//! token must never ride in a URL, so a signed-in caller trades their token
//! for a random, short-lived, single-use ticket.

use worker::Result;

const TICKET_BYTES: usize = 32;

/// 32 random bytes as lower-case hex.
pub fn new_ticket() -> Result<String> {
    let mut bytes = [0u8; TICKET_BYTES];
    getrandom::fill(&mut bytes).map_err(|e| worker::Error::RustError(e.to_string()))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Only what `new_ticket` makes is worth a storage lookup.
pub fn is_well_formed(ticket: &str) -> bool {
    ticket.len() == TICKET_BYTES * 2
        && ticket
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tickets_are_random_hex_of_fixed_length() {
        let a = new_ticket().unwrap();
        let b = new_ticket().unwrap();
        assert!(is_well_formed(&a), "{a}");
        assert_ne!(a, b);
        assert!(!is_well_formed(&a.to_uppercase()));
        assert!(!is_well_formed(&a[1..]));
        assert!(!is_well_formed(""));
        assert!(!is_well_formed(&format!("{}'", &a[1..])));
    }
}
