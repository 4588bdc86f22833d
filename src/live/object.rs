//! `CallBoard`: one Durable Object per SDKAppID holding the live board. The
//! edge API reaches it through `super::BoardStub` only. Like the Worker's
//! fetch entry, it takes the isolate's state from `crate::app`.

use std::cell::Cell;
use std::time::Duration;

use callkit_core::models::WebhookEvent;
use serde::Serialize;
use worker::{
    console_error, console_log, durable_object, DurableObject, Env, Method, Request, Response,
    Result, State, WebSocket, WebSocketIncomingMessage,
};

use super::store::Store;
use super::{
    paths, reconcile, sockets, tickets, Outcome, OUTCOME_HEADER, REPLAY_HEADER, TICKET_HEADER,
    TICKET_TTL_MS, VIEWER_HEADER, VIEWER_ID_HEADER,
};
use crate::app::{self, EdgeState};
use crate::board::{self, Message, Viewer};

#[durable_object]
pub struct CallBoard {
    state: State,
    env: Env,
    store: Option<Store>,
    /// An alarm is known to be set; checked against storage once per wake-up.
    alarm_armed: Cell<bool>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Board<'a> {
    calls: Vec<&'a board::LiveCall>,
    now: u64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Ticket {
    ticket: String,
    expires_in: u64,
}

impl DurableObject for CallBoard {
    fn new(state: State, env: Env) -> Self {
        let store = Store::open(state.storage().sql())
            .map_err(|e| console_error!("board storage unavailable: {e}"))
            .ok();
        // Each load (first use, or after an eviction) is worth a line: the
        // board's state outlives it in SQLite.
        console_log!(r#"{{"kind":"board","event":"loaded"}}"#);
        // A ping is answered without waking the object.
        if let Ok(pair) = worker::worker_sys::WebSocketRequestResponsePair::new("ping", "pong") {
            state.set_websocket_auto_response(&pair);
        }
        Self {
            state,
            env,
            store,
            alarm_armed: Cell::new(false),
        }
    }

    async fn fetch(&self, req: Request) -> Result<Response> {
        let path = req.path();
        match (req.method(), path.as_str()) {
            (Method::Post, paths::EVENT) => self.event(req).await,
            (Method::Get, paths::CALLS) => self.calls(&req),
            (Method::Post, paths::TICKETS) => self.ticket(&req).await,
            (Method::Get, paths::SOCKET) => self.socket(&req),
            (Method::Post, paths::TRTC) => {
                super::rooms::event(&self.state, self.store()?, req, now_ms()).await
            }
            _ => Response::error("no such board route", 404),
        }
    }

    async fn alarm(&self) -> Result<Response> {
        self.alarm_armed.set(false);
        let now = now_ms();
        let app =
            app::get_or_init(&self.env).map_err(|e| worker::Error::RustError(e.to_string()))?;
        let store = self.store()?;
        super::rooms::flag_empty(&self.state, store, now, app.trtc.empty_room_after)?;
        reconcile::run(&self.state, store, &app.client, &app.live, now).await?;
        // The alarm that is running may still read as set: set the next one
        // without asking.
        if !store.is_empty()? {
            self.set_alarm(&app).await?;
        }
        Response::ok("")
    }

    async fn websocket_message(
        &self,
        _ws: WebSocket,
        _message: WebSocketIncomingMessage,
    ) -> Result<()> {
        // The socket only listens; `ping` is answered by the auto-response.
        Ok(())
    }

    async fn websocket_close(
        &self,
        ws: WebSocket,
        code: usize,
        reason: String,
        _clean: bool,
    ) -> Result<()> {
        // 1005/1006 are reserved and may not be sent back.
        let code = u16::try_from(code)
            .ok()
            .filter(|c| !matches!(c, 1005 | 1006))
            .unwrap_or(1000);
        let _ = ws.close(Some(code), Some(reason));
        Ok(())
    }

    async fn websocket_error(&self, _ws: WebSocket, _error: worker::Error) -> Result<()> {
        Ok(())
    }
}

impl CallBoard {
    fn store(&self) -> Result<&Store> {
        self.store
            .as_ref()
            .ok_or_else(|| worker::Error::RustError("board storage unavailable".into()))
    }

