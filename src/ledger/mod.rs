//! The call ledger: every call the edge hears of, kept in D1 (`CALL_LEDGER`)
//! for `HISTORY_RETENTION_DAYS`, fed by the board's changes and Tencent's
//! records, and read by the history API (docs/call-ledger.md).
//!
//! Writing: the board object queues an `Update` in its own storage in the
//! same turn it applies a webhook (`outbox`); its alarm merges the queue
//! into D1 (`drain`, `write`), fetches the record after each end, and runs
//! the backfill. Reading: `filter` checks a query, `read`, `stats` and
//! `export` answer it, `erase` and `retention` delete.

pub mod backfill;
pub mod config;
pub mod csv;
pub mod db;
pub mod drain;
pub mod erase;
pub mod export;
pub mod filter;
pub mod log;
pub mod outbox;
pub mod presence;
pub mod read;
pub mod retention;
pub mod rollup;
pub mod stats;
pub mod update;
pub mod view;
pub mod write;

pub use config::LedgerConfig;
pub use db::{Ledger, LedgerError};
pub use update::Update;

#[cfg(test)]
#[path = "queries_tests.rs"]
mod queries_tests;
