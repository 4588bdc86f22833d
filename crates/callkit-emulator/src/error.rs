//! The emulator's one error type: configuration, startup and control-API failures.
//!
//! Tencent-side failures are not Rust errors here: they are answered as
//! envelope error codes (see `v4`).

use std::net::SocketAddr;

#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    /// The `--app` value is echoed nowhere: it carries a secret key.
    #[error("invalid --app value ({0}); expected SDKAPPID:SECRETKEY:admin1,admin2")]
    AppSpec(&'static str),
    #[error("{0}")]
    Simulation(String),
    #[error("SDKAppID {0} is configured twice")]
    DuplicateApp(u64),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("unknown SDKAppID {0}")]
    UnknownApp(u64),
    #[error("call not found")]
    CallNotFound,
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("no such route")]
    NotFound,
    #[error("method not allowed")]
    MethodNotAllowed,
    /// A `drop` fault: the connection is closed without an answer.
    #[error("connection dropped by an injected fault")]
    DroppedByFault,
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
}

impl EmulatorError {
    /// The HTTP status the control API answers this error with.
    pub fn http_status(&self) -> u16 {
        match self {
            Self::BadRequest(_)
            | Self::AppSpec(_)
            | Self::DuplicateApp(_)
            | Self::Simulation(_) => 400,
            Self::UnknownApp(_) | Self::CallNotFound | Self::NotFound => 404,
            Self::MethodNotAllowed => 405,
            Self::Conflict(_) => 409,
            Self::Bind { .. } | Self::Io(_) | Self::DroppedByFault => 500,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses() {
        assert_eq!(EmulatorError::BadRequest("x".into()).http_status(), 400);
        assert_eq!(EmulatorError::CallNotFound.http_status(), 404);
        assert_eq!(EmulatorError::Conflict("x".into()).http_status(), 409);
        assert_eq!(EmulatorError::MethodNotAllowed.http_status(), 405);
    }

    /// Every `--app` rejection that gets as far as reading the key: the
    /// error, shown or debug-printed, never holds the key or a piece of it.
    #[test]
    fn app_spec_error_never_echoes_the_value() {
        use crate::config::{AppConfig, DEMO_KEY};
        let too_many = (0..11)
            .map(|i| format!("a{i}"))
            .collect::<Vec<_>>()
            .join(",");
        let specs = [
            format!("x:{DEMO_KEY}:admin"),
            format!("1400000001:{DEMO_KEY}:"),
            format!("1400000001:{DEMO_KEY}: , ,"),
            format!("1400000001:{DEMO_KEY}:{too_many}"),
            DEMO_KEY.to_owned(),
        ];
        for spec in &specs {
            let err = spec.parse::<AppConfig>().expect_err(spec);
            assert!(matches!(err, EmulatorError::AppSpec(_)), "{err:?}");
            for shown in [err.to_string(), format!("{err:?}")] {
                assert!(!shown.contains(&DEMO_KEY[..8]), "{shown}");
            }
        }
    }
}
