//! One live call and its transitions: answer, reject, hang up, ring timeout,
//! admin end. A call ends once at most one participant remains (docs/tencent-callkit-v4.md §6.2).

use crate::error::EmulatorError;
use callkit_core::models::{CallResult, CallType, MediaType, MemberAction, RoomIdType, UserStatus};

/// Who started the call, which decides the webhooks' `OptPlatform`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    RestApi,
    Web,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub user: String,
    pub status: UserStatus,
}

/// What a new call is made of.
#[derive(Debug, Clone)]
pub struct NewCall {
    pub call_id: String,
    pub caller: String,
    pub callees: Vec<String>,
    pub media_type: MediaType,
    pub chat_group_id: String,
    pub room_id: String,
    pub room_id_type: RoomIdType,
    /// Ring deadline for waiting members, Unix ms; `None` rings forever.
    pub ring_deadline_ms: Option<u64>,
    pub origin: Origin,
}

#[derive(Debug, Clone)]
pub struct LiveCall {
    pub call_id: String,
    pub caller: String,
    pub media_type: MediaType,
    pub call_type: CallType,
    pub chat_group_id: String,
    pub room_id: String,
    pub room_id_type: RoomIdType,
    pub start_time: u64,
    pub accept_time: Option<u64>,
    /// Current participants, caller first.
    pub members: Vec<Member>,
    /// Everyone ever in the call, caller first: the record's `CalleeList_Account`.
    pub everyone: Vec<String>,
    pub ring_deadline_ms: Option<u64>,
    pub origin: Origin,
    /// Why the last callee left before anyone answered (Reject / NotAnswer).
    last_unanswered_reason: Option<CallResult>,
}

/// A transition's result: who changed how, and whether the call is over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    pub changed: Vec<(String, MemberAction)>,
    pub ended: Option<CallResult>,
}

impl LiveCall {
    /// Starts a call: the caller is `Calling`, callees are `Waiting`.
    /// One callee without a group is a `SingleCall`, anything else `MultiCall`.
    pub fn start(new: NewCall, now_secs: u64) -> Self {
        let mut members = vec![Member {
            user: new.caller.clone(),
            status: UserStatus::Calling,
        }];
        let mut everyone = vec![new.caller.clone()];
        for callee in new.callees {
            if everyone.contains(&callee) {
                continue;
            }
            everyone.push(callee.clone());
            members.push(Member {
                user: callee,
                status: UserStatus::Waiting,
            });
        }
        // Counted after dropping duplicates and the caller listed as a callee.
        let call_type = if members.len() == 2 && new.chat_group_id.is_empty() {
            CallType::SingleCall
        } else {
            CallType::MultiCall
        };
        Self {
            call_id: new.call_id,
            caller: new.caller,
            media_type: new.media_type,
            call_type,
            chat_group_id: new.chat_group_id,
            room_id: new.room_id,
            room_id_type: new.room_id_type,
            start_time: now_secs,
            accept_time: None,
            members,
            everyone,
            ring_deadline_ms: new.ring_deadline_ms,
            origin: new.origin,
            last_unanswered_reason: None,
        }
    }

    fn position(&self, user: &str) -> Result<usize, EmulatorError> {
        self.members
            .iter()
            .position(|m| m.user == user)
            .ok_or_else(|| EmulatorError::Conflict(format!("{user} is not in this call")))
    }

    /// A waiting callee picks up.
    pub fn answer(&mut self, user: &str, now_secs: u64) -> Result<Transition, EmulatorError> {
        let i = self.position(user)?;
        if self.members[i].status != UserStatus::Waiting {
            return Err(EmulatorError::Conflict(format!(
                "{user} is not waiting to answer"
            )));
        }
        self.members[i].status = UserStatus::Calling;
        self.accept_time.get_or_insert(now_secs);
        Ok(Transition {
            changed: vec![(user.to_owned(), MemberAction::Answer)],
            ended: None,
        })
    }

