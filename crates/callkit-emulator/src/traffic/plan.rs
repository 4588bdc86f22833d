//! What one simulated call will do, decided up front from the rng: who
//! calls whom, how each callee replies and when, and who hangs up. Pure, so
//! a seed gives the same plans every time.

use super::config::SimulationConfig;
use crate::control::seed::DEMO_USERS;
use callkit_core::models::MediaType;
use std::time::Duration;

/// How a callee reacts to the ring.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reply {
    Answer,
    Reject,
    /// Lets it ring: the ring timeout removes them as `NotAnswer`.
    NoAnswer,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalleePlan {
    pub user: String,
    pub reply: Reply,
    /// From the start of the call; unused for `NoAnswer`.
    pub after: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallPlan {
    pub caller: String,
    pub callees: Vec<CalleePlan>,
    pub media_type: MediaType,
    /// Non-empty for group calls, as for an IM group call.
    pub chat_group_id: String,
    pub room_id: String,
    /// From the start of the call; `None` when nobody answers.
    pub hangup_after: Option<Duration>,
    /// Who hangs up, in order, and the pause before each one after the first.
    pub hangups: Vec<(String, Duration)>,
}

/// One call in five is a group of three; the rest are 1-to-1.
const GROUP_ONE_IN: u32 = 5;

fn reply(rng: &mut fastrand::Rng) -> Reply {
    match rng.u32(0..20) {
        0..=12 => Reply::Answer,
        13..=16 => Reply::Reject,
        _ => Reply::NoAnswer,
    }
}

/// A caller and one or two distinct callees from the demo users.
fn people(rng: &mut fastrand::Rng) -> (String, Vec<String>) {
    let mut users = DEMO_USERS.to_vec();
    rng.shuffle(&mut users);
    let n_callees = if rng.u32(0..GROUP_ONE_IN) == 0 { 2 } else { 1 };
    let callees = users[1..=n_callees]
        .iter()
        .map(|u| (*u).to_owned())
        .collect();
    (users[0].to_owned(), callees)
}

pub fn plan(rng: &mut fastrand::Rng, cfg: &SimulationConfig) -> CallPlan {
    let (caller, callee_ids) = people(rng);
    let group = callee_ids.len() > 1;
    let callees: Vec<CalleePlan> = callee_ids
        .into_iter()
        .map(|user| CalleePlan {
            user,
            reply: reply(rng),
            after: cfg.answer_delay.pick(rng),
        })
        .collect();
    let answered: Vec<&CalleePlan> = callees
        .iter()
        .filter(|c| c.reply == Reply::Answer)
        .collect();
    let hangup_after = answered.first().map(|_| {
        let last_reply = callees.iter().map(|c| c.after).max().unwrap_or_default();
        last_reply + cfg.talk.pick(rng)
    });
    let mut leaving: Vec<String> = answered.iter().map(|c| c.user.clone()).collect();
    if hangup_after.is_some() {
        leaving.push(caller.clone());
    }
    rng.shuffle(&mut leaving);
    let hangups = leaving
        .into_iter()
        .enumerate()
        .map(|(i, u)| {
            (
                u,
                if i == 0 {
                    Duration::ZERO
                } else {
                    cfg.hangup_gap.pick(rng)
                },
            )
        })
        .collect();
    CallPlan {
        caller,
        callees,
        media_type: if rng.bool() {
            MediaType::Video
        } else {
            MediaType::Audio
        },
        chat_group_id: if group {
            format!("sim-group-{}", rng.u32(1000..10_000))
        } else {
            String::new()
        },
        room_id: rng.u32(100_000..1_000_000).to_string(),
        hangup_after,
        hangups,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn plans(n: usize) -> Vec<CallPlan> {
        let cfg = SimulationConfig::per_minute(6.0);
        let mut rng = fastrand::Rng::with_seed(42);
        (0..n).map(|_| plan(&mut rng, &cfg)).collect()
    }

    #[test]
    fn members_are_distinct_demo_users() {
        for p in plans(200) {
            let mut everyone: Vec<&str> = p.callees.iter().map(|c| c.user.as_str()).collect();
            everyone.push(&p.caller);
            assert!(everyone.iter().all(|u| DEMO_USERS.contains(u)), "{p:?}");
            assert_eq!(
                everyone.iter().collect::<HashSet<_>>().len(),
                everyone.len()
            );
            assert!((1..=2).contains(&p.callees.len()));
            assert_eq!(p.chat_group_id.is_empty(), p.callees.len() == 1);
        }
    }

    #[test]
    fn plans_vary() {
        let ps = plans(200);
        let replies: HashSet<_> = ps
            .iter()
            .flat_map(|p| p.callees.iter().map(|c| c.reply))
            .collect();
        assert_eq!(replies.len(), 3);
        assert!(ps.iter().any(|p| p.media_type == MediaType::Audio));
        assert!(ps.iter().any(|p| p.media_type == MediaType::Video));
        let groups = ps.iter().filter(|p| p.callees.len() == 2).count();
        assert!((10..90).contains(&groups), "{groups} group calls");
        assert_eq!(plans(20), plans(20), "a seed repeats its plans");
    }

    #[test]
    fn hangups_come_after_every_reply_and_only_when_someone_answered() {
        let cfg = SimulationConfig::per_minute(6.0);
        for p in plans(200) {
            let answered: Vec<_> = p
                .callees
                .iter()
                .filter(|c| c.reply == Reply::Answer)
                .collect();
            assert_eq!(p.hangup_after.is_some(), !answered.is_empty(), "{p:?}");
            let Some(at) = p.hangup_after else {
                assert!(p.hangups.is_empty());
                continue;
            };
            for c in &p.callees {
                assert!(at >= c.after + cfg.talk.min, "{p:?}");
                assert!(c.after < cfg.ring_timeout);
            }
            // The caller and everyone who answered leave: the call must end.
            assert_eq!(p.hangups.len(), answered.len() + 1);
            assert!(p.hangups.iter().any(|(u, _)| *u == p.caller));
            assert_eq!(p.hangups[0].1, Duration::ZERO);
        }
    }
}
