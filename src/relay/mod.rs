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

/// The producer binding in wrangler.toml.
pub const QUEUE_BINDING: &str = "WEBHOOK_RELAY";
/// The queue's name, on which `src/lib.rs` dispatches a batch here.
pub const QUEUE: &str = "callkit-relay";
/// Where a job goes after `max_retries`.
pub const DEAD_LETTER_QUEUE: &str = "callkit-relay-dlq";
