//! Plays one planned call through the operations the control API uses
//! (`calls::start`, `calls::act`), so state, ring timeout and webhooks are
//! exactly those of `POST /_emulator/calls` and answer/reject/hangup.

use super::plan::{CallPlan, Reply};
use crate::app::App;
use crate::calls;
use crate::clock;
use crate::emulator::Emulator;
use crate::ids::new_call_id;
use crate::state::{Act, NewCall, Origin};
use callkit_core::models::RoomIdType;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::{sleep, sleep_until, Instant};

fn new_call(plan: &CallPlan, ring_timeout: Duration) -> NewCall {
    let ring_ms = u64::try_from(ring_timeout.as_millis()).unwrap_or(u64::MAX);
    NewCall {
        call_id: new_call_id(),
        caller: plan.caller.clone(),
        callees: plan.callees.iter().map(|c| c.user.clone()).collect(),
        media_type: plan.media_type,
        chat_group_id: plan.chat_group_id.clone(),
        room_id: plan.room_id.clone(),
        room_id_type: RoomIdType::Numeric,
        // Always set, so a callee who never answers cannot keep a call alive.
        ring_deadline_ms: Some(clock::now_millis().saturating_add(ring_ms)),
        origin: Origin::Web,
    }
}

pub async fn play(emu: Arc<Emulator>, app: Arc<App>, plan: CallPlan, ring_timeout: Duration) {
    let started = Instant::now();
    let call_id = calls::start(&emu, &app, new_call(&plan, ring_timeout));
    let mut replies: Vec<_> = plan
        .callees
        .iter()
        .filter(|c| c.reply != Reply::NoAnswer)
        .collect();
    replies.sort_by_key(|c| c.after);
    for callee in replies {
        sleep_until(started + callee.after).await;
        let act = match callee.reply {
            Reply::Answer => Act::Answer,
            _ => Act::Reject,
        };
        // Refused only when the call is already over (say, a control-API
        // reset): then the remaining moves are refused too, harmlessly.
        let _ = calls::act(&emu, &app, &call_id, &callee.user, act);
    }
    let Some(hangup_after) = plan.hangup_after else {
        return;
    };
    sleep_until(started + hangup_after).await;
    for (user, gap) in &plan.hangups {
        sleep(*gap).await;
        let left = calls::act(&emu, &app, &call_id, user, Act::Hangup);
        if left.is_ok_and(|view| view.state == "ended") {
            return;
        }
    }
}
