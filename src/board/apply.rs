//! How a webhook changes a call: idempotent, and in `EventTime` order. An
//! end is final, a stale member list is ignored, a duplicate changes nothing.

use callkit_core::models::{
    AfterEndCall, AfterMemberChanged, AfterStartCall, CallMember, CallType, ChangedMember,
    UserStatus, WebhookEvent,
};

use super::call::{EndedBy, LiveCall, Member, MemberStatus};

/// A call as stored: the board's view plus the `EventTime` of the member
/// list it shows, which decides whether a member list is stale.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tracked {
    pub call: LiveCall,
    pub members_at: u64,
}

/// Applies `event` to the call it names (`None`: never seen). Returns the
/// call after it, and whether anything changed.
pub fn apply(existing: Option<Tracked>, event: &WebhookEvent) -> (Tracked, bool) {
    let before = existing.clone();
    let mut tracked = existing.unwrap_or_else(|| Tracked {
        call: LiveCall::new(event.call_id(), event.event_time()),
        members_at: 0,
    });
    match event {
        WebhookEvent::AfterStartCall(e) => started(&mut tracked, e),
        WebhookEvent::AfterMemberChanged(e) => members_changed(&mut tracked, e),
        WebhookEvent::AfterEndCall(e) => ended(&mut tracked, e),
    }
    tracked.call.cap_members();
    let changed = before.as_ref() != Some(&tracked);
    (tracked, changed)
}

fn started(t: &mut Tracked, e: &AfterStartCall) {
    let call = &mut t.call;
    call.media_type = Some(e.call_info.media_type);
    call.group_id.clone_from(&e.call_info.chat_group_id);
    call.room_id.clone_from(&e.call_info.room_id);
    call.room_id_type = Some(e.call_info.room_id_type);
    call.started_at = call.started_at.min(e.event_time);
    // At the start only the caller is `Calling`.
    if call.caller.is_none() {
        call.caller = e
            .user_list
            .iter()
            .find(|m| m.status == UserStatus::Calling)
            .map(|m| m.user_account.clone());
    }
    // The start does not say it; TUICallKit's rule does: one callee and
    // no group is a 1-to-1 call. The end's record has the last word.
    if call.call_type.is_none() {
        let one_to_one = e.call_info.chat_group_id.is_empty() && e.user_list.len() == 2;
        call.call_type = Some(if one_to_one {
            CallType::SingleCall
        } else {
            CallType::MultiCall
        });
    }
    touch(call, e.event_time);
    if call.is_live() && e.event_time >= t.members_at {
        replace_members(call, &e.user_list, &[], e.event_time);
        t.members_at = e.event_time;
    }
}

fn members_changed(t: &mut Tracked, e: &AfterMemberChanged) {
    if !t.call.is_live() || e.event_time < t.members_at {
        return;
    }
    touch(&mut t.call, e.event_time);
    replace_members(
        &mut t.call,
        &e.user_list,
        &e.changed_user_list,
        e.event_time,
    );
    t.members_at = e.event_time;
}

fn ended(t: &mut Tracked, e: &AfterEndCall) {
    let record = &e.call_record;
    let call = &mut t.call;
    if call.ended_by == Some(EndedBy::Webhook) {
        return;
    }
    call.caller = Some(record.caller_account.clone());
    call.media_type = Some(record.media_type);
    call.call_type = Some(record.call_type);
    call.call_result = Some(record.call_result);
    if !record.room_id.is_empty() {
        call.room_id.clone_from(&record.room_id);
        call.room_id_type = Some(record.room_id_type);
    }
    if record.start_time > 0 {
        call.started_at = call.started_at.min(record.start_time * 1000);
    }
    for user in &record.callee_list_account {
        if call.member_mut(user).is_none() {
            call.members.push(left(user, None, e.event_time));
        }
    }
    touch(call, e.event_time);
    let end = if record.end_time > 0 {
        record.end_time * 1000
    } else {
        e.event_time
    };
    call.end(end, EndedBy::Webhook);
}

fn touch(call: &mut LiveCall, at: u64) {
    call.updated_at = call.updated_at.max(at);
}

/// `present` is the whole member list after the change; members missing
/// from it have left, with their action from `changed` when it names them.
fn replace_members(
    call: &mut LiveCall,
    present: &[CallMember],
    changed: &[ChangedMember],
    at: u64,
) {
    let action_of = |user: &str| {
        changed
            .iter()
            .find(|c| c.user_account == user)
            .map(action_name)
    };
    let mut next: Vec<Member> = Vec::with_capacity(present.len().max(call.members.len()));
    for m in present {
        let status = MemberStatus::from(m.status);
        let previous = call.member_mut(&m.user_account).cloned();
        next.push(updated(
            previous,
            &m.user_account,
            status,
            action_of(&m.user_account),
            at,
        ));
    }
    for old in &call.members {
        if next.iter().all(|m| m.user_id != old.user_id) {
            let action = action_of(&old.user_id);
            next.push(updated(
                Some(old.clone()),
                &old.user_id,
                MemberStatus::Left,
                action,
                at,
            ));
        }
    }
    for c in changed {
        if next.iter().all(|m| m.user_id != c.user_account) {
            next.push(left(&c.user_account, Some(action_name(c)), at));
        }
    }
    call.members = next;
}

/// A member after an event: `changed_at` moves only when something did.
fn updated(
    previous: Option<Member>,
    user: &str,
    status: MemberStatus,
    action: Option<String>,
    at: u64,
) -> Member {
    match previous {
        Some(old) if old.status == status && action.is_none() => old,
        Some(old) => Member {
            status,
            last_action: action.or(old.last_action),
            changed_at: at,
            ..old
        },
        None => Member {
            user_id: user.to_owned(),
            status,
            last_action: action,
            changed_at: at,
        },
    }
}

fn left(user: &str, action: Option<String>, at: u64) -> Member {
    Member {
        user_id: user.to_owned(),
        status: MemberStatus::Left,
        last_action: action,
        changed_at: at,
    }
}

/// The sample set's spelling, whichever set Tencent sent.
fn action_name(changed: &ChangedMember) -> String {
    serde_json::to_value(changed.action_type)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

#[cfg(test)]
#[path = "apply_tests.rs"]
mod tests;
