//! Per-command request counters, so tests can prove nothing was sent twice.

use callkit_core::command::Command;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

/// `received`: every request routed to a command (faulted ones included);
/// `succeeded`: those that executed and answered ErrorCode 0.
#[derive(Debug, Default)]
pub struct Counters {
    received: [AtomicU64; 8],
    succeeded: [AtomicU64; 8],
}

/// JSON view: command name → count, all eight always present.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CountersView {
    pub received: BTreeMap<&'static str, u64>,
    pub succeeded: BTreeMap<&'static str, u64>,
}

/// The index of a command in `Command::ALL`, used as a slot number.
pub fn slot(command: Command) -> usize {
    Command::ALL
        .iter()
        .position(|c| *c == command)
        .unwrap_or_default()
}

impl Counters {
    pub fn received(&self, command: Command) {
        self.received[slot(command)].fetch_add(1, Ordering::Relaxed);
    }

    pub fn succeeded(&self, command: Command) {
        self.succeeded[slot(command)].fetch_add(1, Ordering::Relaxed);
    }

    pub fn reset(&self) {
        for c in self.received.iter().chain(self.succeeded.iter()) {
            c.store(0, Ordering::Relaxed);
        }
    }

    /// Adds this set into `view` (for totals across apps).
    pub fn add_to(&self, view: &mut CountersView) {
        for (i, command) in Command::ALL.iter().enumerate() {
            *view.received.entry(command.name()).or_default() +=
                self.received[i].load(Ordering::Relaxed);
            *view.succeeded.entry(command.name()).or_default() +=
                self.succeeded[i].load(Ordering::Relaxed);
        }
    }

    pub fn view(&self) -> CountersView {
        let mut view = CountersView::default();
        self.add_to(&mut view);
        view
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_per_command_and_resets() {
        let c = Counters::default();
        c.received(Command::EndCall);
        c.received(Command::EndCall);
        c.succeeded(Command::EndCall);
        let v = c.view();
        assert_eq!(v.received.len(), 8);
        assert_eq!(v.received["end_call"], 2);
        assert_eq!(v.succeeded["end_call"], 1);
        assert_eq!(v.received["get_call_info"], 0);
        c.reset();
        assert_eq!(c.view().received["end_call"], 0);
    }

    #[test]
    fn slots_are_distinct() {
        let mut slots: Vec<usize> = Command::ALL.iter().map(|c| slot(*c)).collect();
        slots.dedup();
        assert_eq!(slots, (0..8).collect::<Vec<_>>());
    }
}
