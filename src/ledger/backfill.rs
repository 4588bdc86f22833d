//! `POST /api/v1/history/backfill`: Tencent's last 7 days, imported page by
//! page with `get_record_by_filter` by the board's alarm. The progress lives
//! in the board object's storage, so an interrupted run resumes where it
//! stopped; records are queued like any update, so the webhook path and the
//! backfill merge into the same row.

use callkit_core::client::{Client, Runtime, Transport};
use callkit_core::models::{CallRecord, GetRecordByFilter};
use worker::SqlStorage;

use super::db::{text, Ledger, Result};
use super::outbox;
use super::update::{RecordSource, Update};

/// Records per page: the emulator's (and, it seems, Tencent's) largest.
pub const PER_PAGE: u32 = 100;
/// Pages per alarm: with an alarm every half second, 20 requests/s at most,
/// a tenth of Tencent's 200/s for the command.
const PAGES_PER_STEP: u32 = 10;
/// Tencent's record window.
pub const WINDOW_MS: u64 = 7 * 86_400_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Idle,
    Running,
    Done,
    Failed,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Idle => "idle",
            State::Running => "running",
            State::Done => "done",
            State::Failed => "failed",
        }
    }

    pub fn parse(word: &str) -> Self {
        [State::Running, State::Done, State::Failed]
            .into_iter()
            .find(|s| s.as_str() == word)
            .unwrap_or(State::Idle)
    }
}

/// The progress, as `GET /api/v1/history/backfill` answers it
/// (`outbox::backfill_json` writes it, field by field in this order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    pub state: State,
    pub from: Option<u64>,
    pub to: Option<u64>,
    pub pages: u32,
    pub records: u64,
    pub added: u64,
    pub merged: u64,
    pub started_at: Option<u64>,
    pub updated_at: Option<u64>,
    pub finished_at: Option<u64>,
    pub error: Option<String>,
}

impl Progress {
    pub fn idle() -> Self {
        Self {
            state: State::Idle,
            from: None,
            to: None,
            pages: 0,
            records: 0,
            added: 0,
            merged: 0,
            started_at: None,
            updated_at: None,
            finished_at: None,
            error: None,
        }
    }

    fn running(from: u64, to: u64, now_ms: u64) -> Self {
        Self {
            state: State::Running,
            from: Some(from),
            to: Some(to),
            started_at: Some(now_ms),
            updated_at: Some(now_ms),
            ..Self::idle()
        }
    }
}

pub fn load(sql: &SqlStorage) -> Result<Progress> {
    Ok(outbox::backfill(sql)?.unwrap_or_else(Progress::idle))
}

fn save(sql: &SqlStorage, progress: &Progress) -> Result<()> {
    Ok(outbox::save_backfill(sql, progress)?)
}

/// Starts a run over `[from, to]` unless one is under way; its progress.
pub fn start(sql: &SqlStorage, from: u64, to: u64, now_ms: u64) -> Result<Progress> {
    let current = load(sql)?;
    if current.state == State::Running {
        return Ok(current);
    }
    let progress = Progress::running(from, to, now_ms);
    save(sql, &progress)?;
    Ok(progress)
}

/// Imports the next pages of a running backfill.
pub async fn step<T: Transport, R: Runtime>(
    ledger: &Ledger,
    sql: &SqlStorage,
    client: &Client<T, R>,
    now_ms: u64,
) -> Result<()> {
    let mut progress = load(sql)?;
    for _ in 0..PAGES_PER_STEP {
        if progress.state != State::Running {
            break;
        }
        page(ledger, sql, client, &mut progress, now_ms).await?;
        progress.updated_at = Some(now_ms);
        save(sql, &progress)?;
    }
    Ok(())
}

/// One page: its records queued, the counts and the state moved on.
async fn page<T: Transport, R: Runtime>(
    ledger: &Ledger,
    sql: &SqlStorage,
    client: &Client<T, R>,
    progress: &mut Progress,
    now_ms: u64,
) -> Result<()> {
    let request = GetRecordByFilter {
        start_time: progress.from.map(|ms| ms / 1000),
        end_time: progress.to.map(|ms| ms / 1000),
        call_result: None,
        call_type: None,
        number_per_page: Some(PER_PAGE),
        page: Some(progress.pages + 1),
    };
    let list = match client.records().by_filter(&request).await {
        Ok(reply) => reply.data.call_record_list,
        Err(e) if e.api_code() == Some(101_050) => Vec::new(),
        Err(e) => {
            progress.state = State::Failed;
            progress.error = Some(
                if e.api_code().is_some() {
                    "upstream_error"
                } else {
                    "upstream_unreachable"
                }
                .to_owned(),
            );
            progress.finished_at = Some(now_ms);
            return Ok(());
        }
    };
    let known = known(ledger, &list).await?;
    for record in &list {
        outbox::push(
            sql,
            &Update::from_record(record, RecordSource::Backfill),
            now_ms,
        )?;
    }
    progress.pages += 1;
    progress.records += list.len() as u64;
    progress.merged += known;
    progress.added += list.len() as u64 - known;
    if list.len() < PER_PAGE as usize {
        progress.state = State::Done;
        progress.finished_at = Some(now_ms);
    }
    Ok(())
}

pub const KNOWN: &str =
    "SELECT count(*) FROM calls WHERE call_id IN (SELECT value FROM json_each(?1))";

/// How many of these records' calls the ledger has already.
async fn known(ledger: &Ledger, list: &[CallRecord]) -> Result<u64> {
    if list.is_empty() {
        return Ok(0);
    }
    let ids: Vec<&str> = list.iter().map(|r| r.call_id.as_str()).collect();
    let ids = serde_json::to_string(&ids).unwrap_or_default();
    let rows = ledger.rows(KNOWN, &[text(&ids)]).await?;
    Ok(rows.first().and_then(|r| r.int(0)).unwrap_or(0))
}
