//! The queues' consumer: each job in a batch is delivered at once, all in
//! parallel, then acknowledged or retried with backoff on its own. Each URL
//! has its own queue, so a batch only ever waits for one backend. The
//! dead-letter queue's consumer marks what arrives there as dead.

use crate::platform::join_all::join_all;
use worker::{
    console_error, MessageBatch, MessageExt, QueueRetryOptions, QueueRetryOptionsBuilder,
    RawMessage,
};

use super::backoff;
use super::deliver::deliver;
use super::job::Job;
use super::log::{Attempt, Begun, LogStub};
use crate::app::EdgeState;

/// When the log cannot be reached the whole batch waits this long.
const LOG_DOWN_DELAY_SECS: u32 = 5;
/// A job another consumer is delivering right now comes back after its
/// attempt has had time to end.
const BUSY_DELAY_SECS: u32 = 15;

pub async fn consume<T>(batch: &MessageBatch<T>, env: &worker::Env, app: &EdgeState) {
    let messages: Vec<RawMessage> = batch.raw_iter().collect();
    let jobs = readable(&messages);
    let Some(secret) = app.relay.secret.as_ref() else {
        // Turned off since these were queued: nothing to sign them with.
        console_error!(
            r#"{{"kind":"relay","event":"off","dropped":{}}}"#,
            jobs.len()
        );
        batch.ack_all();
        return;
    };
    let log = match LogStub::for_app(env, app.tencent.client.sdkappid) {
        Ok(log) => log,
        Err(e) => return log_down(batch, &format!("{e:?}")),
    };
    let pending: Vec<&Job> = jobs.iter().map(|(_, job)| job).collect();
    let begun = match log.begin(&pending).await {
        Ok(begun) if begun.len() == pending.len() => begun,
        other => return log_down(batch, &format!("{:?}", other.err())),
    };
    let mut work = Vec::new();
    for ((message, job), begun) in jobs.iter().zip(&begun) {
        match *begun {
            Begun::Deliver { attempts } => work.push((*message, job, attempts)),
            Begun::Skip => message.ack(),
            Begun::Busy => message.retry_with_options(&delayed(BUSY_DELAY_SECS)),
        }
    }
    let attempts = join_all(work.iter().map(|(_, job, _)| deliver(job, secret))).await;
    settle(&work, &attempts);
    if let Err(e) = log.finish(&attempts).await {
        console_error!(
            r#"{{"kind":"relay","event":"log_failed","detail":{:?}}}"#,
            format!("{e:?}")
        );
    }
}

/// Acknowledges what was delivered; the rest comes back after its backoff.
fn settle(work: &[(&RawMessage, &Job, u32)], attempts: &[Attempt]) {
    for ((message, _, tries), attempt) in work.iter().zip(attempts) {
        if attempt.delivered {
            message.ack();
        } else {
            let random = getrandom::u32().unwrap_or(0);
            message.retry_with_options(&delayed(backoff::delay_secs(*tries, random)));
        }
    }
}

fn delayed(secs: u32) -> QueueRetryOptions {
    QueueRetryOptionsBuilder::new()
        .with_delay_seconds(secs)
        .build()
}

/// The dead-letter queue: out of retries. The log keeps them for redelivery.
pub async fn bury<T>(batch: &MessageBatch<T>, env: &worker::Env, app: &EdgeState) {
    let messages: Vec<RawMessage> = batch.raw_iter().collect();
    let ids: Vec<String> = readable(&messages)
        .into_iter()
        .map(|(_, job)| job.id)
        .collect();
    let outcome = match LogStub::for_app(env, app.tencent.client.sdkappid) {
        Ok(log) => log.bury(&ids).await,
        Err(e) => Err(e),
    };
    match outcome {
        Ok(()) => {
            console_error!(r#"{{"kind":"relay","event":"dead","count":{}}}"#, ids.len());
            batch.ack_all();
        }
        Err(e) => log_down(batch, &format!("{e:?}")),
    }
}

/// The jobs of a batch; a message that is not one is acknowledged and
/// logged (retrying it could never help).
fn readable(messages: &[RawMessage]) -> Vec<(&RawMessage, Job)> {
    let mut jobs = Vec::with_capacity(messages.len());
    for message in messages {
        match message
            .body()
            .as_string()
            .as_deref()
            .and_then(Job::from_json)
        {
            Some(job) => jobs.push((message, job)),
            None => {
                console_error!(r#"{{"kind":"relay","event":"unreadable_message"}}"#);
                message.ack();
            }
        }
    }
    jobs
}

fn log_down<T>(batch: &MessageBatch<T>, detail: &str) {
    console_error!(r#"{{"kind":"relay","event":"log_unavailable","detail":{detail:?}}}"#);
    batch.retry_all_with_options(&delayed(LOG_DOWN_DELAY_SECS));
}
