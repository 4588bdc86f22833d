//! How the consumer and the API reach the delivery log.

use js_sys::Uint8Array;
use serde::de::DeserializeOwned;
use serde::Serialize;
use worker::{Env, Request, Stub};

use super::{Attempt, Begun, Filter, BINDING};
use crate::relay::job::Job;

pub(super) mod paths {
    pub const BEGIN: &str = "/begin";
    pub const FINISH: &str = "/finish";
    pub const BURY: &str = "/bury";
    pub const PAGE: &str = "/page";
    pub const REDELIVER: &str = "/redeliver";
    pub const EXISTS: &str = "/exists";
}
const ORIGIN: &str = "https://relay-log";

#[derive(Debug)]
pub enum LogError {
    /// The `RELAY_LOG` binding is not configured.
    Missing,
    /// No delivery with this id.
    NotFound,
    /// The object failed; the detail is for the log.
    Failed(String),
}

impl From<worker::Error> for LogError {
    fn from(e: worker::Error) -> Self {
        LogError::Failed(e.to_string())
    }
}

impl From<serde_json::Error> for LogError {
    fn from(e: serde_json::Error) -> Self {
        LogError::Failed(e.to_string())
    }
}

pub struct LogStub {
    stub: Stub,
}

impl LogStub {
    pub fn for_app(env: &Env, sdkappid: u64) -> Result<Self, LogError> {
        let namespace = env.durable_object(BINDING).map_err(|_| LogError::Missing)?;
        Ok(Self {
            stub: namespace.get_by_name(&sdkappid.to_string())?,
        })
    }

    pub async fn begin(&self, jobs: &[&Job]) -> Result<Vec<Begun>, LogError> {
        self.call(paths::BEGIN, &jobs).await
    }

    pub async fn finish(&self, attempts: &[Attempt]) -> Result<(), LogError> {
        self.send(paths::FINISH, &attempts).await.map(drop)
    }

    pub async fn bury(&self, ids: &[String]) -> Result<(), LogError> {
        self.send(paths::BURY, &ids).await.map(drop)
    }

    /// The page as the JSON the API answers.
    pub async fn page(&self, filter: &Filter) -> Result<String, LogError> {
        let mut response = self.send(paths::PAGE, filter).await?;
        Ok(response.text().await?)
    }

    pub async fn exists(&self, id: &str) -> Result<bool, LogError> {
        self.call(paths::EXISTS, &id).await
    }

    pub async fn redeliver(&self, id: &str) -> Result<Job, LogError> {
        self.call(paths::REDELIVER, &id).await
    }

    async fn call<T: Serialize + ?Sized, R: DeserializeOwned>(
        &self,
        path: &str,
        body: &T,
    ) -> Result<R, LogError> {
        let mut response = self.send(path, body).await?;
        Ok(serde_json::from_slice(&response.bytes().await?)?)
    }

    async fn send<T: Serialize + ?Sized>(
        &self,
        path: &str,
        body: &T,
    ) -> Result<worker::Response, LogError> {
        let json = serde_json::to_vec(body)?;
        // web_sys's init, as the board's stub does: `worker`'s costs wasm.
        let init = web_sys::RequestInit::new();
        init.set_method("POST");
        init.set_body(&Uint8Array::from(json.as_slice()));
        let request = web_sys::Request::new_with_str_and_init(&format!("{ORIGIN}{path}"), &init)
            .map_err(|_| LogError::Failed(format!("could not build the request to {path}")))?;
        let response = self.stub.fetch_with_request(Request::from(request)).await?;
        match response.status_code() {
            200..=299 => Ok(response),
            404 if path == paths::REDELIVER => Err(LogError::NotFound),
            status => Err(LogError::Failed(format!(
                "relay log answered {status} on {path}"
            ))),
        }
    }
}
