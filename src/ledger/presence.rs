//! TRTC's room presence in the member timeline (docs/call-ledger.md): who
//! entered or left the call's media room (and why), and who turned video,
//! audio or a screen share on or off. Each entry is one change of the
//! room's presence (`crate::board::presence`) at the event's `EventMsTs`,
//! so the ledger's unique key (call, user, event, time) takes it once
//! however often it is queued: Tencent's retries, every shard the event
//! fans out to, and the room's held events joined at the call's start.

use super::update::{end, fact, Entry, Update};
use crate::board::presence::RoomPresence;
use crate::board::LiveCall;

/// The timeline's `source` for these entries.
pub const SOURCE: &str = "trtc";

/// How far outside the call's start and end a room's event still belongs
/// to it: a caller may enter before the start webhook's time, and an exit
/// by timeout comes some time after the hang-up.
pub const SLACK_MS: u64 = 120_000;

/// What changed for each person between two views of a room.
pub fn entries(before: &[RoomPresence], after: &[RoomPresence]) -> Vec<Entry> {
    let mut out = Vec::new();
    for now in after {
        let then = before.iter().find(|p| p.user_id == now.user_id);
        changes(then, now, &mut out);
    }
    out
}

fn changes(then: Option<&RoomPresence>, now: &RoomPresence, out: &mut Vec<Entry>) {
    let was_in = then.is_some_and(|p| p.in_room);
    let entry = |event: &str, reason: Option<&String>, at: u64| Entry {
        at,
        user_id: now.user_id.clone(),
        event: event.to_owned(),
        reason: reason.cloned(),
        source: SOURCE.to_owned(),
    };
    match (was_in, now.in_room) {
        (false, true) => out.push(entry("room_entered", None, now.since)),
        // Leaving ends every stream: no `*_off` entries besides.
        (true, false) => {
            return out.push(entry("room_exited", now.exit_reason.as_ref(), now.since))
        }
        (false, false) => return,
        (true, true) => {}
    }
    let media = |p: Option<&RoomPresence>| {
        p.filter(|p| p.in_room)
            .map_or([false; 3], |p| [p.video, p.audio, p.screen])
    };
    let (old, new) = (media(then), media(Some(now)));
    for (i, kind) in ["video", "audio", "screen"].into_iter().enumerate() {
        if old[i] != new[i] {
            let state = if new[i] { "on" } else { "off" };
            out.push(entry(&format!("{kind}_{state}"), None, now.at));
        }
    }
}

/// The entries that belong to `call`: those from its start to its end,
/// give or take `SLACK_MS`.
pub fn within(call: &LiveCall, entries: &[Entry]) -> Vec<Entry> {
    let from = call.started_at.saturating_sub(SLACK_MS);
    let to = call
        .ended_at
        .map_or(u64::MAX, |at| at.saturating_add(SLACK_MS));
    entries
        .iter()
        .filter(|e| (from..=to).contains(&e.at))
        .cloned()
        .collect()
}

/// An update that adds `timeline` to the call and nothing else: ranked
/// below every source, it only fills facts the ledger lacks, and it never
/// counts as an end (no record is fetched for it).
pub fn update(call: &LiveCall, timeline: Vec<Entry>) -> Update {
    Update {
        call_id: call.call_id.clone(),
        caller: call.caller.clone(),
        media_type: None,
        call_type: None,
        result: None,
        started_at: call.started_at,
        accepted_at: None,
        ended_at: None,
        room_id: call.room_id.clone(),
        group_id: call.group_id.clone(),
        fact_rank: fact::NONE,
        start_src: "webhook".to_owned(),
        end_rank: end::NONE,
        record_src: None,
        members: Vec::new(),
        timeline,
    }
}

#[cfg(test)]
#[path = "presence_tests.rs"]
mod tests;
