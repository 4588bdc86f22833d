//! Demo data: ~50 records over the last 7 days with varied results, types
//! and media, and a few live calls among alice, bob, carol, dave and erin.

use crate::state::{NewCall, Origin};
use callkit_core::models::{CallRecord, CallResult, CallType, MediaType, RoomIdType};

pub const DEMO_USERS: [&str; 5] = ["alice", "bob", "carol", "dave", "erin"];

const RESULTS: [CallResult; 8] = [
    CallResult::NormalEnd,
    CallResult::Cancel,
    CallResult::NormalEnd,
    CallResult::Reject,
    CallResult::NotAnswer,
    CallResult::NormalEnd,
    CallResult::CallBusy,
    CallResult::Interrupt,
];

/// Seeded records end no later than this before now, and start no earlier
/// than this after now − 7 days, so all of them sit inside the default window.
const MARGIN_SECS: u64 = 600;

/// `count` finished records, the newest ending a little before `now_secs`.
/// `make_id` supplies fresh CallIds.
pub fn records(count: u32, now_secs: u64, mut make_id: impl FnMut() -> String) -> Vec<CallRecord> {
    let span = crate::state::records::RETENTION_SECS - 2 * MARGIN_SECS;
    let step = span / u64::from(count.max(1));
    let mut rng = fastrand::Rng::with_seed(u64::from(count) ^ now_secs);
    (0..count)
        .map(|i| {
            let i = i as usize;
            let caller = DEMO_USERS[i % 5];
            let multi = i % 4 == 3;
            let mut everyone = vec![caller.to_owned(), DEMO_USERS[(i + 1) % 5].to_owned()];
            if multi {
                everyone.push(DEMO_USERS[(i + 2) % 5].to_owned());
            }
            let result = RESULTS[i % RESULTS.len()];
            let start = now_secs - MARGIN_SECS - step * i as u64 - rng.u64(0..step.max(2) / 2);
            let ring = rng.u64(2..25);
            let connected = matches!(result, CallResult::NormalEnd | CallResult::Interrupt);
            let talk = if connected { rng.u64(20..1800) } else { 0 };
            let numeric_room = i.is_multiple_of(2);
            CallRecord {
                call_id: make_id(),
                caller_account: caller.to_owned(),
                media_type: if i.is_multiple_of(3) {
                    MediaType::Video
                } else {
                    MediaType::Audio
                },
                call_type: if multi {
                    CallType::MultiCall
                } else {
                    CallType::SingleCall
                },
                start_time: start,
                end_time: start + ring + talk,
                accept_time: if connected { start + ring } else { 0 },
                call_result: result,
                callee_list_account: everyone,
                room_id: if numeric_room {
                    format!("{}", 100_000 + i)
                } else {
                    format!("room-{i}")
                },
                room_id_type: if numeric_room {
                    RoomIdType::Numeric
                } else {
                    RoomIdType::String
                },
            }
        })
        .collect()
}

/// A live call to seed, and who has already answered it.
#[derive(Debug, Clone)]
pub struct LiveSeed {
    pub call: NewCall,
    pub answered: Vec<String>,
}

/// Live call `n`: patterns rotate so each demo user is in some calls and
/// not in others (with 3 calls: alice→bob ringing, carol→dave connected,
/// bob→carol+erin group with carol connected).
pub fn live_call(n: u32, call_id: String) -> LiveSeed {
    let n = n as usize;
    let shift = (n / 3) * 2;
    let user = |k: usize| DEMO_USERS[(k + shift) % 5].to_owned();
    let (caller, callees, answered, media) = match n % 3 {
        0 => (user(0), vec![user(1)], vec![], MediaType::Audio),
        1 => (user(2), vec![user(3)], vec![user(3)], MediaType::Video),
        _ => (
            user(1),
            vec![user(2), user(4)],
            vec![user(2)],
            MediaType::Video,
        ),
    };
    LiveSeed {
        call: NewCall {
            call_id,
            caller,
            callees,
            media_type: media,
            chat_group_id: if n % 3 == 2 {
                format!("group-{n}")
            } else {
                String::new()
            },
            room_id: format!("{}", 200_000 + n),
            room_id_type: RoomIdType::Numeric,
            ring_deadline_ms: None,
            origin: Origin::Web,
        },
        answered,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::records::RETENTION_SECS;
    use std::collections::HashSet;

    const NOW: u64 = 1_750_000_000;

    #[test]
    fn records_are_varied_and_inside_the_window() {
        let mut n = 0;
        let recs = records(50, NOW, || {
            n += 1;
            format!("id-{n}")
        });
        assert_eq!(recs.len(), 50);
        let results: HashSet<_> = recs.iter().map(|r| r.call_result).collect();
        assert!(results.len() >= 6, "{results:?}");
        assert!(recs.iter().any(|r| r.call_type == CallType::MultiCall));
        assert!(recs.iter().any(|r| r.call_type == CallType::SingleCall));
        assert!(recs.iter().any(|r| r.media_type == MediaType::Video));
        assert!(recs.iter().any(|r| r.media_type == MediaType::Audio));
        for r in &recs {
            assert!(
                r.start_time >= NOW - RETENTION_SECS && r.end_time <= NOW,
                "{r:?}"
            );
            assert!(r.end_time >= r.start_time);
            assert_eq!(r.callee_list_account[0], r.caller_account);
            let connected = r.accept_time != 0;
            assert_eq!(
                connected,
                matches!(r.call_result, CallResult::NormalEnd | CallResult::Interrupt)
            );
        }
        // Spread over the week, not bunched.
        let oldest = recs.iter().map(|r| r.start_time).min().unwrap_or(NOW);
        assert!(NOW - oldest > 6 * 24 * 3600);
        let ids: HashSet<_> = recs.iter().map(|r| r.call_id.clone()).collect();
        assert_eq!(ids.len(), 50);
    }

    #[test]
    fn live_calls_include_each_user_in_some_but_not_all() {
        let seeds: Vec<_> = (0..3).map(|n| live_call(n, format!("c{n}"))).collect();
        let member =
            |s: &LiveSeed, u: &str| s.call.caller == u || s.call.callees.iter().any(|c| c == u);
        for u in DEMO_USERS {
            let count = seeds.iter().filter(|s| member(s, u)).count();
            assert!((1..3).contains(&count), "{u} is in {count} calls");
        }
        assert!(seeds[1].answered.contains(&"dave".to_owned()));
        assert_eq!(seeds[0].call.caller, "alice");
    }
}
