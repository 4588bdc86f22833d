//! Live sockets, on the hibernation API: each is tagged with who may see
//! what, so a change reaches admins and the call's own participants only,
//! without waking every socket to ask.

use wasm_bindgen::JsValue;
use worker::worker_sys::ext::WebSocketExt;
use worker::{Result, State, WebSocket, WebSocketPair};

use crate::board::{LiveCall, Message, Summary, Viewer};

const ADMIN_TAG: &str = "admin";
/// Sockets one viewer may hold: a few tabs on a few devices. Without a cap
/// one account could make every change cost the board thousands of sends.
pub const MAX_SOCKETS_PER_VIEWER: usize = 8;
/// The close code (application range) of a socket that made way for a newer
/// one of the same viewer; clients should not reconnect it by themselves.
pub const REPLACED: u16 = 4008;
/// The close code of a socket whose ticket's time is up (`min(token expiry,
/// opened + 1 h)`): the client gets a fresh ticket and reconnects.
pub const EXPIRED: u16 = 4001;
/// The close code of a socket that sent something other than `ping`.
pub const POLICY_VIOLATION: u16 = 1008;
/// The runtime's limit on a socket tag.
const MAX_TAG_LEN: usize = 256;

/// The one tag a viewer's sockets carry.
fn tag_of(viewer: &Viewer) -> String {
    if viewer.is_admin {
        ADMIN_TAG.to_owned()
    } else {
        user_tag(&viewer.user_id)
    }
}

fn user_tag(user_id: &str) -> String {
    format!("u:{user_id}")
}

/// Counts a viewer's sockets; never used to route a change.
fn viewer_tag(viewer: &Viewer) -> String {
    format!("v:{}", viewer.user_id)
}

/// The sockets with `tag`. Names in webhook bodies are not ours: a name
/// longer than a tag may be (256 characters) has no socket to find, and an
/// error from the runtime means none, where `worker`'s own accessor would
/// panic and take the board down.
fn tagged(state: &State, tag: &str) -> Vec<WebSocket> {
    if tag.len() > MAX_TAG_LEN {
        return Vec::new();
    }
    state
        .as_raw()
        .get_websockets_with_tag(tag)
        .map(|sockets| sockets.into_iter().map(WebSocket::from).collect())
        .unwrap_or_default()
}

/// Closes the viewer's oldest sockets so that one more fits under the cap.
fn make_room(state: &State, viewer: &Viewer) {
    let open = tagged(state, &viewer_tag(viewer));
    let excess = (open.len() + 1).saturating_sub(MAX_SOCKETS_PER_VIEWER);
    for old in open.iter().take(excess) {
        end(
            old,
            REPLACED,
            "replaced by a newer live socket of this user",
        );
    }
}

/// Closes `socket` with `code`, saying so in a `closing` message first: the
/// close frame alone may reach the client's code only when the connection
/// ends, and the runtime ends it late while the object keeps busy.
pub fn end(socket: &WebSocket, code: u16, reason: &str) {
    // A socket closing under us is not the board's failure.
    let _ = socket.send_with_str(Message::Closing { code, reason }.to_json());
    let _ = socket.close(Some(code), Some(reason));
}

/// Accepts a socket for `viewer` until `until_ms`, and sends it the board
/// it may see (`calls`, already filtered and cut, with `summary` counting
/// them all). The runtime's accept is called
/// directly: `worker`'s panics when it fails, which would take the object down.
pub fn accept(
    state: &State,
    viewer: &Viewer,
    calls: &[LiveCall],
    summary: Summary,
    now_ms: u64,
    until_ms: u64,
) -> Result<WebSocket> {
    make_room(state, viewer);
    let pair = WebSocketPair::new()?;
    let tags = vec![
        JsValue::from(tag_of(viewer)),
        JsValue::from(viewer_tag(viewer)),
    ];
    let raw: &web_sys::WebSocket = pair.server.as_ref();
    state
        .as_raw()
        .accept_websocket_with_tags(raw, tags)
        .map_err(|_| worker::Error::RustError("the runtime refused the socket".into()))?;
    // Its end, kept with it across hibernation.
    raw.serialize_attachment(JsValue::from_f64(until_ms as f64))
        .map_err(|_| worker::Error::RustError("could not keep the socket's end".into()))?;
    let snapshot = Message::Snapshot {
        calls: calls.iter().collect(),
        now: now_ms,
        summary,
    };
    pair.server.send_with_str(snapshot.to_json())?;
    Ok(pair.client)
}

/// Closes (4001) the sockets whose time is up; the earliest end of the
/// others, for the next alarm.
pub fn close_expired(state: &State, now_ms: u64) -> Option<u64> {
    let sockets = state.as_raw().get_websockets().unwrap_or_default();
    let mut next: Option<u64> = None;
    for socket in sockets {
        let until = socket
            .deserialize_attachment()
            .ok()
            .and_then(|v| v.as_f64())
            .map_or(0, |ms| ms as u64);
        if until <= now_ms {
            end(
                &WebSocket::from(socket),
                EXPIRED,
                "ticket expired: get a new ticket",
            );
        } else {
            next = Some(next.map_or(until, |n| n.min(until)));
        }
    }
    next
}

/// Sends `message` about `call` to every socket allowed to see the call.
pub fn broadcast(state: &State, call: &LiveCall, message: &Message) {
    let text = message.to_json();
    for tag in routes(call) {
        send_to(state, &tag, &text);
    }
}

/// The routing tags of every socket allowed to see `call`.
pub fn routes(call: &LiveCall) -> Vec<String> {
    let mut tags = vec![ADMIN_TAG.to_owned()];
    tags.extend(call.participants().into_iter().map(user_tag));
    tags
}

/// Sends `text` to every socket with `tag`.
pub fn send_to(state: &State, tag: &str, text: &str) {
    for socket in tagged(state, tag) {
        // A socket closing under us is not the board's failure.
        let _ = socket.send_with_str(text);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admins_share_one_tag_and_users_have_their_own() {
        let admin = Viewer {
            user_id: "ops".into(),
            is_admin: true,
        };
        let alice = Viewer {
            user_id: "alice".into(),
            is_admin: false,
        };
        let tricky = Viewer {
            user_id: "admin".into(),
            is_admin: false,
        };
        assert_eq!(tag_of(&admin), "admin");
        assert_eq!(tag_of(&alice), "u:alice");
        assert_ne!(
            tag_of(&tricky),
            ADMIN_TAG,
            "a user named admin is not an admin"
        );
        // The counting tag never collides with a routing tag.
        assert_eq!(viewer_tag(&admin), "v:ops");
        assert_ne!(viewer_tag(&alice), tag_of(&alice));
    }
}
