//! `RelayLog`: one Durable Object per SDKAppID holding the delivery log.
//! Each route takes and answers JSON; only `super::LogStub` calls them.

use worker::{console_error, durable_object, DurableObject, Env, Request, Response, Result, State};

use super::store::Store;
use super::stub::paths;
use super::{Attempt, Filter};
use crate::relay::job::Job;

#[durable_object]
pub struct RelayLog {
    store: Option<Store>,
}

impl DurableObject for RelayLog {
    fn new(state: State, _env: Env) -> Self {
        let store = Store::open(state.storage().sql())
            .map_err(|e| console_error!("relay log storage unavailable: {e}"))
            .ok();
        Self { store }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        let store = self
            .store
            .as_ref()
            .ok_or_else(|| worker::Error::RustError("relay log storage unavailable".into()))?;
        let now = js_sys::Date::now() as u64;
        let path = req.path();
        let body = req.bytes().await?;
        match path.as_str() {
            paths::BEGIN => {
                let jobs: Vec<Job> = serde_json::from_slice(&body)?;
                let begun = jobs
                    .iter()
                    .map(|job| store.begin(job, now))
                    .collect::<Result<Vec<_>>>()?;
                Response::from_json(&begun)
            }
            paths::FINISH => {
                let attempts: Vec<Attempt> = serde_json::from_slice(&body)?;
                for attempt in &attempts {
                    store.finish(attempt, now)?;
                }
                store.prune()?;
                Response::empty()
            }
            paths::BURY => {
                let ids: Vec<String> = serde_json::from_slice(&body)?;
                for id in &ids {
                    store.bury(id, now)?;
                }
                Response::empty()
            }
            paths::PAGE => {
                let filter: Filter = serde_json::from_slice(&body)?;
                Response::from_json(&store.page(&filter)?)
            }
            paths::EXISTS => {
                let id: String = serde_json::from_slice(&body)?;
                Response::from_json(&store.exists(&id)?)
            }
            paths::REDELIVER => {
                let id: String = serde_json::from_slice(&body)?;
                match store.redeliver(&id, now)? {
                    Some(job) => Response::from_json(&job),
                    None => Response::error("no such delivery", 404),
                }
            }
            _ => Response::error("no such relay log route", 404),
        }
    }
}
