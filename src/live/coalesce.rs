//! Coalesced fan-out: with `LIVE_COALESCE_MS` > 0 the changes a socket
//! would get within that window go out as one frame,
//! `{"type":"batch","messages":[…]}`, instead of one frame each. A busy
//! board then costs each watching socket one send per window, not one per
//! webhook. Each socket carries exactly one routing tag, so batching by tag
//! keeps every socket's messages in order.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use wasm_bindgen::{JsCast, JsValue};
use worker::worker_sys::DurableObjectState;
use worker::{Delay, State};

use super::sockets;

/// Messages waiting for the end of the window, by routing tag, in the order
/// the tags were first seen.
#[derive(Default)]
pub struct Outbox {
    pending: RefCell<Vec<(String, Vec<String>)>>,
    scheduled: Cell<bool>,
}

impl Outbox {
    /// Sends `text` to the sockets of `tags`: now, or at the end of the window.
    pub fn send(self: &Rc<Self>, state: &State, window_ms: u64, tags: Vec<String>, text: String) {
        if window_ms == 0 {
            for tag in &tags {
                sockets::send_to(state, tag, &text);
            }
            return;
        }
        {
            let mut pending = self.pending.borrow_mut();
            for tag in tags {
                match pending.iter_mut().find(|(t, _)| *t == tag) {
                    Some((_, messages)) => messages.push(text.clone()),
                    None => pending.push((tag, vec![text.clone()])),
                }
            }
        }
        if self.scheduled.replace(true) {
            return;
        }
        let outbox = Rc::clone(self);
        // The state's own handle, for the flush: `State` is not `Clone`.
        let raw: JsValue = AsRef::<JsValue>::as_ref(state.as_raw()).clone();
        state.wait_until(async move {
            Delay::from(Duration::from_millis(window_ms)).await;
            outbox.flush(&State::from(raw.unchecked_into::<DurableObjectState>()));
        });
    }

    fn flush(&self, state: &State) {
        self.scheduled.set(false);
        let pending = std::mem::take(&mut *self.pending.borrow_mut());
        for (tag, messages) in pending {
            sockets::send_to(state, &tag, &frame(&messages));
        }
    }
}

/// One message as it is; several as a batch (each is already JSON).
pub fn frame(messages: &[String]) -> String {
    match messages {
        [one] => one.clone(),
        many => format!(r#"{{"type":"batch","messages":[{}]}}"#, many.join(",")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_message_goes_as_is_several_as_a_batch() {
        let a = r#"{"type":"call","call":{"callId":"a"}}"#.to_owned();
        let b = r#"{"type":"removed","callId":"b"}"#.to_owned();
        assert_eq!(frame(std::slice::from_ref(&a)), a);
        let batch: serde_json::Value = serde_json::from_str(&frame(&[a, b])).unwrap();
        assert_eq!(batch["type"], "batch");
        assert_eq!(batch["messages"][0]["call"]["callId"], "a");
        assert_eq!(batch["messages"][1]["callId"], "b");
    }
}
