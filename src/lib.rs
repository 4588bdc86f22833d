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
pub mod live;
pub mod platform;

use worker::{event, Context, Env, Result};

/// The raw `web_sys` request and response: `worker`'s wrappers would read
/// and copy fields (`cf`, the path, a headers wrapper) no route uses.
#[event(fetch)]
async fn fetch(req: web_sys::Request, env: Env, _ctx: Context) -> Result<web_sys::Response> {
    let state = app::get_or_init(&env);
    api::handle(req, env, state).await
}
