//! `GET /api/v1/openapi.json`: the hand-written OpenAPI 3.1 document, served
//! as-is. A test holds it to the route table.

pub const DOCUMENT: &str = include_str!("openapi.json");

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::super::actions::TABLE;
    use super::DOCUMENT;

    fn documented() -> BTreeSet<(String, String)> {
        let doc: serde_json::Value = serde_json::from_str(DOCUMENT).expect("valid JSON");
        assert_eq!(doc["openapi"].as_str().map(|v| &v[..3]), Some("3.1"));
        let mut ops = BTreeSet::new();
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for method in ["get", "post", "put", "delete", "patch"] {
                if item.get(method).is_some() {
                    ops.insert((method.to_ascii_uppercase(), path.clone()));
                }
            }
        }
        ops
    }

    #[test]
    fn every_served_route_is_documented_and_every_documented_route_is_served() {
        let served: BTreeSet<(String, String)> = TABLE
            .iter()
            .map(|r| (r.method.as_str().to_owned(), r.path.to_owned()))
            .collect();
        assert_eq!(served, documented());
    }

    #[test]
    fn every_operation_names_its_action_from_the_table() {
        let doc: serde_json::Value = serde_json::from_str(DOCUMENT).unwrap();
        for spec in &TABLE {
            let op = &doc["paths"][spec.path][spec.method.as_str().to_ascii_lowercase()];
            assert_eq!(
                op["x-callkit-action"],
                spec.name,
                "{} {}",
                spec.method.as_str(),
                spec.path
            );
            let public = op["security"].as_array().is_some_and(|s| s.is_empty());
            assert_eq!(
                public,
                spec.default_rule == crate::api::policy::Rule::Public,
                "{}",
                spec.name
            );
        }
    }

    #[test]
    fn every_error_code_in_problem_mapping_is_documented() {
        let doc: serde_json::Value = serde_json::from_str(DOCUMENT).unwrap();
        let codes = doc["components"]["schemas"]["Problem"]["properties"]["code"]["enum"]
            .as_array()
            .expect("Problem.code enum")
            .iter()
            .filter_map(|c| c.as_str())
            .collect::<BTreeSet<_>>();
        for code in [
            "call_not_found",
            "record_not_found",
            "callback_not_configured",
            "route_not_found",
            "method_not_allowed",
            "forbidden",
            "action_disabled",
            "rate_limited",
            "upstream_rate_limited",
            "upstream_timeout",
            "admin_usersig_expired",
            "invalid_json",
            "unknown_field",
            "body_too_large",
            "unsupported_media_type",
            "token_expired",
            "misconfigured",
            "internal",
            "webhook_unauthenticated",
            "wrong_sdkappid",
            "invalid_webhook",
            "invalid_ticket",
            "upgrade_required",
        ] {
            assert!(
                codes.contains(code),
                "{code} missing from the OpenAPI Problem schema"
            );
        }
    }
}
