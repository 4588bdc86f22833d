//! The HTTP/1.1 server: accepts connections and routes `/v4/` and
//! `/_emulator/`. Hand-rolled on hyper so a fault can close a connection
//! without writing any answer.

use crate::config::EmulatorConfig;
use crate::control;
use crate::emulator::Emulator;
use crate::error::EmulatorError;
use crate::http::{json, Resp};
use crate::v4;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, StatusCode};
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// A started emulator. Dropping it stops accepting connections.
#[derive(Debug)]
pub struct RunningEmulator {
    addr: SocketAddr,
    emulator: Arc<Emulator>,
    accept_loop: JoinHandle<()>,
    /// `--simulate-calls`: stops with the server.
    traffic: Option<JoinHandle<()>>,
}

impl RunningEmulator {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn emulator(&self) -> &Arc<Emulator> {
        &self.emulator
    }

    /// Runs until the accept loop ends (it does not on its own).
    pub async fn wait(mut self) {
        let _ = (&mut self.accept_loop).await;
    }
}

impl Drop for RunningEmulator {
    fn drop(&mut self) {
        self.accept_loop.abort();
        if let Some(traffic) = &self.traffic {
            traffic.abort();
        }
    }
}

/// Binds, seeds if asked, and serves (and simulates calls, if asked) in the
/// background on the current runtime.
pub async fn start(config: EmulatorConfig) -> Result<RunningEmulator, EmulatorError> {
    let config = config.validated()?;
    let listener =
        TcpListener::bind(config.listen)
            .await
            .map_err(|source| EmulatorError::Bind {
                addr: config.listen,
                source,
            })?;
    let addr = listener.local_addr()?;
    let emulator = Arc::new(Emulator::new(&config));
    if config.seed_demo {
        let app = emulator.app_or_default(None)?;
        control::seed_app(app, 50, 3);
    }
    let traffic = match config.simulation {
        Some(sim) => Some(crate::traffic::spawn(emulator.clone(), sim)?),
        None => None,
    };
    let accept_loop = tokio::spawn(accept(listener, emulator.clone()));
    Ok(RunningEmulator {
        addr,
        emulator,
        accept_loop,
        traffic,
    })
}

async fn accept(listener: TcpListener, emulator: Arc<Emulator>) {
    loop {
        let Ok((stream, _peer)) = listener.accept().await else {
            // Out of file descriptors and the like: back off briefly.
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            continue;
        };
        let _ = stream.set_nodelay(true);
        let emulator = emulator.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| {
                let emulator = emulator.clone();
                async move { dispatch(&emulator, req).await }
            });
            // Errors here are client hang-ups and injected drops: nothing to do.
            let _ = http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn dispatch(emulator: &Arc<Emulator>, req: Request<Incoming>) -> Result<Resp, EmulatorError> {
    let path = req.uri().path();
    if path.starts_with("/v4/") || path == "/v4" {
        v4::handle(emulator, req).await
    } else if path.starts_with("/_emulator/") || path == "/_emulator" {
        Ok(control::handle(emulator, req).await)
    } else {
        Ok(json(
            StatusCode::NOT_FOUND,
            br#"{"error":"no such route; see /v4/{service}/{command} and /_emulator/"}"#.to_vec(),
        ))
    }
}
