//! The route table: which method and path pattern is which action. The
//! OpenAPI test reads the same table, so the two cannot drift apart.

use super::policy::Action;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Put,
    Delete,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
        }
    }

    pub fn parse(method: &str) -> Option<Self> {
        match method {
            "GET" | "HEAD" => Some(Method::Get),
            "POST" => Some(Method::Post),
            "PUT" => Some(Method::Put),
            "DELETE" => Some(Method::Delete),
            _ => None,
        }
    }
}

/// One served operation. `path` uses OpenAPI's `{param}` syntax.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    pub method: Method,
    pub path: &'static str,
    pub action: Action,
}

pub const ROUTES: &[Route] = &[
    Route {
        method: Method::Get,
        path: "/api/v1/health",
        action: Action::Health,
    },
    Route {
        method: Method::Get,
        path: "/api/v1/openapi.json",
        action: Action::OpenApi,
    },
    Route {
        method: Method::Get,
        path: "/api/v1/calls/{callId}",
        action: Action::GetCall,
    },
    Route {
        method: Method::Post,
        path: "/api/v1/calls/{callId}/end",
        action: Action::EndCall,
    },
    Route {
        method: Method::Post,
        path: "/api/v1/calls",
        action: Action::StartCall,
    },
    Route {
        method: Method::Get,
        path: "/api/v1/records/{callId}",
        action: Action::GetRecord,
    },
    Route {
        method: Method::Get,
        path: "/api/v1/records",
        action: Action::ListRecords,
    },
    Route {
        method: Method::Get,
        path: "/api/v1/callback",
        action: Action::GetCallback,
    },
    Route {
        method: Method::Put,
        path: "/api/v1/callback",
        action: Action::SetCallback,
    },
    Route {
        method: Method::Delete,
        path: "/api/v1/callback",
        action: Action::DeleteCallback,
    },
    Route {
        method: Method::Post,
        path: "/api/v1/usersig",
        action: Action::MintUserSig,
    },
    Route {
        method: Method::Post,
        path: "/api/v1/webhooks/tencent",
        action: Action::ReceiveWebhook,
    },
    Route {
        method: Method::Get,
        path: "/api/v1/live/calls",
        action: Action::LiveCalls,
    },
    Route {
        method: Method::Post,
        path: "/api/v1/live/ticket",
        action: Action::LiveTicket,
    },
    Route {
        method: Method::Get,
        path: "/api/v1/live",
        action: Action::LiveSocket,
    },
];

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
    paths: matchit::Router<Vec<Route>>,
}

impl Default for Router {
    fn default() -> Self {
        Self::new()
    }
}

impl Router {
    pub fn new() -> Self {
        let mut grouped: Vec<(&'static str, Vec<Route>)> = Vec::new();
        for route in ROUTES {
            match grouped.iter_mut().find(|(p, _)| *p == route.path) {
                Some((_, routes)) => routes.push(*route),
                None => grouped.push((route.path, vec![*route])),
            }
        }
        let mut paths = matchit::Router::new();
        for (path, routes) in grouped {
            // matchit 0.7 spells parameters `:name`.
            let pattern = path.replace('{', ":").replace('}', "");
            paths
                .insert(pattern, routes)
                .expect("the route table has no conflicting patterns");
        }
        Self { paths }
    }

    /// `method` is the raw HTTP method (HEAD answers like GET).
    pub fn resolve(&self, method: &str, path: &str) -> Resolved {
        let Ok(matched) = self.paths.at(path) else {
            return Resolved::NotFound;
        };
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
        for route in ROUTES {
            let path = route.path.replace("{callId}", "c-1");
            assert_eq!(
                router.resolve(route.method.as_str(), &path),
                Resolved::Found {
                    action: route.action,
                    call_id: route.path.contains("{callId}").then(|| "c-1".to_owned()),
                },
                "{} {}",
                route.method.as_str(),
                route.path
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
    }
}
