//! callkit-edge: a Cloudflare Worker that holds a TUICallKit app's admin
//! credentials and exposes an authenticated, allow-listed edge API.
//!
//! Layers, dependencies pointing down: `api` (routes, auth, policy) →
//! `platform` (fetch, clock, config from `Env`) → `callkit_core`.

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
