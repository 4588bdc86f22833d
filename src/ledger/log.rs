//! The ledger's log lines: one shape (`{"kind":"ledger","event":…}`), so
//! every line costs one serializer in the bundle, not a `json!` map each.

use serde::Serialize;

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Line<'a> {
    pub kind: &'static str,
    pub event: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub call_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updates: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub statements: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub records: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pruned: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retention_days: Option<u64>,
    /// Operator-facing: D1's or Tencent's message, never SQL or a secret.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl<'a> Line<'a> {
    pub fn new(event: &'a str) -> Self {
        Self {
            kind: "ledger",
            event,
            ..Self::default()
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_name_the_ledger_and_only_the_fields_set() {
        let line = Line {
            pruned: Some(1),
            retention_days: Some(30),
            ..Line::new("retention")
        };
        assert_eq!(
            line.to_json(),
            r#"{"kind":"ledger","event":"retention","pruned":1,"retentionDays":30}"#
        );
    }
}
