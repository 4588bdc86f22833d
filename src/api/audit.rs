//! One structured log line per action. It carries who did what and how it
//! ended, never a token, a sig or an upstream URL.

use serde::Serialize;

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditLine {
    pub kind: &'static str,
    pub identity: Option<String>,
    pub action: Option<&'static str>,
    pub call_id: Option<String>,
    pub outcome: &'static str,
    pub status: u16,
    pub code: Option<String>,
    pub request_id: Option<String>,
    pub latency_ms: u64,
    /// Operator-facing detail of a failure (an upstream error, a bug).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl AuditLine {
    pub fn new() -> Self {
        Self {
            kind: "audit",
            ..Self::default()
        }
    }

    /// Sets the status and the outcome word derived from it.
    pub fn set_status(&mut self, status: u16) {
        self.status = status;
        self.outcome = match status {
            101 | 200..=299 => "ok",
            401 | 403 | 429 => "denied",
            400..=499 => "rejected",
            _ => "failed",
        };
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_shape() {
        let mut line = AuditLine::new();
        line.action = Some("end_call");
        line.identity = Some("alice".into());
        line.call_id = Some("c-1".into());
        line.code = Some("forbidden".into());
        line.latency_ms = 12;
        line.set_status(403);
        let json: serde_json::Value = serde_json::from_str(&line.to_json()).unwrap();
        assert_eq!(json["kind"], "audit");
        assert_eq!(json["action"], "end_call");
        assert_eq!(json["outcome"], "denied");
        assert_eq!(json["identity"], "alice");
        assert_eq!(json["callId"], "c-1");
        assert_eq!(json["latencyMs"], 12);
        assert!(json.get("requestId").is_some());
        assert!(json.get("detail").is_none());
    }
}
