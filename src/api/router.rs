//! Which method and path is which action, from the action table.

use super::actions::{Action, Method, Spec, TABLE};

/// What a request path resolved to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved {
    Found {
        action: Action,
        call_id: Option<String>,
    },
    /// The path exists but not with this method; `allow` lists the methods that do.
    MethodNotAllowed {
        allow: Vec<Method>,
    },
    NotFound,
}

pub struct Router {
    paths: matchit::Router<Vec<&'static Spec>>,
}

impl Default for Router {
    fn default() -> Self {
        Self::new()
    }
}

impl Router {
    pub fn new() -> Self {
        let mut grouped: Vec<(&'static str, Vec<&'static Spec>)> = Vec::new();
        for spec in &TABLE {
            match grouped.iter_mut().find(|(p, _)| *p == spec.path) {
                Some((_, specs)) => specs.push(spec),
                None => grouped.push((spec.path, vec![spec])),
            }
        }
        let mut paths = matchit::Router::new();
        for (path, specs) in grouped {
            // matchit 0.7 spells parameters `:name`.
            let pattern = path.replace('{', ":").replace('}', "");
            paths
                .insert(pattern, specs)
                .expect("the route table has no conflicting patterns");
        }
        Self { paths }
    }

    /// `method` is the raw HTTP method (HEAD answers like GET).
    pub fn resolve(&self, method: &str, path: &str) -> Resolved {
        let Ok(matched) = self.paths.at(path) else {
            return Resolved::NotFound;
        };
        // matchit lets a parameter match an empty segment (`/calls//end`);
        // the table means one non-empty segment.
        if matched.params.iter().any(|(_, value)| value.is_empty()) {
            return Resolved::NotFound;
        }
        let routes = matched.value;
        let wanted = Method::parse(method);
        match routes.iter().find(|r| Some(r.method) == wanted) {
            Some(route) => Resolved::Found {
                action: route.action,
                call_id: matched.params.get("callId").map(str::to_owned),
            },
            None => Resolved::MethodNotAllowed {
                allow: routes.iter().map(|r| r.method).collect(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_every_route() {
        let router = Router::new();
        for spec in &TABLE {
            let path = spec.path.replace("{callId}", "c-1");
            assert_eq!(
                router.resolve(spec.method.as_str(), &path),
                Resolved::Found {
                    action: spec.action,
                    call_id: spec.path.contains("{callId}").then(|| "c-1".to_owned()),
                },
                "{} {}",
                spec.method.as_str(),
                spec.path
            );
        }
    }

    #[test]
    fn wrong_method_lists_the_allowed_ones() {
        let router = Router::new();
        assert_eq!(
            router.resolve("PATCH", "/api/v1/callback"),
            Resolved::MethodNotAllowed {
                allow: vec![Method::Get, Method::Put, Method::Delete]
            }
        );
        assert_eq!(
            router.resolve("GET", "/api/v1/calls"),
            Resolved::MethodNotAllowed {
                allow: vec![Method::Post]
            }
        );
    }

    #[test]
    fn history_routes_win_over_a_call_id() {
        let router = Router::new();
        let action = |method, path| match router.resolve(method, path) {
            Resolved::Found { action, .. } => Some(action),
            _ => None,
        };
        assert_eq!(
            action("GET", "/api/v1/history/stats"),
            Some(Action::HistoryStats)
        );
        assert_eq!(
            action("GET", "/api/v1/history/export"),
            Some(Action::ExportHistory)
        );
        assert_eq!(
            action("POST", "/api/v1/history/backfill"),
            Some(Action::StartBackfill)
        );
        assert_eq!(
            action("GET", "/api/v1/history/c-1"),
            Some(Action::GetHistoryCall)
        );
        assert_eq!(
            action("DELETE", "/api/v1/history/users/bob"),
            Some(Action::EraseHistoryUser)
        );
    }

    #[test]
    fn unknown_paths_are_not_found() {
        let router = Router::new();
        for path in [
            "/api/v1",
            "/api/v1/nope",
            "/api/v1/calls/a/b",
            "/api/v2/health",
            "/",
        ] {
            assert_eq!(router.resolve("GET", path), Resolved::NotFound, "{path}");
        }
        // An empty segment is no parameter (found by the router fuzz target).
        for (method, path) in [
            ("POST", "/api/v1/calls//end"),
            ("GET", "/api/v1/calls/"),
            ("GET", "/api/v1/records/"),
            ("DELETE", "/api/v1/history/users/"),
        ] {
            assert_eq!(router.resolve(method, path), Resolved::NotFound, "{path}");
        }
    }
}
