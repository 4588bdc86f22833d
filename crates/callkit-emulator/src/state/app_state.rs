//! Everything one SDKAppID owns: live calls, ended calls, records and the
//! callback configuration. Pure: time comes in as arguments, webhook bodies
//! go out as return values.

use super::call::{LiveCall, NewCall, Origin, Transition};
use super::records::{RecordStore, RETENTION_SECS};
use super::view::CallView;
use crate::error::EmulatorError;
use callkit_core::models::{
    AfterEndCall, AfterMemberChanged, AfterStartCall, CallInfo, CallMember, CallRecord, CallResult,
    ChangedMember, GetCallInfoResponse, GetCallbackResponse, WebhookEvent,
};
use std::collections::HashMap;

/// A member's move, from the control API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Act {
    Answer,
    Reject,
    Hangup,
}

/// Webhook bodies produced by a change, and who caused it.
#[derive(Debug, Clone)]
pub struct Effects {
    pub events: Vec<WebhookEvent>,
    pub origin: Origin,
}

#[derive(Debug, Clone)]
struct Ended {
    call: LiveCall,
    result: CallResult,
    end_time: u64,
}

#[derive(Debug)]
pub struct AppState {
    calls: HashMap<String, LiveCall>,
    ended: HashMap<String, Ended>,
    records: RecordStore,
    callback: Option<GetCallbackResponse>,
    record_delay_ms: u64,
}

fn members(call: &LiveCall) -> Vec<CallMember> {
    call.members
        .iter()
        .map(|m| CallMember {
            user_account: m.user.clone(),
            status: m.status,
        })
        .collect()
}

fn call_info(call: &LiveCall) -> CallInfo {
    CallInfo {
        call_id: call.call_id.clone(),
        media_type: call.media_type,
        chat_group_id: call.chat_group_id.clone(),
        room_id: call.room_id.clone(),
        room_id_type: call.room_id_type,
    }
}

fn record_of(call: &LiveCall, result: CallResult, end_time: u64) -> CallRecord {
    CallRecord {
        call_id: call.call_id.clone(),
        caller_account: call.caller.clone(),
        media_type: call.media_type,
        call_type: call.call_type,
        start_time: call.start_time,
        end_time,
        accept_time: call.accept_time.unwrap_or(0),
        call_result: result,
        callee_list_account: call.everyone.clone(),
        room_id: call.room_id.clone(),
        room_id_type: call.room_id_type,
    }
}

impl AppState {
    pub fn new(record_delay_ms: u64) -> Self {
        Self {
            calls: HashMap::new(),
            ended: HashMap::new(),
            records: RecordStore::default(),
            callback: None,
            record_delay_ms,
        }
    }

    /// Forgets everything (control-API reset).
    pub fn reset(&mut self) {
        *self = Self::new(self.record_delay_ms);
    }

    pub fn start_call(&mut self, new: NewCall, now_ms: u64) -> Effects {
        let origin = new.origin;
        let call = LiveCall::start(new, now_ms / 1000);
        let event = WebhookEvent::AfterStartCall(AfterStartCall {
            call_info: call_info(&call),
            user_list: members(&call),
            event_time: now_ms,
        });
        self.calls.insert(call.call_id.clone(), call);
        Effects {
            events: vec![event],
            origin,
        }
    }

    pub fn is_live(&self, call_id: &str) -> bool {
        self.calls.contains_key(call_id)
    }

    pub fn live_call_ids(&self) -> Vec<String> {
        self.calls.keys().cloned().collect()
    }

    /// `get_call_info`: `None` for unknown and ended calls (101004).
    pub fn call_info(&self, call_id: &str) -> Option<GetCallInfoResponse> {
        let call = self.calls.get(call_id)?;
        Some(GetCallInfoResponse {
            call_info: call_info(call),
            user_list: members(call),
        })
    }

    pub fn view(&self, call_id: &str) -> Option<CallView> {
        if let Some(call) = self.calls.get(call_id) {
            return Some(CallView::of(call, None));
        }
        let e = self.ended.get(call_id)?;
        Some(CallView::of(&e.call, Some((e.result, e.end_time))))
    }

    /// A member answers, rejects or hangs up (control API, `OptPlatform=Web`).
    pub fn act(
        &mut self,
        call_id: &str,
        user: &str,
        act: Act,
        now_ms: u64,
    ) -> Result<Effects, EmulatorError> {
        let call = self
            .calls
            .get_mut(call_id)
            .ok_or(EmulatorError::CallNotFound)?;
        let transition = match act {
            Act::Answer => call.answer(user, now_ms / 1000)?,
            Act::Reject => call.reject(user)?,
            Act::Hangup => call.hangup(user)?,
        };
        Ok(Effects {
            events: self.apply(call_id, transition, now_ms),
            origin: Origin::Web,
        })
    }

