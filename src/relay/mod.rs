//! The webhook relay (docs/relay.md): every event the receivers accept goes
//! on, through a Cloudflare Queue, to the app's own backends, signed the
//! Standard Webhooks way, retried with backoff, logged for redelivery.
//!
//! `job` and `signature` and `backoff` are plain logic; `enqueue` (the
//! producer), `consume` (the consumer), `deliver` (one attempt) and `log`
//! (the delivery log's Durable Object) are the Worker glue around them.

pub mod backoff;
pub mod consume;
pub mod deliver;
pub mod enqueue;
pub mod job;
pub mod log;
pub mod signature;

use crate::platform::relay_config::MAX_FORWARD_URLS;

/// One queue per position in `WEBHOOK_FORWARD_URLS`, so a backend that hangs
/// holds up only its own deliveries: producer bindings `WEBHOOK_RELAY_0` …
/// `WEBHOOK_RELAY_4` of the queues `callkit-relay-0` … `callkit-relay-4`.
pub const QUEUE_BINDINGS: [&str; MAX_FORWARD_URLS] = [
    "WEBHOOK_RELAY_0",
    "WEBHOOK_RELAY_1",
    "WEBHOOK_RELAY_2",
    "WEBHOOK_RELAY_3",
    "WEBHOOK_RELAY_4",
];
/// The queues' names share this prefix; `src/lib.rs` dispatches on it.
pub const QUEUE_PREFIX: &str = "callkit-relay-";
/// Where a job goes after `max_retries`.
pub const DEAD_LETTER_QUEUE: &str = "callkit-relay-dlq";

/// Whether a batch of `queue` is one of the relay's deliveries.
pub fn is_delivery_queue(queue: &str) -> bool {
    queue
        .strip_prefix(QUEUE_PREFIX)
        .and_then(|n| n.parse::<usize>().ok())
        .is_some_and(|n| n < MAX_FORWARD_URLS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_delivery_queues_are_named_by_position() {
        for n in 0..MAX_FORWARD_URLS {
            assert!(is_delivery_queue(&format!("callkit-relay-{n}")));
            assert_eq!(QUEUE_BINDINGS[n], format!("WEBHOOK_RELAY_{n}"));
        }
        for other in [
            "callkit-relay-5",
            DEAD_LETTER_QUEUE,
            "callkit-relay",
            "ledger",
        ] {
            assert!(!is_delivery_queue(other), "{other}");
        }
    }
}