    /// Applies one webhook, once, and tells the sockets that may see it.
    async fn event(&self, mut req: Request) -> Result<Response> {
        let store = self.store()?;
        let key = req.headers().get(REPLAY_HEADER)?.unwrap_or_default();
        let body = req.bytes().await?;
        let event = WebhookEvent::parse(&body)
            .ok()
            .flatten()
            .ok_or_else(|| worker::Error::RustError("not a webhook the edge checked".into()))?;
        let now = now_ms();
        if !store.first_delivery(&key, now)? {
            return outcome(Outcome::Replay);
        }
        let (mut tracked, mut changed) = board::apply(store.load(event.call_id())?, &event);
        // TRTC's events for its room may have come first.
        changed |= super::rooms::join(&self.state, &mut tracked.call)?;
        if changed {
            store.save(&tracked, now)?;
            sockets::broadcast(
                &self.state,
                &tracked.call,
                &Message::Call {
                    call: &tracked.call,
                },
            );
        } else {
            store.touch(event.call_id(), now)?;
        }
        self.arm_alarm().await?;
        outcome(if changed {
            Outcome::Applied
        } else {
            Outcome::Unchanged
        })
    }

    fn calls(&self, req: &Request) -> Result<Response> {
        let viewer = viewer_of(req)?;
        let calls = self.store()?.calls()?;
        let visible = calls.iter().filter(|c| viewer.sees(c)).collect();
        Response::from_json(&Board {
            calls: visible,
            now: now_ms(),
        })
    }

    async fn ticket(&self, req: &Request) -> Result<Response> {
        let viewer = viewer_of(req)?;
        let now = now_ms();
        let ticket = tickets::new_ticket()?;
        self.store()?
            .put_ticket(&ticket, &viewer, now + TICKET_TTL_MS)?;
        self.arm_alarm().await?;
        Response::from_json(&Ticket {
            ticket,
            expires_in: TICKET_TTL_MS / 1000,
        })
    }

    /// Opens a socket for the ticket's viewer; 401 for a bad ticket.
    fn socket(&self, req: &Request) -> Result<Response> {
        let store = self.store()?;
        let ticket = req.headers().get(TICKET_HEADER)?.unwrap_or_default();
        let now = now_ms();
        let viewer = if tickets::is_well_formed(&ticket) {
            store.take_ticket(&ticket, now)?
        } else {
            None
        };
        let Some(viewer) = viewer else {
            return Response::error("invalid ticket", 401);
        };
        let client = sockets::accept(&self.state, &viewer, &store.calls()?, now)?;
        let headers = worker::Headers::new();
        headers.set(VIEWER_ID_HEADER, &viewer.user_id)?;
        Ok(Response::from_websocket(client)?.with_headers(headers))
    }

    /// Keeps one alarm pending while the board holds anything.
    async fn arm_alarm(&self) -> Result<()> {
        if self.alarm_armed.get() {
            return Ok(());
        }
        let storage = self.state.storage();
        if storage.get_alarm().await?.is_none() {
            if self.store()?.is_empty()? {
                return Ok(());
            }
            let app =
                app::get_or_init(&self.env).map_err(|e| worker::Error::RustError(e.to_string()))?;
            return self.set_alarm(&app).await;
        }
        self.alarm_armed.set(true);
        Ok(())
    }

    async fn set_alarm(&self, app: &EdgeState) -> Result<()> {
        // An offset from now, not a time.
        let after = Duration::from_millis(super::alarm_interval_ms(&app.live));
        self.state.storage().set_alarm(after).await?;
        self.alarm_armed.set(true);
        Ok(())
    }
}

fn viewer_of(req: &Request) -> Result<Viewer> {
    let header = req.headers().get(VIEWER_HEADER)?.unwrap_or_default();
    Ok(serde_json::from_str(&header)?)
}

fn now_ms() -> u64 {
    js_sys::Date::now() as u64
}

/// What became of a webhook, as a header on an empty answer.
fn outcome(what: Outcome) -> Result<Response> {
    let headers = worker::Headers::new();
    headers.set(OUTCOME_HEADER, what.as_str())?;
    Ok(Response::empty()?.with_headers(headers))
}
