//! Injected failures for the next N matching `/v4/` requests.

use crate::error::EmulatorError;
use callkit_core::command::Command;
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FaultKind {
    Delay,
    Html502,
    Drop,
    Error,
    Oversized,
}

/// Control-API request body (`POST /_emulator/faults`).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FaultSpec {
    pub kind: FaultKind,
    #[serde(default = "one")]
    pub count: u32,
    pub delay_ms: Option<u64>,
    pub error_code: Option<i64>,
    /// A command word (`start_call_by_robot`) or path; absent = any command.
    pub command: Option<String>,
    #[serde(default)]
    pub after_execute: bool,
    /// `oversized` only: gzip the padded answer (`Content-Encoding: gzip`).
    #[serde(default)]
    pub gzip: bool,
}

fn one() -> u32 {
    1
}

/// What to do to one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Wait, then answer normally.
    Delay(Duration),
    /// An nginx-style HTML 502 page instead of the envelope.
    Html502,
    /// Close the connection without an answer; with `after_execute` the
    /// command runs first, so its effect happens but the caller never hears.
    Drop { after_execute: bool },
    /// Answer this ErrorCode instead of running the command.
    Error(i64),
    /// Run the command, then put 2 MiB of JSON whitespace before its answer:
    /// still a valid envelope, but larger than any client should read.
    Oversized { gzip: bool },
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PendingFault {
    pub kind: FaultKind,
    pub remaining: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delay_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<i64>,
    pub after_execute: bool,
}

#[derive(Debug, Clone)]
struct Entry {
    fault: Fault,
    command: Option<Command>,
    remaining: u32,
}

/// FIFO of armed faults. A request takes one use of the first entry that
/// matches its command. `armed` lets the hot path skip the lock when empty.
#[derive(Debug, Default)]
pub struct FaultQueue {
    armed: AtomicUsize,
    entries: Mutex<Vec<Entry>>,
}

fn parse_command(word: &str) -> Option<Command> {
    let word = word
        .trim()
        .trim_start_matches("/v4/")
        .trim_start_matches('/');
    Command::ALL
        .into_iter()
        .find(|c| c.name() == word || c.path() == word)
}

impl FaultQueue {
    pub fn push(&self, spec: FaultSpec) -> Result<PendingFault, EmulatorError> {
        if spec.count == 0 {
            return Err(EmulatorError::BadRequest("count must be at least 1".into()));
        }
        let command =
            match spec.command.as_deref() {
                None => None,
                Some(word) => Some(parse_command(word).ok_or_else(|| {
                    EmulatorError::BadRequest(format!("unknown command {word:?}"))
                })?),
            };
        let fault = match spec.kind {
            FaultKind::Delay => {
                let ms = spec
                    .delay_ms
                    .ok_or_else(|| EmulatorError::BadRequest("delay needs delayMs".into()))?;
                Fault::Delay(Duration::from_millis(ms))
            }
            FaultKind::Html502 => Fault::Html502,
            FaultKind::Drop => Fault::Drop {
                after_execute: spec.after_execute,
            },
            FaultKind::Oversized => Fault::Oversized { gzip: spec.gzip },
            FaultKind::Error => match spec.error_code {
                Some(code) if code != 0 => Fault::Error(code),
                _ => {
                    return Err(EmulatorError::BadRequest(
                        "error needs a non-zero errorCode".into(),
                    ))
                }
            },
        };
        let entry = Entry {
            fault,
            command,
            remaining: spec.count,
        };
        let view = view(&entry);
        self.entries.lock().push(entry);
        self.armed.fetch_add(1, Ordering::Release);
        Ok(view)
    }

    /// Consumes one use of the first fault matching `command`, if any.
    pub fn take(&self, command: Command) -> Option<Fault> {
        if self.armed.load(Ordering::Acquire) == 0 {
            return None;
        }
        let mut entries = self.entries.lock();
        let index = entries
            .iter()
            .position(|e| e.command.is_none_or(|c| c == command))?;
        let entry = &mut entries[index];
        let fault = entry.fault;
        entry.remaining -= 1;
        if entry.remaining == 0 {
            entries.remove(index);
            self.armed.fetch_sub(1, Ordering::Release);
        }
        Some(fault)
    }

