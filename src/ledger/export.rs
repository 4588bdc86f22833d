//! `GET /api/v1/history/export`: every call of a window as CSV or NDJSON,
//! streamed. Each chunk is one keyset page read when the client pulls for
//! more, so the worker holds one page at a time whatever the row count.

use futures_util::stream::{self, Stream};
use futures_util::StreamExt;

use super::csv;
use super::db::{Ledger, LedgerError, Result};
use super::filter::{Cursor, ExportQuery, Format, ListQuery};
use super::read::{after, cursor_of};
use super::view::HistoryCall;

/// Rows per D1 read.
pub const PAGE_ROWS: u32 = 500;

struct Reader {
    ledger: Ledger,
    query: ListQuery,
    format: Format,
    cursor: Option<Cursor>,
    done: bool,
}

pub fn content_type(format: Format) -> &'static str {
    match format {
        Format::Csv => "text/csv; charset=utf-8",
        Format::Ndjson => "application/x-ndjson",
    }
}

pub fn file_name(format: Format) -> &'static str {
    match format {
        Format::Csv => "call-history.csv",
        Format::Ndjson => "call-history.ndjson",
    }
}

fn render(calls: &[HistoryCall], format: Format) -> Vec<u8> {
    let mut out = String::new();
    for call in calls {
        match format {
            Format::Csv => out.push_str(&csv::row(call)),
            Format::Ndjson => {
                out.push_str(&serde_json::to_string(call).unwrap_or_default());
                out.push('\n');
            }
        }
    }
    out.into_bytes()
}

impl Reader {
    async fn next_chunk(&mut self) -> Result<Option<Vec<u8>>> {
        if self.done {
            return Ok(None);
        }
        let calls = after(&self.ledger, &self.query, self.cursor.as_ref(), PAGE_ROWS).await?;
        self.done = calls.len() < PAGE_ROWS as usize;
        self.cursor = calls.last().map(cursor_of);
        Ok(Some(render(&calls, self.format)))
    }
}

/// The first chunk is read before answering, so a D1 that is down gets a
/// 503 rather than a 200 cut short.
pub async fn stream(
    ledger: Ledger,
    q: ExportQuery,
) -> Result<impl Stream<Item = std::result::Result<Vec<u8>, worker::Error>> + 'static> {
    let query = ListQuery {
        window: q.window,
        user: None,
        result: None,
        media_type: None,
        call_type: None,
        limit: PAGE_ROWS,
        cursor: None,
        fingerprint: String::new(),
    };
    let mut reader = Reader {
        ledger,
        query,
        format: q.format,
        cursor: None,
        done: false,
    };
    let mut first = match q.format {
        Format::Csv => csv::HEADER.as_bytes().to_vec(),
        Format::Ndjson => Vec::new(),
    };
    first.extend(reader.next_chunk().await?.unwrap_or_default());
    let rest = stream::unfold(reader, |mut reader| async move {
        match reader.next_chunk().await {
            Ok(Some(chunk)) => Some((Ok(chunk), reader)),
            Ok(None) => None,
            Err(e) => {
                reader.done = true;
                Some((Err(worker::Error::RustError(failed(&e))), reader))
            }
        }
    });
    Ok(stream::once(async move { Ok(first) }).chain(rest))
}

fn failed(e: &LedgerError) -> String {
    format!("export stopped: {e}")
}
