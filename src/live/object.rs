//! `CallBoard`: one Durable Object per shard of an app's live board (one per
//! SDKAppID with `LIVE_SHARDS=1`). The edge API reaches it through
//! `super::BoardStub` only. Like the Worker's fetch entry, it takes the
//! isolate's state from `crate::app`.

use std::cell::Cell;
use std::rc::Rc;

use callkit_core::models::WebhookEvent;
use worker::{
    console_error, console_log, durable_object, DurableObject, Env, Method, Request, Response,
    Result, ScheduledTime, State, WebSocket, WebSocketIncomingMessage,
};

use super::coalesce::Outbox;
use super::page::{self, PageQuery};
use super::store::Store;
use super::{
    paths, reconcile, sockets, tickets, Outcome, BACKFILL_HEADER, KNOWN_ONLY_HEADER,
    MAX_CALLS_HEADER, NONCE_EXPIRES_HEADER, NONCE_HEADER, OUTCOME_HEADER, PAGE_HEADER,
    REPLAY_HEADER, SOCKET_UNTIL_HEADER, VIEWER_HEADER, VIEWER_ID_HEADER,
};
use crate::app;
use crate::board::{self, Message, Tracked, Viewer};
use crate::ledger::log::Line;
use crate::ledger::{self, backfill, outbox, Update};

/// How long ledger updates gather before the alarm writes them to D1.
const LEDGER_BATCH_MS: u64 = 500;
/// The wait after a failed write (D1 down) before trying again.
const LEDGER_RETRY_MS: u64 = 5_000;

