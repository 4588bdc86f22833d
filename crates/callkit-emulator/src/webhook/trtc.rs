//! TRTC's room and media events for the calls the emulator runs, as
//! Tencent's TRTC callback would send them (docs/trtc-events.md): signed
//! with `Sign` = base64(HMAC-SHA256(key, body)) over tab-formatted JSON. A
//! caller enters the room when the call starts, a callee when answering,
//! each publishing audio (and video in a video call); whoever hangs up
//! leaves (reason 1, normal), and everyone still in the room at the end.

use std::collections::HashMap;
use std::sync::Arc;

use callkit_core::models::{trtc_sign, MediaType, MemberAction, UserStatus, WebhookEvent};
use callkit_core::secret::Secret;
use parking_lot::Mutex;
use serde_json::json;

use super::log::WebhookRecord;
use super::sender::WebhookSender;
use crate::clock;

/// Where TRTC's callbacks go and what signs them (`--trtc-url`, `--trtc-key`).
#[derive(Debug, Clone)]
pub struct TrtcCallback {
    pub url: String,
    pub key: Secret,
}

/// A call's room, remembered from its start for its later events.
#[derive(Debug, Clone)]
struct Room {
    id: String,
    video: bool,
    inside: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct TrtcEmitter {
    callback: TrtcCallback,
    rooms: Arc<Mutex<HashMap<String, Room>>>,
}

const ANCHOR: u32 = 20;
const ANDROID: u32 = 2;
const NORMAL_EXIT: u32 = 1;

impl TrtcEmitter {
    pub fn new(callback: TrtcCallback) -> Self {
        Self {
            callback,
            rooms: Arc::default(),
        }
    }

    /// The TRTC events `events` imply, sent in order on one task.
    pub fn emit(&self, sender: &WebhookSender, sdkappid: u64, events: &[WebhookEvent]) {
        let bodies: Vec<Vec<u8>> = events.iter().flat_map(|e| self.room_events(e)).collect();
        if bodies.is_empty() {
            return;
        }
        let (sender, callback) = (sender.clone(), self.callback.clone());
        tokio::spawn(async move {
            for body in bodies {
                let sign = trtc_sign(callback.key.expose(), &body);
                let headers = [("SdkAppId", sdkappid.to_string()), ("Sign", sign)];
                let (status, error) = match sender.post(&callback.url, body.clone(), &headers).await
                {
                    Ok(status) => (Some(status), None),
                    Err(reason) => (None, Some(reason)),
                };
                sender.log().push(WebhookRecord {
                    sdkappid,
                    url: callback.url.clone(),
                    command: "TRTC.RoomAndMedia".to_owned(),
                    body: serde_json::from_slice(&body).unwrap_or_default(),
                    status,
                    error,
                    sent_at: clock::now_millis(),
                });
            }
        });
    }

    fn room_events(&self, event: &WebhookEvent) -> Vec<Vec<u8>> {
        let mut rooms = self.rooms.lock();
        let now = clock::now_millis();
        let mut out = Vec::new();
        match event {
            WebhookEvent::AfterStartCall(e) if !e.call_info.room_id.is_empty() => {
                let mut room = Room {
                    id: e.call_info.room_id.clone(),
                    video: e.call_info.media_type == MediaType::Video,
                    inside: Vec::new(),
                };
                for m in e
                    .user_list
                    .iter()
                    .filter(|m| m.status == UserStatus::Calling)
                {
                    enter(&mut room, &m.user_account, now, &mut out);
                }
                rooms.insert(e.call_info.call_id.clone(), room);
            }
            WebhookEvent::AfterMemberChanged(e) => {
                let Some(room) = rooms.get_mut(&e.call_id) else {
                    return out;
                };
                for changed in &e.changed_user_list {
                    match changed.action_type {
                        MemberAction::Answer => enter(room, &changed.user_account, now, &mut out),
                        _ => exit(room, &changed.user_account, now, &mut out),
                    }
                }
            }
            WebhookEvent::AfterEndCall(e) => {
                if let Some(mut room) = rooms.remove(&e.call_record.call_id) {
                    for user in room.inside.clone() {
                        exit(&mut room, &user, now, &mut out);
                    }
                }
            }
            _ => {}
        }
        out
    }
}

fn enter(room: &mut Room, user: &str, now: u64, out: &mut Vec<Vec<u8>>) {
    if room.inside.iter().any(|u| u == user) {
        return;
    }
    room.inside.push(user.to_owned());
    let at = now + out.len() as u64;
    out.push(body(
        103,
        &room.id,
        user,
        at,
        json!({"Role": ANCHOR, "TerminalType": ANDROID, "UserType": 3}),
    ));
    out.push(body(203, &room.id, user, at + 1, json!({})));
    if room.video {
        out.push(body(201, &room.id, user, at + 2, json!({})));
    }
}

fn exit(room: &mut Room, user: &str, now: u64, out: &mut Vec<Vec<u8>>) {
    let Some(i) = room.inside.iter().position(|u| u == user) else {
        return;
    };
    room.inside.remove(i);
    let at = now + out.len() as u64;
    out.push(body(
        104,
        &room.id,
        user,
        at,
        json!({"Role": ANCHOR, "Reason": NORMAL_EXIT}),
    ));
}

/// Tab-formatted, as Tencent's are; a numeric room stays a number.
fn body(kind: u32, room: &str, user: &str, at: u64, extra: serde_json::Value) -> Vec<u8> {
    let room_id = room
        .parse::<u64>()
        .map_or_else(|_| json!(room), |n| json!(n));
    let mut info =
        json!({ "RoomId": room_id, "EventTs": at / 1000, "EventMsTs": at, "UserId": user });
    if let (Some(info), Some(extra)) = (info.as_object_mut(), extra.as_object()) {
        info.extend(extra.clone());
    }
    let event = json!({ "EventGroupId": kind / 100, "EventType": kind, "CallbackTs": at, "EventInfo": info });
    let mut bytes = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b"\t");
    let mut ser = serde_json::Serializer::with_formatter(&mut bytes, formatter);
    serde::Serialize::serialize(&event, &mut ser).expect("JSON values serialize");
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;
    use callkit_core::models::{TrtcEvent, TrtcEventType};

    #[test]
    fn bodies_are_tab_formatted_signed_events_with_numeric_rooms() {
        let b = body(103, "42", "bob", 1_700_000_000_123, json!({"Role": 20}));
        let text = String::from_utf8(b.clone()).unwrap();
        assert!(text.contains("\n\t\"EventGroupId\": 1"), "{text}");
        let e = TrtcEvent::parse(&b).unwrap();
        assert_eq!(e.kind(), Some(TrtcEventType::EnterRoom));
        assert_eq!(e.event_info.room_id, "42");
        assert!(text.contains("\"RoomId\": 42"));
        assert_eq!(trtc_sign("k", &b).len(), 44);
    }
}
