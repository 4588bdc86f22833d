//! `GET /api/v1/history/export`: every call of a window as CSV or NDJSON,
//! streamed. Each chunk is one keyset page read when the client pulls for
//! more, so the worker holds one page at a time whatever the row count.

use js_sys::futures::{spawn_local, JsFuture};
use js_sys::Uint8Array;
use wasm_bindgen::JsValue;
use web_sys::{Headers, ResponseInit, TransformStream, WritableStreamDefaultWriter};
use worker::console_error;

use super::csv;
use super::db::{Ledger, LedgerError, Result, Row};
use super::filter::{Cursor, ExportQuery, Format, ListQuery};
use super::log::Line;
use super::read::{after, cursor_of, join};
use super::view::{CALL_CSV, CALL_JSON};

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

/// How SQLite renders each call for `format` (`super::view`).
fn columns(format: Format) -> &'static str {
    match format {
        Format::Csv => CALL_CSV,
        Format::Ndjson => CALL_JSON,
    }
}

/// The rendered calls as the body's next bytes: CSV lines end in CRLF
/// already; NDJSON puts a line end after each call.
fn render(rows: &[Row], format: Format) -> Vec<u8> {
    let mut out = match format {
        Format::Csv => join(rows, ""),
        Format::Ndjson => join(rows, "\n"),
    };
    if format == Format::Ndjson && !rows.is_empty() {
        out.push('\n');
    }
    out.into_bytes()
}

impl Reader {
    async fn next_chunk(&mut self) -> Result<Option<Vec<u8>>> {
        if self.done {
            return Ok(None);
        }
        let columns = columns(self.format);
        let rows = after(
            &self.ledger,
            &self.query,
            self.cursor.as_ref(),
            PAGE_ROWS,
            columns,
        )
        .await?;
        self.done = rows.len() < PAGE_ROWS as usize;
        self.cursor = rows.last().map(cursor_of);
        Ok(Some(render(&rows, self.format)))
    }
}

/// The export as a response whose body a task writes page by page: each
/// write waits until the client has read the last one, so one page at a
/// time is held. The first page is read before answering, so a D1 that is
/// down gets a 503 rather than a 200 cut short.
pub async fn respond(ledger: Ledger, q: ExportQuery) -> Result<web_sys::Response> {
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
    let pipe = TransformStream::new().map_err(js_failed)?;
    let writer = pipe.writable().get_writer().map_err(js_failed)?;
    spawn_local(write_all(reader, writer, first));
    let headers = Headers::new().map_err(js_failed)?;
    let disposition = format!("attachment; filename=\"{}\"", file_name(q.format));
    for (name, value) in [
        ("Content-Type", content_type(q.format)),
        ("Content-Disposition", &disposition),
    ] {
        headers.set(name, value).map_err(js_failed)?;
    }
    let init = ResponseInit::new();
    init.set_status(200);
    init.set_headers(&headers);
    web_sys::Response::new_with_opt_readable_stream_and_init(Some(&pipe.readable()), &init)
        .map_err(js_failed)
}

async fn write_all(mut reader: Reader, writer: WritableStreamDefaultWriter, first: Vec<u8>) {
    let mut chunk = Some(first);
    while let Some(bytes) = chunk {
        let written = JsFuture::from(writer.write_with_chunk(&Uint8Array::from(&bytes[..]))).await;
        chunk = match (written, reader.next_chunk().await) {
            (Ok(_), Ok(next)) => next,
            (Ok(_), Err(e)) => {
                // The client sees a cut-short body; the log says why.
                let line = Line {
                    detail: Some(e.to_string()),
                    ..Line::new("export stopped")
                };
                console_error!("{}", line.to_json());
                let _ = writer.abort();
                return;
            }
            // The client went away.
            (Err(_), _) => return,
        };
    }
    let _ = writer.close();
}

fn js_failed(_: JsValue) -> LedgerError {
    LedgerError::Failed("could not set up the export stream".into())
}