    pub fn clear(&self) {
        let mut entries = self.entries.lock();
        entries.clear();
        self.armed.store(0, Ordering::Release);
    }

    pub fn pending(&self) -> Vec<PendingFault> {
        self.entries.lock().iter().map(view).collect()
    }
}

fn view(entry: &Entry) -> PendingFault {
    let (kind, delay_ms, error_code, after_execute) = match entry.fault {
        Fault::Delay(d) => (
            FaultKind::Delay,
            Some(u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
            None,
            false,
        ),
        Fault::Html502 => (FaultKind::Html502, None, None, false),
        Fault::Drop { after_execute } => (FaultKind::Drop, None, None, after_execute),
        Fault::Error(code) => (FaultKind::Error, None, Some(code), false),
        Fault::Oversized { .. } => (FaultKind::Oversized, None, None, false),
    };
    PendingFault {
        kind,
        remaining: entry.remaining,
        command: entry.command.map(Command::name),
        delay_ms,
        error_code,
        after_execute,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(json: &str) -> FaultSpec {
        serde_json::from_str(json).expect("spec")
    }

    #[test]
    fn fires_exactly_count_times_then_stops() {
        let q = FaultQueue::default();
        q.push(spec(r#"{"kind":"html502","count":2}"#))
            .expect("push");
        assert_eq!(q.take(Command::GetCallInfo), Some(Fault::Html502));
        assert_eq!(q.take(Command::EndCall), Some(Fault::Html502));
        assert_eq!(q.take(Command::GetCallInfo), None);
        assert!(q.pending().is_empty());
    }

    #[test]
    fn command_filter_leaves_other_commands_alone() {
        let q = FaultQueue::default();
        q.push(spec(
            r#"{"kind":"drop","count":1,"command":"start_call_by_robot","afterExecute":true}"#,
        ))
        .expect("push");
        assert_eq!(q.take(Command::GetCallInfo), None);
        assert_eq!(
            q.take(Command::StartCallByRobot),
            Some(Fault::Drop {
                after_execute: true
            })
        );
        assert_eq!(q.take(Command::StartCallByRobot), None);
    }

    #[test]
    fn fifo_across_entries() {
        let q = FaultQueue::default();
        q.push(spec(r#"{"kind":"error","errorCode":60018}"#))
            .expect("push");
        q.push(spec(r#"{"kind":"delay","delayMs":5,"count":1}"#))
            .expect("push");
        assert_eq!(q.pending().len(), 2);
        assert_eq!(q.take(Command::EndCall), Some(Fault::Error(60018)));
        assert_eq!(
            q.take(Command::EndCall),
            Some(Fault::Delay(Duration::from_millis(5)))
        );
        assert_eq!(q.take(Command::EndCall), None);
    }

    #[test]
    fn clear_disarms() {
        let q = FaultQueue::default();
        q.push(spec(r#"{"kind":"html502","count":5}"#))
            .expect("push");
        q.clear();
        assert_eq!(q.take(Command::GetCallInfo), None);
    }

    #[test]
    fn rejects_incomplete_specs() {
        let q = FaultQueue::default();
        for bad in [
            r#"{"kind":"delay"}"#,
            r#"{"kind":"error"}"#,
            r#"{"kind":"error","errorCode":0}"#,
            r#"{"kind":"html502","count":0}"#,
            r#"{"kind":"drop","command":"kick"}"#,
        ] {
            assert!(q.push(spec(bad)).is_err(), "{bad}");
        }
        assert!(serde_json::from_str::<FaultSpec>(r#"{"kind":"explode"}"#).is_err());
        assert!(q.pending().is_empty());
    }

    #[test]
    fn accepts_paths_as_command() {
        let q = FaultQueue::default();
        let p = q
            .push(spec(
                r#"{"kind":"html502","command":"/v4/call_config/get_callback"}"#,
            ))
            .expect("push");
        assert_eq!(p.command, Some("get_callback"));
    }
}