#[durable_object]
pub struct CallBoard {
    state: State,
    env: Env,
    store: Option<Store>,
    /// An alarm is known to be set; checked against storage once per wake-up.
    alarm_armed: Cell<bool>,
    /// Changes waiting to go out together (`LIVE_COALESCE_MS`).
    outbox: Rc<Outbox>,
    /// Calls in storage, counted once per wake-up, then kept up to date:
    /// counting on every new call would scan the table each time.
    calls_held: Cell<Option<u64>>,
    /// The alarm is due soon enough for the ledger's queue.
    ledger_armed: Cell<bool>,
    /// The last ledger drain failed (D1 down): wait longer before the next.
    ledger_failing: Cell<bool>,
    /// Whether `CALL_LEDGER` is bound: without it nothing is queued for the
    /// ledger, so the outbox cannot grow and no drain alarm keeps firing.
    ledger_on: bool,
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
        let ledger_on = env.d1(ledger::db::BINDING).is_ok();
        Self {
            state,
            env,
            store,
            alarm_armed: Cell::new(false),
            outbox: Rc::default(),
            calls_held: Cell::new(None),
            ledger_armed: Cell::new(false),
            ledger_failing: Cell::new(false),
            ledger_on,
        }
    }

    async fn fetch(&self, req: Request) -> Result<Response> {
        let path = req.path();
        match (req.method(), path.as_str()) {
            (Method::Post, paths::EVENT) => self.event(req).await,
            (Method::Get, paths::CALLS) => self.calls(&req),
            (Method::Get, paths::SOCKET) => self.socket(&req).await,
            (Method::Post, paths::BACKFILL) => self.start_backfill(req).await,
            (Method::Get, paths::BACKFILL) => self.backfill_progress(),
            (Method::Post, paths::TRTC) => self.trtc(req).await,
            _ => Response::error("no such board route", 404),
        }
    }

    async fn alarm(&self) -> Result<Response> {
        self.alarm_armed.set(false);
        self.ledger_armed.set(false);
        let now = now_ms();
        let app = self.app()?;
        let store = self.store()?;
        let publish = |tracked: &Tracked, now| self.publish(tracked, now);
        super::rooms::flag_empty(&self.state, store, now, app.trtc.empty_room_after, &publish)?;
        reconcile::run(
            &self.state,
            store,
            &app.client,
            &app.live,
            self.ledger_on,
            now,
        )
        .await?;
        // Reconcile may have forgotten calls: count again next time.
        self.calls_held.set(None);
        if self.ledger_on {
            self.drain_ledger(store, &app, now).await;
        }
        let next_close = sockets::close_expired(&self.state, now);
        // The alarm that is running may still read as set: set the next one
        // without asking.
        let next_look = (!store.is_empty()?).then(|| now + super::alarm_interval_ms(&app.live));
        let next_drain = outbox::pending(store.sql())?.then(|| now + self.ledger_delay_ms());
        if let Some(at) = [next_look, next_close, next_drain]
            .into_iter()
            .flatten()
            .min()
        {
            set_alarm_at(&self.state, at).await?;
            self.alarm_armed.set(next_look.is_some());
            self.ledger_armed.set(next_drain.is_some());
        }
        Response::ok("")
    }

    async fn websocket_message(
        &self,
        ws: WebSocket,
        _message: WebSocketIncomingMessage,
    ) -> Result<()> {
        // The socket only listens: `ping` is answered by the auto-response
        // without waking the object, and anything else would wake it for
        // nothing, so it ends the socket.
        sockets::end(&ws, sockets::POLICY_VIOLATION, "send only ping");
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
    fn app(&self) -> Result<Rc<app::EdgeState>> {
        app::get_or_init(&self.env).map_err(|e| worker::Error::RustError(e.to_string()))
    }

    fn call_count(&self) -> Result<u64> {
        if let Some(n) = self.calls_held.get() {
            return Ok(n);
        }
        let n = self.store()?.count()?;
        self.calls_held.set(Some(n));
        Ok(n)
    }

    fn store(&self) -> Result<&Store> {
        self.store
            .as_ref()
            .ok_or_else(|| worker::Error::RustError("board storage unavailable".into()))
    }

    /// Applies one webhook, once, and tells the sockets that may see it.
    async fn event(&self, mut req: Request) -> Result<Response> {
        let store = self.store()?;
        let key = req.headers().get(REPLAY_HEADER)?.unwrap_or_default();
        let known_only = req.headers().get(KNOWN_ONLY_HEADER)?.is_some();
        let max_calls = req
            .headers()
            .get(MAX_CALLS_HEADER)?
            .and_then(|v| v.parse().ok())
            .unwrap_or(u64::MAX);
        let body = req.bytes().await?;
        let event = WebhookEvent::parse(&body)
            .ok()
            .flatten()
            .ok_or_else(|| worker::Error::RustError("not a webhook the edge checked".into()))?;
        let now = now_ms();
        let existing = store.load(event.call_id())?;
        let people_before = existing.as_ref().map(|t| participants(&t.call));
        if existing.is_none() && known_only {
            return outcome(Outcome::Unknown);
        }
        if existing.is_none() && self.call_count()? >= max_calls {
            console_log!(r#"{{"kind":"board","event":"full","maxCalls":{max_calls}}}"#);
            self.ledger_only(&key, &event, now).await?;
            return outcome(Outcome::Full);
        }
        if !store.first_delivery(&key, now)? {
            return outcome(Outcome::Replay);
        }
        let (mut tracked, mut changed) = board::apply(existing.clone(), &event);
        // TRTC's events for its room may have come first.
        let joined = super::rooms::join(&self.state, &mut tracked.call, self.ledger_on)?;
        changed |= joined.is_some();
        if changed {
            let reindex = people_before != Some(participants(&tracked.call));
            store.save(&tracked, now, reindex)?;
            let mut update = Update::from_board(existing.as_ref(), &tracked, Some(&event));
            update.timeline.extend(joined.unwrap_or_default());
            if self.ledger_on {
                outbox::push(store.sql(), &update, now)?;
            }
            if people_before.is_none() {
                self.calls_held.set(self.calls_held.get().map(|n| n + 1));
            }
            self.send(&tracked)?;
        } else {
            store.touch(event.call_id(), now)?;
        }
        if changed {
            self.arm_ledger_alarm().await?;
        }
        self.arm_alarm().await?;
        outcome(if changed {
            Outcome::Applied
        } else {
            Outcome::Unchanged
        })
    }

    /// A call a full shard cannot hold still reaches the ledger: the event
    /// alone, once per delivery (the ledger merges the parts by their rank).
    async fn ledger_only(&self, key: &str, event: &WebhookEvent, now: u64) -> Result<()> {
        let store = self.store()?;
        if !self.ledger_on || !store.first_delivery(key, now)? {
            return Ok(());
        }
        let (tracked, _) = board::apply(None, event);
        outbox::push(
            store.sql(),
            &Update::from_board(None, &tracked, Some(event)),
            now,
        )?;
        self.arm_ledger_alarm().await
    }

    /// Applies a proven TRTC event once (`rooms`), and queues what the
    /// ledger records of it.
    async fn trtc(&self, req: Request) -> Result<Response> {
        let store = self.store()?;
        let publish = |tracked: &Tracked, now| self.publish(tracked, now);
        let now = now_ms();
        let (response, updates) =
            super::rooms::event(&self.state, store, req, now, &publish, self.ledger_on).await?;
        for update in &updates {
            outbox::push(store.sql(), update, now)?;
        }
        if !updates.is_empty() {
            self.arm_ledger_alarm().await?;
        }
        Ok(response)
    }

    /// Tells the sockets that may see the call, within `LIVE_COALESCE_MS`.
    fn send(&self, tracked: &Tracked) -> Result<()> {
        let text = Message::Call {
            call: &tracked.call,
        }
        .to_json();
        let window = self.app()?.live.coalesce_ms;
        self.outbox
            .send(&self.state, window, sockets::routes(&tracked.call), text);
        Ok(())
    }

    /// Saves a call whose people are unchanged (its room's presence
    /// changed), and sends it.
    fn publish(&self, tracked: &Tracked, now: u64) -> Result<()> {
        self.store()?.save(tracked, now, false)?;
        self.send(tracked)
    }

    /// A page of the shard's calls that the viewer may see, as the edge
    /// asked for it (`PAGE_HEADER`, checked there).
    fn calls(&self, req: &Request) -> Result<Response> {
        let viewer = viewer_of(req)?;
        let header = req.headers().get(PAGE_HEADER)?.unwrap_or_default();
        let query = PageQuery::from_header(&header)
            .ok_or_else(|| worker::Error::RustError("a page the edge did not check".into()))?;
        let store = self.store()?;
        let rows = store.page_for(&viewer, &query)?;
        let summary = store.summary_for(&viewer)?;
        Response::ok(page::shard_text(&rows, &summary, now_ms()))
    }

    /// Opens a socket for a ticket the edge verified, spending its nonce;
    /// 401 for a nonce spent before. Each request is one log line, so a
    /// flood that reaches the object can be counted.
    async fn socket(&self, req: &Request) -> Result<Response> {
        let store = self.store()?;
        let header = |name| req.headers().get(name).map(Option::unwrap_or_default);
        let nonce = header(NONCE_HEADER)?;
        let number = |name| header(name).map(|v| v.parse::<u64>().unwrap_or(0));
        let (expires, until) = (number(NONCE_EXPIRES_HEADER)?, number(SOCKET_UNTIL_HEADER)?);
        let now = now_ms();
        let fresh = tickets::is_nonce(&nonce) && expires >= now && store.spend(&nonce, expires)?;
        console_log!(
            r#"{{"kind":"board","event":"socket","outcome":"{}"}}"#,
            if fresh { "opened" } else { "refused" }
        );
        if !fresh {
            return Response::error("invalid ticket", 401);
        }
        let viewer = viewer_of(req)?;
        let calls = store.calls_for(&viewer, Some(board::SNAPSHOT_MAX))?;
        let summary = store.summary_for(&viewer)?;
        let Ok(client) = sockets::accept(&self.state, &viewer, &calls, summary, now, until) else {
            return Response::error("socket not accepted", 503);
        };
        self.arm_alarm().await?;
        ensure_alarm_by(&self.state, until).await?;
        let headers = worker::Headers::new();
        headers.set(VIEWER_ID_HEADER, &viewer.user_id)?;
        Ok(Response::from_websocket(client)?.with_headers(headers))
    }

    /// Keeps one alarm pending, within an interval, while the board holds
    /// anything (an alarm set for a socket's end may be later than that).
    async fn arm_alarm(&self) -> Result<()> {
        if self.alarm_armed.get() || self.store()?.is_empty()? {
            return Ok(());
        }
        let app = self.app()?;
        ensure_alarm_by(&self.state, now_ms() + super::alarm_interval_ms(&app.live)).await?;
        self.alarm_armed.set(true);
        Ok(())
    }

    /// Brings the alarm forward so queued ledger updates reach D1 soon,
    /// batched with whatever else arrives meanwhile.
    async fn arm_ledger_alarm(&self) -> Result<()> {
        if self.ledger_armed.get() || !self.ledger_on {
            return Ok(());
        }
        // Sooner than any alarm set already, never later: a socket's end
        // or the next look may be due first.
        ensure_alarm_by(&self.state, now_ms() + self.ledger_delay_ms()).await?;
        self.ledger_armed.set(true);
        Ok(())
    }

    fn ledger_delay_ms(&self) -> u64 {
        if self.ledger_failing.get() {
            LEDGER_RETRY_MS
        } else {
            LEDGER_BATCH_MS
        }
    }

    /// The ledger's step of the alarm. A failure (D1 down) is logged and
    /// retried later: the updates stay queued, the board goes on.
    async fn drain_ledger(&self, store: &Store, app: &app::EdgeState, now: u64) {
        let outcome = ledger::drain::run(&self.env, store.sql(), &app.client, now).await;
        self.ledger_failing.set(outcome.is_err());
        match outcome {
            Ok(d) if d.updates > 0 || d.fetched > 0 => {
                let line = Line {
                    updates: Some(d.updates),
                    statements: Some(d.statements),
                    records: Some(d.fetched),
                    ..Line::new("drained")
                };
                console_log!("{}", line.to_json());
            }
            Ok(_) => {}
            Err(e) => {
                let line = Line {
                    detail: Some(e.to_string()),
                    ..Line::new("drain failed")
                };
                console_error!("{}", line.to_json());
            }
        }
    }

    /// Starts a backfill over the window (ms) the edge checked, sent as
    /// `from-to` in a header: no URL parsing in the object.
    async fn start_backfill(&self, req: Request) -> Result<Response> {
        let window = req.headers().get(BACKFILL_HEADER)?.unwrap_or_default();
        let (from, to) = window
            .split_once('-')
            .and_then(|(f, t)| Some((f.parse::<u64>().ok()?, t.parse::<u64>().ok()?)))
            .ok_or_else(|| worker::Error::RustError("backfill without a window".into()))?;
        let store = self.store()?;
        backfill::start(store.sql(), from, to, now_ms())
            .map_err(|e| worker::Error::RustError(e.to_string()))?;
        self.arm_ledger_alarm().await?;
        Response::ok(outbox::backfill_json(store.sql())?)
    }

    fn backfill_progress(&self) -> Result<Response> {
        Response::ok(outbox::backfill_json(self.store()?.sql())?)
    }
}

/// Makes sure the alarm runs at `at_ms` or sooner.
async fn ensure_alarm_by(state: &State, at_ms: u64) -> Result<()> {
    match state.storage().get_alarm().await? {
        Some(set) if u64::try_from(set).unwrap_or(0) <= at_ms => Ok(()),
        _ => set_alarm_at(state, at_ms).await,
    }
}

async fn set_alarm_at(state: &State, at_ms: u64) -> Result<()> {
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(at_ms as f64));
    state.storage().set_alarm(ScheduledTime::new(date)).await
}

/// Who takes part in a call, as the member index holds them.
fn participants(call: &board::LiveCall) -> Vec<String> {
    let mut people: Vec<String> = call.participants().into_iter().map(str::to_owned).collect();
    people.sort_unstable();
    people
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