    /// A waiting callee declines.
    pub fn reject(&mut self, user: &str) -> Result<Transition, EmulatorError> {
        let i = self.position(user)?;
        if self.members[i].status != UserStatus::Waiting {
            return Err(EmulatorError::Conflict(format!(
                "{user} is not waiting, so cannot reject"
            )));
        }
        self.members.remove(i);
        self.last_unanswered_reason = Some(CallResult::Reject);
        Ok(self.after_leave(vec![(user.to_owned(), MemberAction::Reject)]))
    }

    /// A member leaves. The caller leaving before anyone answered cancels the
    /// whole call; a waiting callee hanging up is a rejection.
    pub fn hangup(&mut self, user: &str) -> Result<Transition, EmulatorError> {
        let i = self.position(user)?;
        if self.members[i].status == UserStatus::Waiting {
            return self.reject(user);
        }
        if user == self.caller && self.accept_time.is_none() {
            let mut changed = vec![(user.to_owned(), MemberAction::Hangup)];
            for m in self.members.iter().skip(1) {
                changed.push((m.user.clone(), MemberAction::CancelInvite));
            }
            self.members.clear();
            return Ok(Transition {
                changed,
                ended: Some(CallResult::Cancel),
            });
        }
        self.members.remove(i);
        Ok(self.after_leave(vec![(user.to_owned(), MemberAction::Hangup)]))
    }

    /// Waiting members whose ring deadline has passed drop out (`NotAnswer`).
    pub fn expire_ringing(&mut self, now_ms: u64) -> Transition {
        let due = self.ring_deadline_ms.is_some_and(|d| now_ms >= d);
        if !due {
            return Transition {
                changed: vec![],
                ended: None,
            };
        }
        let mut changed = vec![];
        self.members.retain(|m| {
            if m.status == UserStatus::Waiting {
                changed.push((m.user.clone(), MemberAction::NotAnswer));
                false
            } else {
                true
            }
        });
        self.ring_deadline_ms = None;
        if changed.is_empty() {
            return Transition {
                changed,
                ended: None,
            };
        }
        self.last_unanswered_reason = Some(CallResult::NotAnswer);
        self.after_leave(changed)
    }

    /// The admin ends the call (`end_call`): a connected call ends normally,
    /// one still ringing counts as cancelled.
    pub fn end_by_admin(&mut self) -> CallResult {
        self.members.clear();
        self.final_result()
    }

    fn after_leave(&mut self, changed: Vec<(String, MemberAction)>) -> Transition {
        // The last one standing stays listed for the member-changed webhook;
        // the owner of the call clears the list when it files the record.
        let ended = if self.members.len() <= 1 {
            Some(self.final_result())
        } else {
            None
        };
        Transition { changed, ended }
    }