    /// Ring timeout for `call_id`, if due.
    pub fn expire_ringing(&mut self, call_id: &str, now_ms: u64) -> Option<Effects> {
        let call = self.calls.get_mut(call_id)?;
        let origin = call.origin;
        let transition = call.expire_ringing(now_ms);
        Some(Effects {
            events: self.apply(call_id, transition, now_ms),
            origin,
        })
    }

    /// `end_call`: `None` when the call is unknown or already over (101004).
    pub fn end_call(&mut self, call_id: &str, now_ms: u64) -> Option<Effects> {
        let call = self.calls.get_mut(call_id)?;
        let result = call.end_by_admin();
        Some(Effects {
            events: vec![self.finish(call_id, result, now_ms)?],
            origin: Origin::RestApi,
        })
    }

    fn apply(&mut self, call_id: &str, t: Transition, now_ms: u64) -> Vec<WebhookEvent> {
        let mut events = vec![];
        if let Some(call) = self.calls.get(call_id) {
            if !t.changed.is_empty() {
                events.push(WebhookEvent::AfterMemberChanged(AfterMemberChanged {
                    call_id: call_id.to_owned(),
                    user_list: members(call),
                    changed_user_list: t
                        .changed
                        .into_iter()
                        .map(|(user_account, action_type)| ChangedMember {
                            user_account,
                            action_type,
                        })
                        .collect(),
                    event_time: now_ms,
                }));
            }
        }
        if let Some(result) = t.ended {
            events.extend(self.finish(call_id, result, now_ms));
        }
        events
    }

    /// Moves a call to the ended set and files its record.
    fn finish(&mut self, call_id: &str, result: CallResult, now_ms: u64) -> Option<WebhookEvent> {
        let mut call = self.calls.remove(call_id)?;
        call.members.clear();
        let end_time = now_ms / 1000;
        let record = record_of(&call, result, end_time);
        self.records
            .insert(record.clone(), now_ms.saturating_add(self.record_delay_ms));
        self.ended.insert(
            call_id.to_owned(),
            Ended {
                call,
                result,
                end_time,
            },
        );
        self.purge(end_time);
        Some(WebhookEvent::AfterEndCall(AfterEndCall {
            call_record: record,
            event_time: now_ms,
        }))
    }

    fn purge(&mut self, now_secs: u64) {
        self.records.purge(now_secs);
        self.ended
            .retain(|_, e| e.end_time.saturating_add(RETENTION_SECS) >= now_secs);
    }

    /// Files a finished record directly, visible at `ready_at_ms` (seeding).
    pub fn insert_record(&mut self, record: CallRecord, ready_at_ms: u64) {
        self.records.insert(record, ready_at_ms);
    }

    pub fn records(&self) -> &RecordStore {
        &self.records
    }

    pub fn callback(&self) -> Option<&GetCallbackResponse> {
        self.callback.as_ref()
    }

