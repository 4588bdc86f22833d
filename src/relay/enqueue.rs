//! The producer: the receiver hands over each event it accepted, and one
//! message per backend URL goes onto that URL's queue before Tencent is
//! answered.

use crate::platform::join_all::join_all;
use wasm_bindgen::JsValue;
use worker::{Env, QueueContentType, RawMessageBuilder};

use super::job::{Job, Source};
use super::QUEUE_BINDINGS;
use crate::platform::relay_config::RelayConfig;

#[derive(Debug)]
pub enum EnqueueError {
    /// The relay is on but this queue binding is missing.
    Missing(&'static str),
    /// A queue refused the message; the detail is for the log.
    Failed(String),
}

/// Queues `body` for every configured URL; nothing when the relay is off.
/// Returns how many messages went onto the queues.
pub async fn enqueue(
    env: &Env,
    relay: &RelayConfig,
    source: Source,
    params: &[(String, String)],
    body: &[u8],
    now_ms: u64,
) -> Result<usize, EnqueueError> {
    if !relay.is_on() {
        return Ok(0);
    }
    // The receivers parsed it as JSON, which is UTF-8.
    let body =
        std::str::from_utf8(body).map_err(|_| EnqueueError::Failed("body is not UTF-8".into()))?;
    let jobs = Job::fan_out(&relay.urls, source, params, body, now_ms);
    // `fan_out` keeps the order of the URLs: job i goes to queue i.
    let sent = join_all(
        jobs.iter()
            .zip(QUEUE_BINDINGS)
            .map(|(job, binding)| send(env, binding, job)),
    )
    .await;
    sent.into_iter().collect::<Result<Vec<()>, _>>()?;
    Ok(jobs.len())
}

/// A job an admin asked to send again, onto the queue of its URL.
pub async fn requeue(env: &Env, relay: &RelayConfig, job: &Job) -> Result<(), EnqueueError> {
    let position = relay
        .position(&job.url)
        .ok_or_else(|| EnqueueError::Failed("the URL is no longer configured".into()))?;
    send(env, QUEUE_BINDINGS[position], job).await
}

async fn send(env: &Env, binding: &'static str, job: &Job) -> Result<(), EnqueueError> {
    let queue = env
        .queue(binding)
        .map_err(|_| EnqueueError::Missing(binding))?;
    let message = RawMessageBuilder::new(JsValue::from_str(&job.to_json()))
        .build_with_content_type(QueueContentType::Text);
    queue
        .send_raw(message)
        .await
        .map_err(|e| EnqueueError::Failed(e.to_string()))
}
