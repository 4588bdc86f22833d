//! One queue message: one accepted event for one backend URL. One message
//! per URL, so each URL is retried on its own and a dead one never holds
//! back the others.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Tencent's proof parameters: never passed on.
const PROOF_PARAMS: [&str; 3] = ["Sign", "RequestTime", "key"];

/// Which of Tencent's callbacks the event came from (`X-Callkit-Source`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    Callkit,
    Trtc,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Callkit => "callkit",
            Source::Trtc => "trtc",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Job {
    /// `webhook-id`: the same for every attempt and redelivery.
    pub id: String,
    pub url: String,
    pub source: Source,
    /// Tencent's own query parameters (or headers), proofs removed.
    pub params: Vec<(String, String)>,
    /// The body exactly as Tencent sent it (it parsed as JSON, so UTF-8).
    pub body: String,
    /// When the receiver accepted it (Unix ms).
    pub accepted_at: u64,
    /// Asked for by an admin: delivered even if it was delivered before.
    #[serde(default)]
    pub redeliver: bool,
}

impl Job {
    /// One job per URL for an event the receiver accepted.
    pub fn fan_out(
        urls: &[String],
        source: Source,
        params: &[(String, String)],
        body: &str,
        accepted_at: u64,
    ) -> Vec<Job> {
        let params: Vec<(String, String)> = params
            .iter()
            .filter(|(k, _)| !PROOF_PARAMS.contains(&k.as_str()))
            .cloned()
            .collect();
        urls.iter()
            .map(|url| Job {
                id: webhook_id(source, body, url),
                url: url.clone(),
                source,
                params: params.clone(),
                body: body.to_owned(),
                accepted_at,
                redeliver: false,
            })
            .collect()
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn from_json(text: &str) -> Option<Job> {
        serde_json::from_str(text).ok()
    }
}

/// From the event and the URL alone: the same event (a duplicate from
/// Tencent, a retry, a redelivery) keeps its id at each backend, which the
/// spec asks backends to use as their idempotency key. No `.` in it.
pub fn webhook_id(source: Source, body: &str, url: &str) -> String {
    let digest = Sha256::new()
        .chain_update(source.as_str())
        .chain_update([0])
        .chain_update(url)
        .chain_update([0])
        .chain_update(body)
        .finalize();
    format!("msg_{}", URL_SAFE_NO_PAD.encode(&digest[..18]))
}

/// Whether `id` could be one of ours (a path parameter is checked before
/// it reaches the log).
pub fn is_webhook_id(id: &str) -> bool {
    id.strip_prefix("msg_").is_some_and(|rest| {
        rest.len() == 24
            && rest
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::pairs_of as pairs;

    #[test]
    fn one_job_per_url_without_the_proofs() {
        let urls = vec![
            "https://a.example".to_owned(),
            "https://b.example".to_owned(),
        ];
        let query = pairs(&[
            ("SdkAppid", "1400000000"),
            ("CallbackCommand", "Call.CallbackAfterStartCall"),
            ("Sign", "s3cr3t-sign"),
            ("RequestTime", "1"),
            ("key", "s3cr3t-key"),
        ]);
        let jobs = Job::fan_out(&urls, Source::Callkit, &query, "{\"a\":\t1}", 7);
        assert_eq!(jobs.len(), 2);
        assert_eq!(jobs[1].url, "https://b.example");
        assert_ne!(jobs[0].id, jobs[1].id);
        for job in &jobs {
            assert_eq!(
                job.params,
                pairs(&[
                    ("SdkAppid", "1400000000"),
                    ("CallbackCommand", "Call.CallbackAfterStartCall")
                ])
            );
            assert_eq!(job.body, "{\"a\":\t1}");
            assert!(is_webhook_id(&job.id), "{}", job.id);
            assert!(!job.to_json().contains("s3cr3t"));
            assert_eq!(Job::from_json(&job.to_json()).as_ref(), Some(job));
        }
    }

    #[test]
    fn the_id_depends_on_event_url_and_source_only() {
        let a = webhook_id(Source::Callkit, "{}", "https://a.example");
        assert_eq!(a, webhook_id(Source::Callkit, "{}", "https://a.example"));
        assert_ne!(a, webhook_id(Source::Trtc, "{}", "https://a.example"));
        assert_ne!(a, webhook_id(Source::Callkit, "{ }", "https://a.example"));
        assert_ne!(a, webhook_id(Source::Callkit, "{}", "https://b.example"));
        assert!(!a.contains('.'));
    }

    #[test]
    fn ids_from_outside_are_checked() {
        assert!(is_webhook_id("msg_abcdefghijklmnopqrstuvwx"));
        for bad in [
            "",
            "msg_",
            "msg_abc",
            "abcd_abcdefghijklmnopqrstuvwx",
            "msg_abcdefghijklmnopqrstuv/x",
        ] {
            assert!(!is_webhook_id(bad), "{bad}");
        }
    }
}