    /// `set_callback` overwrites; `None` deletes.
    pub fn set_callback(&mut self, config: Option<GetCallbackResponse>) {
        self.callback = config;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use callkit_core::models::{
        CallType, CallbackCommand, MediaType, MemberAction, RoomIdType, UserStatus,
    };

    const T0: u64 = 1_750_000_000_000;

    fn new_call(id: &str, callees: &[&str]) -> NewCall {
        NewCall {
            call_id: id.into(),
            caller: "alice".into(),
            callees: callees.iter().map(|s| s.to_string()).collect(),
            media_type: MediaType::Video,
            chat_group_id: String::new(),
            room_id: "42".into(),
            room_id_type: RoomIdType::Numeric,
            ring_deadline_ms: Some(T0 + 30_000),
            origin: Origin::RestApi,
        }
    }

    #[test]
    fn start_emits_after_start_call_and_is_visible() {
        let mut s = AppState::new(5000);
        let fx = s.start_call(new_call("c1", &["bob"]), T0);
        assert_eq!(fx.origin, Origin::RestApi);
        let WebhookEvent::AfterStartCall(ev) = &fx.events[0] else {
            panic!("wrong event {:?}", fx.events);
        };
        assert_eq!(ev.event_time, T0);
        assert_eq!(ev.user_list.len(), 2);
        let info = s.call_info("c1").expect("live");
        assert_eq!(info.call_info.room_id, "42");
        assert_eq!(info.user_list[1].status, UserStatus::Waiting);
        assert!(s.call_info("nope").is_none());
    }

    #[test]
    fn answer_and_hangup_file_a_normal_end_record_after_the_delay() {
        let mut s = AppState::new(5000);
        s.start_call(new_call("c1", &["bob"]), T0);
        let fx = s.act("c1", "bob", Act::Answer, T0 + 3000).expect("answer");
        assert_eq!(fx.origin, Origin::Web);
        assert_eq!(fx.events.len(), 1);
        let fx = s
            .act("c1", "alice", Act::Hangup, T0 + 60_000)
            .expect("hangup");
        let commands: Vec<_> = fx.events.iter().map(WebhookEvent::command).collect();
        assert_eq!(
            commands,
            vec![
                CallbackCommand::AfterMemberChanged,
                CallbackCommand::AfterEndCall
            ]
        );
        let WebhookEvent::AfterMemberChanged(mc) = &fx.events[0] else {
            panic!("member changed first");
        };
        assert_eq!(mc.changed_user_list[0].action_type, MemberAction::Hangup);
        assert_eq!(mc.user_list.len(), 1, "bob is still listed");
        assert!(s.call_info("c1").is_none(), "ended calls are gone (101004)");
        let end = T0 + 60_000;
        assert!(s.records().get("c1", end + 4999).is_none());
        let rec = s.records().get("c1", end + 5000).expect("record");
        assert_eq!(rec.call_result, CallResult::NormalEnd);
        assert_eq!(rec.accept_time, (T0 + 3000) / 1000);
        assert_eq!(rec.end_time, end / 1000);
        assert_eq!(rec.call_type, CallType::SingleCall);
        assert_eq!(rec.callee_list_account, vec!["alice", "bob"]);
        let view = s.view("c1").expect("ended view");
        assert_eq!(view.state, "ended");
        assert_eq!(view.call_result, Some(CallResult::NormalEnd));
        assert!(s.act("c1", "bob", Act::Hangup, end).is_err());
    }

    #[test]
    fn end_call_twice_is_unknown_the_second_time() {
        let mut s = AppState::new(0);
        s.start_call(new_call("c1", &["bob"]), T0);
        let fx = s.end_call("c1", T0 + 1000).expect("ends");
        let WebhookEvent::AfterEndCall(end) = &fx.events[0] else {
            panic!("end event");
        };
        assert_eq!(end.call_record.call_result, CallResult::Cancel);
        assert_eq!(end.call_record.accept_time, 0);
        assert!(s.end_call("c1", T0 + 2000).is_none());
        assert!(s.records().get("c1", T0 + 1000).is_some());
    }

    #[test]
    fn ring_timeout_ends_with_not_answer() {
        let mut s = AppState::new(0);
        s.start_call(new_call("c1", &["bob"]), T0);
        let early = s.expire_ringing("c1", T0 + 29_999).expect("live");
        assert!(early.events.is_empty());
        let fx = s.expire_ringing("c1", T0 + 30_000).expect("live");
        assert_eq!(fx.events.len(), 2);
        let rec = s.records().get("c1", T0 + 30_000).expect("record");
        assert_eq!(rec.call_result, CallResult::NotAnswer);
        assert!(s.expire_ringing("c1", T0 + 40_000).is_none());
    }

    #[test]
    fn reject_in_a_one_to_one_call_files_reject() {
        let mut s = AppState::new(0);
        s.start_call(new_call("c1", &["bob"]), T0);
        s.act("c1", "bob", Act::Reject, T0 + 10).expect("reject");
        assert_eq!(
            s.records().get("c1", T0 + 10).expect("rec").call_result,
            CallResult::Reject
        );
    }

    #[test]
    fn callback_config_overwrites_and_deletes() {
        let mut s = AppState::new(0);
        assert!(s.callback().is_none());
        s.set_callback(Some(GetCallbackResponse {
            url: "http://a".into(),
            callback_command_list: vec![CallbackCommand::AfterEndCall],
        }));
        s.set_callback(Some(GetCallbackResponse {
            url: "http://b".into(),
            callback_command_list: vec![],
        }));
        assert_eq!(s.callback().map(|c| c.url.as_str()), Some("http://b"));
        s.set_callback(None);
        assert!(s.callback().is_none());
    }

    #[test]
    fn reset_forgets_everything() {
        let mut s = AppState::new(0);
        s.start_call(new_call("c1", &["bob"]), T0);
        s.reset();
        assert!(!s.is_live("c1"));
        assert!(s.view("c1").is_none());
    }
}
