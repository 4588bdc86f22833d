//! callkit-edge: a Cloudflare Worker that holds a TUICallKit app's admin
//! credentials, exposes an authenticated, allow-listed edge API, and keeps a
//! live board of the app's calls from Tencent's webhooks.
//!
//! Layers, dependencies pointing down: `app` (built once per isolate) →
//! `api` (routes, auth, policy) → `live` (the board's Durable Object) →
//! `board` (its model), each over `platform` (fetch, clock, settings from
//! `Env`) → `callkit_core`.

pub mod api;
pub mod app;
pub mod board;
pub mod ledger;
pub mod live;
pub mod platform;
pub mod relay;

use worker::{event, Context, Env, Result, ScheduleContext, ScheduledEvent};

/// The raw `web_sys` request and response: `worker`'s wrappers would read
/// and copy fields (`cf`, the path, a headers wrapper) no route uses.
#[event(fetch)]
async fn fetch(req: web_sys::Request, env: Env, _ctx: Context) -> Result<web_sys::Response> {
    let state = app::get_or_init(&env);
    api::handle(req, env, state).await
}

/// Cron Triggers. One dispatcher for every schedule (the lead merges other
/// modules' jobs here); the ledger's retention runs on each.
#[event(scheduled)]
async fn scheduled(_event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    ledger_retention(&env).await;
}

async fn ledger_retention(env: &Env) {
    let Ok(app) = app::get_or_init(env) else {
        let line = ledger::log::Line::new("retention skipped: configuration invalid");
        worker::console_error!("{}", line.to_json());
        return;
    };
    let now = js_sys::Date::now() as u64;
    if let Err(e) = ledger::retention::prune(env, &app.ledger, now).await {
        let line = ledger::log::Line {
            detail: Some(e.to_string()),
            ..ledger::log::Line::new("retention failed")
        };
        worker::console_error!("{}", line.to_json());
    }
}

/// The one queue consumer of the Worker: a thin dispatcher on the queue's
/// name, so each queue's consumer lives with its own module.
#[event(queue)]
async fn queue(batch: worker::MessageBatch<String>, env: Env, _ctx: Context) -> Result<()> {
    // An error here would abort the isolate: a misconfigured Worker keeps
    // its messages for later instead.
    let app = match app::get_or_init(&env) {
        Ok(app) => app,
        Err(e) => {
            worker::console_error!(
                r#"{{"kind":"queue","event":"misconfigured","detail":{:?}}}"#,
                e.to_string()
            );
            batch.retry_all();
            return Ok(());
        }
    };
    match batch.queue().as_str() {
        name if relay::is_delivery_queue(name) => relay::consume::consume(&batch, &env, &app).await,
        relay::DEAD_LETTER_QUEUE => relay::consume::bury(&batch, &env, &app).await,
        other => {
            worker::console_error!(r#"{{"kind":"queue","event":"no_consumer","queue":{other:?}}}"#);
            batch.retry_all();
        }
    }
    Ok(())
}
