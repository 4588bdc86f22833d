//! The producer: the receiver hands over each event it accepted, and one
//! message per backend URL goes onto the queue before Tencent is answered.

use wasm_bindgen::JsValue;
use worker::{Env, QueueContentType, RawMessageBuilder, SendMessage};

use super::job::{Job, Source};
use super::QUEUE_BINDING;
use crate::platform::relay_config::RelayConfig;

#[derive(Debug)]
pub enum EnqueueError {
    /// The relay is on but the queue binding is missing.
    Missing,
    /// The queue refused the batch; the detail is for the log.
    Failed(String),
}

/// Queues `body` for every configured URL; nothing when the relay is off.
/// Returns how many messages went onto the queue.
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
    let queue = env
        .queue(QUEUE_BINDING)
        .map_err(|_| EnqueueError::Missing)?;
    let messages: Vec<SendMessage<JsValue>> = jobs
        .iter()
        .map(|job| {
            RawMessageBuilder::new(JsValue::from_str(&job.to_json()))
                .build_with_content_type(QueueContentType::Text)
        })
        .collect();
    queue
        .send_raw_batch(messages)
        .await
        .map_err(|e| EnqueueError::Failed(e.to_string()))?;
    Ok(jobs.len())
}

/// A job an admin asked to send again.
pub async fn requeue(env: &Env, job: &Job) -> Result<(), EnqueueError> {
    let queue = env
        .queue(QUEUE_BINDING)
        .map_err(|_| EnqueueError::Missing)?;
    let message = RawMessageBuilder::new(JsValue::from_str(&job.to_json()))
        .build_with_content_type(QueueContentType::Text);
    queue
        .send_raw(message)
        .await
        .map_err(|e| EnqueueError::Failed(e.to_string()))
}
