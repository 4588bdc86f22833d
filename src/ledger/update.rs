//! What one change tells the ledger about a call: its facts, each with the
//! rank of the source that says it, and new timeline entries. Built from the
//! board's own change (so the board's `EventTime` rules decide what changed)
//! or from Tencent's record; merged into D1 by `super::write`.

use callkit_core::models::{CallRecord, WebhookEvent};
use serde::Serialize;

use crate::board::{EndedBy, LiveCall, MemberStatus, Tracked};

/// Ranks of the end facts (result, accept and end time, call type, caller).
pub mod fact {
    pub const NONE: u8 = 0;
    pub const RECONCILE: u8 = 1;
    pub const WEBHOOK: u8 = 2;
    pub const RECORD: u8 = 3;
}

/// Ranks of who says the call ended: the end webhook's timeline wins.
pub mod end {
    pub const NONE: u8 = 0;
    pub const RECONCILE: u8 = 1;
    pub const RECORD: u8 = 2;
    pub const WEBHOOK: u8 = 3;

    pub fn source(rank: u8) -> Option<&'static str> {
        match rank {
            RECONCILE => Some("reconcile"),
            RECORD => Some("record"),
            WEBHOOK => Some("webhook"),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    pub at: u64,
    /// `""` for the call's own events (`ended`).
    pub user_id: String,
    pub event: String,
    pub reason: Option<String>,
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Update {
    pub call_id: String,
    pub caller: Option<String>,
    pub media_type: Option<String>,
    pub call_type: Option<String>,
    pub result: Option<String>,
    pub started_at: u64,
    pub accepted_at: Option<u64>,
    pub ended_at: Option<u64>,
    pub room_id: String,
    pub group_id: String,
    pub fact_rank: u8,
    pub start_src: String,
    pub end_rank: u8,
    pub record_src: Option<String>,
    pub members: Vec<String>,
    pub timeline: Vec<Entry>,
}

/// Where a merged record came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordSource {
    Fetch,
    Backfill,
}

impl RecordSource {
    pub fn as_str(self) -> &'static str {
        match self {
            RecordSource::Fetch => "fetch",
            RecordSource::Backfill => "backfill",
        }
    }
}

/// A Tencent enum as the API spells it (`"Video"`, `"NormalEnd"`).
pub fn word<T: Serialize>(value: &T) -> Option<String> {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
}

impl Update {
    /// The ledger's part of a board change from `before` to `after`;
    /// `event` is the webhook that made it (none for a reconcile).
    pub fn from_board(
        before: Option<&Tracked>,
        after: &Tracked,
        event: Option<&WebhookEvent>,
    ) -> Self {
        let call = &after.call;
        let old = before.map(|t| &t.call);
        let (fact_rank, end_rank) = match call.ended_by {
            Some(EndedBy::Webhook) => (fact::WEBHOOK, end::WEBHOOK),
            Some(EndedBy::Reconcile) => (fact::RECONCILE, end::RECONCILE),
            None => (fact::NONE, end::NONE),
        };
        let timeline = timeline_of(old, call);
        let accepted_at = match event {
            Some(WebhookEvent::AfterEndCall(e)) if e.call_record.accept_time > 0 => {
                Some(e.call_record.accept_time * 1000)
            }
            _ => first_answer(call),
        };
        Self {
            call_id: call.call_id.clone(),
            caller: call.caller.clone(),
            media_type: call.media_type.as_ref().and_then(word),
            call_type: call.call_type.as_ref().and_then(word),
            result: call.call_result.as_ref().and_then(word),
            started_at: call.started_at,
            accepted_at,
            ended_at: call.ended_at,
            room_id: call.room_id.clone(),
            group_id: call.group_id.clone(),
            fact_rank,
            start_src: "webhook".to_owned(),
            end_rank,
            record_src: None,
            members: call.participants().into_iter().map(str::to_owned).collect(),
            timeline,
        }
    }

    /// Tencent's record of an ended call: the authoritative end facts.
    pub fn from_record(record: &CallRecord, source: RecordSource) -> Self {
        let started_at = record.start_time * 1000;
        let ended_at = record.end_time * 1000;
        let result = word(&record.call_result);
        let caller = record.caller_account.clone();
        let mut members = vec![caller.clone()];
        for callee in &record.callee_list_account {
            if !members.contains(callee) {
                members.push(callee.clone());
            }
        }
        let entry = |at, user_id: &str, event: &str, reason: Option<String>| Entry {
            at,
            user_id: user_id.to_owned(),
            event: event.to_owned(),
            reason,
            source: "record".to_owned(),
        };
        Self {
            call_id: record.call_id.clone(),
            caller: Some(caller.clone()),
            media_type: word(&record.media_type),
            call_type: word(&record.call_type),
            result: result.clone(),
            started_at,
            accepted_at: (record.accept_time > 0).then(|| record.accept_time * 1000),
            ended_at: Some(ended_at),
            room_id: record.room_id.clone(),
            group_id: String::new(),
            fact_rank: fact::RECORD,
            start_src: "record".to_owned(),
            end_rank: end::RECORD,
            record_src: Some(source.as_str().to_owned()),
            members,
            timeline: vec![
                entry(started_at, &caller, "started", None),
                entry(ended_at, "", "ended", result),
            ],
        }
    }

    pub fn is_ended(&self) -> bool {
        self.end_rank > end::NONE
    }
}

/// When the first member other than the caller was in the call.
fn first_answer(call: &LiveCall) -> Option<u64> {
    call.members
        .iter()
        .filter(|m| Some(&m.user_id) != call.caller.as_ref())
        .filter(|m| m.status == MemberStatus::Calling)
        .map(|m| m.changed_at)
        .min()
}

/// What happened between the two views of the call, in ledger words.
fn timeline_of(old: Option<&LiveCall>, call: &LiveCall) -> Vec<Entry> {
    let entry = |at, user_id: &str, event: &str, reason: Option<String>| Entry {
        at,
        user_id: user_id.to_owned(),
        event: event.to_owned(),
        reason,
        source: "webhook".to_owned(),
    };
    let mut out = Vec::new();
    if let (Some(caller), None) = (&call.caller, old.and_then(|o| o.caller.as_ref())) {
        out.push(entry(call.started_at, caller, "started", None));
    }
    for m in &call.members {
        let before = old.and_then(|o| o.members.iter().find(|b| b.user_id == m.user_id));
        if before.map(|b| (b.status, &b.last_action)) == Some((m.status, &m.last_action)) {
            continue;
        }
        let is_caller = call.caller.as_ref() == Some(&m.user_id);
        let event = match m.status {
            MemberStatus::Calling if is_caller => continue,
            MemberStatus::Waiting => "invited",
            MemberStatus::Calling => "joined",
            MemberStatus::Left => "left",
        };
        out.push(entry(
            m.changed_at,
            &m.user_id,
            event,
            m.last_action.clone(),
        ));
    }
    let was_live = old.is_none_or(LiveCall::is_live);
    if let (false, true, Some(at)) = (call.is_live(), was_live, call.ended_at) {
        let result = call.call_result.as_ref().and_then(word);
        out.push(entry(at, "", "ended", result));
    }
    out
}

#[cfg(test)]
#[path = "update_tests.rs"]
mod tests;
