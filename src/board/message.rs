//! What the board sends down a live socket (docs/live-board.md).

use serde::Serialize;

use super::call::LiveCall;

/// Counts over every call a viewer may see, sent with a snapshot that may
/// hold only the newest of them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub total: u64,
    pub live: u64,
    pub ended: u64,
    pub audio: u64,
    pub video: u64,
}

impl Summary {
    /// Adds another shard's counts.
    pub fn add(&mut self, other: &Summary) {
        self.total += other.total;
        self.live += other.live;
        self.ended += other.ended;
        self.audio += other.audio;
        self.video += other.video;
    }
}

#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Message<'a> {
    /// The visible board, first thing on a new socket: the newest calls (at
    /// most `SNAPSHOT_MAX`, live first) and counts over all of them.
    Snapshot {
        calls: Vec<&'a LiveCall>,
        now: u64,
        summary: Summary,
    },
    /// A visible call after a change.
    Call { call: &'a LiveCall },
    /// A call pruned from the board.
    Removed {
        #[serde(rename = "callId")]
        call_id: &'a str,
    },
    /// The board is about to close this socket with `code`. Sent first
    /// because a client may learn of the close itself only when the
    /// connection ends, which the runtime can put off for as long as the
    /// object stays busy (Node's `ws` then waits 30 s).
    Closing { code: u16, reason: &'a str },
}

/// Calls one snapshot carries at most: a board of 10,000 calls would be a
/// frame of megabytes (the runtime's limit on a message is 1 MiB).
pub const SNAPSHOT_MAX: u32 = 500;

impl Message<'_> {
    pub fn to_json(&self) -> String {
        // Plain structs of strings and numbers always serialize.
        serde_json::to_string(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn parse(message: Message) -> Value {
        serde_json::from_str(&message.to_json()).unwrap()
    }

    #[test]
    fn each_message_is_tagged_by_type() {
        let call = LiveCall::new("c-1", 7);
        let summary = Summary {
            total: 700,
            live: 650,
            ended: 50,
            audio: 600,
            video: 100,
        };
        let snapshot = parse(Message::Snapshot {
            calls: vec![&call],
            now: 9,
            summary,
        });
        assert_eq!(snapshot["type"], "snapshot");
        assert_eq!(
            snapshot["summary"],
            json!({"total": 700, "live": 650, "ended": 50, "audio": 600, "video": 100})
        );
        assert_eq!(snapshot["now"], 9);
        assert_eq!(snapshot["calls"][0]["callId"], "c-1");
        assert_eq!(parse(Message::Call { call: &call })["call"]["startedAt"], 7);
        assert_eq!(
            parse(Message::Removed { call_id: "c-1" }),
            json!({"type": "removed", "callId": "c-1"})
        );
        assert_eq!(
            parse(Message::Closing {
                code: 4001,
                reason: "ticket expired"
            }),
            json!({"type": "closing", "code": 4001, "reason": "ticket expired"})
        );
    }
}
