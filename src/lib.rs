//! callkit-edge: a Cloudflare Worker that holds a TUICallKit app's admin
//! credentials and exposes an authenticated, allow-listed edge API.
//!
//! Layers, dependencies pointing down: `api` (routes, auth, policy) →
//! `platform` (fetch, clock, config from `Env`) → `callkit_core`.

pub mod api;
pub mod platform;

use worker::{event, Context, Env, Request, Response, Result};

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {
    api::handle(req, env).await
}