    fn final_result(&self) -> CallResult {
        if self.accept_time.is_some() {
            CallResult::NormalEnd
        } else {
            self.last_unanswered_reason.unwrap_or(CallResult::Cancel)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(callees: &[&str]) -> LiveCall {
        LiveCall::start(
            NewCall {
                call_id: "c1".into(),
                caller: "alice".into(),
                callees: callees.iter().map(|s| s.to_string()).collect(),
                media_type: MediaType::Audio,
                chat_group_id: String::new(),
                room_id: String::new(),
                room_id_type: RoomIdType::None,
                ring_deadline_ms: Some(10_000),
                origin: Origin::Web,
            },
            100,
        )
    }

    fn statuses(c: &LiveCall) -> Vec<(&str, UserStatus)> {
        c.members
            .iter()
            .map(|m| (m.user.as_str(), m.status))
            .collect()
    }

    #[test]
    fn start_sets_caller_calling_and_callees_waiting() {
        let c = call(&["bob", "bob", "alice"]);
        assert_eq!(c.call_type, CallType::SingleCall);
        assert_eq!(
            statuses(&c),
            vec![("alice", UserStatus::Calling), ("bob", UserStatus::Waiting)]
        );
        assert_eq!(c.everyone, vec!["alice", "bob"]);
        assert_eq!(call(&["bob", "carol"]).call_type, CallType::MultiCall);
    }

    #[test]
    fn answer_then_hangup_is_a_normal_end() {
        let mut c = call(&["bob"]);
        let t = c.answer("bob", 105).expect("answer");
        assert_eq!(t.changed, vec![("bob".into(), MemberAction::Answer)]);
        assert_eq!(t.ended, None);
        assert_eq!(c.accept_time, Some(105));
        assert!(c.answer("bob", 106).is_err());
        let t = c.hangup("bob").expect("hangup");
        assert_eq!(t.ended, Some(CallResult::NormalEnd));
        assert_eq!(statuses(&c), vec![("alice", UserStatus::Calling)]);
    }

    #[test]
    fn single_reject_ends_with_reject() {
        let mut c = call(&["bob"]);
        let t = c.reject("bob").expect("reject");
        assert_eq!(t.ended, Some(CallResult::Reject));
        assert_eq!(c.accept_time, None);
    }

    #[test]
    fn group_call_survives_one_reject() {
        let mut c = call(&["bob", "carol"]);
        let t = c.reject("bob").expect("reject");
        assert_eq!(t.ended, None);
        assert_eq!(c.members.len(), 2);
        c.answer("carol", 110).expect("answer");
        let t = c.hangup("alice").expect("caller leaves");
        // Only carol is left: the call is over and it was connected.
        assert_eq!(t.ended, Some(CallResult::NormalEnd));
    }

    #[test]
    fn caller_hangup_before_answer_cancels() {
        let mut c = call(&["bob", "carol"]);
        let t = c.hangup("alice").expect("cancel");
        assert_eq!(t.ended, Some(CallResult::Cancel));
        assert_eq!(
            t.changed,
            vec![
                ("alice".into(), MemberAction::Hangup),
                ("bob".into(), MemberAction::CancelInvite),
                ("carol".into(), MemberAction::CancelInvite),
            ]
        );
    }

    #[test]
    fn waiting_callee_hangup_counts_as_reject() {
        let mut c = call(&["bob"]);
        let t = c.hangup("bob").expect("hangup");
        assert_eq!(t.changed, vec![("bob".into(), MemberAction::Reject)]);
        assert_eq!(t.ended, Some(CallResult::Reject));
    }

    #[test]
    fn ring_timeout_is_not_answer() {
        let mut c = call(&["bob"]);
        assert_eq!(c.expire_ringing(9_999).changed, vec![]);
        let t = c.expire_ringing(10_000);
        assert_eq!(t.changed, vec![("bob".into(), MemberAction::NotAnswer)]);
        assert_eq!(t.ended, Some(CallResult::NotAnswer));
    }

    #[test]
    fn ring_timeout_spares_those_who_answered() {
        let mut c = call(&["bob", "carol", "dave"]);
        c.answer("bob", 101).expect("answer");
        let t = c.expire_ringing(10_000);
        assert_eq!(t.changed.len(), 2);
        assert_eq!(t.ended, None);
        assert_eq!(
            statuses(&c),
            vec![("alice", UserStatus::Calling), ("bob", UserStatus::Calling)]
        );
        // No second expiry.
        assert_eq!(c.expire_ringing(20_000).changed, vec![]);
    }

    #[test]
    fn admin_end_depends_on_whether_anyone_answered() {
        let mut ringing = call(&["bob"]);
        assert_eq!(ringing.end_by_admin(), CallResult::Cancel);
        let mut connected = call(&["bob"]);
        connected.answer("bob", 101).expect("answer");
        assert_eq!(connected.end_by_admin(), CallResult::NormalEnd);
    }

    #[test]
    fn strangers_are_refused() {
        let mut c = call(&["bob"]);
        assert!(matches!(
            c.answer("mallory", 1),
            Err(EmulatorError::Conflict(_))
        ));
        assert!(c.reject("alice").is_err());
        assert!(c.hangup("mallory").is_err());
    }
}
