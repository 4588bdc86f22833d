//! A page of the live board (`GET /api/v1/live/calls`): what the edge asks
//! each shard, the one order shards and merge share, and the cursor that
//! continues a page. A board of 10,000 calls is megabytes: it is read a page
//! at a time, and a search by user or CallId reaches every call, not only
//! the newest a socket's snapshot holds.
//!
//! Between the edge and a shard, a page travels as tab-separated lines with
//! each call's stored JSON as it is: nothing is parsed or derived on the
//! way, which keeps the merge cheap and the wasm small.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use crate::board::Summary;

/// Calls a page holds unless `limit` says otherwise: what a socket's
/// snapshot holds too.
pub const DEFAULT_LIMIT: u32 = crate::board::SNAPSHOT_MAX;
pub const MAX_LIMIT: u32 = 1_000;

/// A call's place in the board's order, compared as a tuple: live first,
/// then the call the board heard of last, then the CallId (descending).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Key(pub u8, pub u64, pub String);

impl Key {
    fn to_fields(&self) -> String {
        format!("{}\t{}\t{}", self.0, self.1, self.2)
    }

    fn from_fields<'a>(fields: &mut impl Iterator<Item = &'a str>) -> Option<Self> {
        let live = fields.next()?.parse::<u8>().ok().filter(|l| *l <= 1)?;
        let heard_at = fields.next()?.parse().ok()?;
        let call_id = fields.next().filter(|id| !id.is_empty())?;
        Some(Key(live, heard_at, call_id.to_owned()))
    }
}

/// What the edge asks a shard for, after checking it: user and CallId
/// alphabets hold no tab.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageQuery {
    pub limit: u32,
    /// Only calls this user places or is a member of.
    pub user: Option<String>,
    pub call_id: Option<String>,
    /// Only calls after this one in the board's order.
    pub after: Option<Key>,
}

impl PageQuery {
    /// `limit`, `user`, `callId` and the key to continue after, tab-separated
    /// (empty when unset), in base64url: a header of the request to a shard
    /// (a header's value loses its outer spaces, which a UserID may have).
    pub fn to_header(&self) -> String {
        let after = self.after.as_ref().map(Key::to_fields).unwrap_or_default();
        let text = |v: &Option<String>| v.clone().unwrap_or_default();
        let fields = format!(
            "{}\t{}\t{}\t{after}",
            self.limit,
            text(&self.user),
            text(&self.call_id)
        );
        URL_SAFE_NO_PAD.encode(fields)
    }

    pub fn from_header(header: &str) -> Option<Self> {
        let fields = String::from_utf8(URL_SAFE_NO_PAD.decode(header).ok()?).ok()?;
        let mut fields = fields.split('\t');
        let limit = fields.next()?.parse().ok()?;
        let some = |v: &str| (!v.is_empty()).then(|| v.to_owned());
        let (user, call_id) = (some(fields.next()?), some(fields.next()?));
        let rest: Vec<&str> = fields.collect();
        let after = match rest.as_slice() {
            [""] => None,
            _ => Some(Key::from_fields(&mut rest.into_iter())?),
        };
        Some(Self {
            limit,
            user,
            call_id,
            after,
        })
    }
}

/// A shard's answer: the counts and its clock on the first line, then one
/// line per call, its key and its stored JSON (which never holds a raw
/// newline).
pub fn shard_text(rows: &[(String, Key)], summary: &Summary, now: u64) -> String {
    let s = summary;
    let mut text = format!(
        "{}\t{}\t{}\t{}\t{}\t{now}",
        s.total, s.live, s.ended, s.audio, s.video
    );
    for (body, key) in rows {
        text.push('\n');
        text.push_str(&key.to_fields());
        text.push('\t');
        text.push_str(body);
    }
    text
}

/// One shard's answer, read.
pub struct ShardPage<'a> {
    summary: Summary,
    now: u64,
    rows: Vec<(Key, &'a str)>,
}

pub fn read_shard(text: &str) -> Option<ShardPage<'_>> {
    let mut lines = text.split('\n');
    let head: Vec<u64> = lines
        .next()?
        .split('\t')
        .map(str::parse)
        .collect::<Result<_, _>>()
        .ok()?;
    let [total, live, ended, audio, video, now] = head[..] else {
        return None;
    };
    let rows = lines
        .map(|line| {
            let mut fields = line.splitn(4, '\t');
            let key = Key::from_fields(&mut fields)?;
            Some((key, fields.next()?))
        })
        .collect::<Option<_>>()?;
    let summary = Summary {
        total,
        live,
        ended,
        audio,
        video,
    };
    Some(ShardPage { summary, now, rows })
}

/// Merges the shards' pages into the API's answer (JSON): the first `limit`
/// calls of the board's order, counts over all of them, and a cursor when
/// any shard may hold more.
pub fn merge(pages: Vec<ShardPage<'_>>, query: &PageQuery, fingerprint: &str) -> String {
    let limit = query.limit as usize;
    let (mut now, mut summary, mut more) = (0, Summary::default(), false);
    let mut rows = Vec::new();
    for page in pages {
        now = now.max(page.now);
        summary.add(&page.summary);
        more |= page.rows.len() >= limit;
        rows.extend(page.rows);
    }
    rows.sort_by(|a, b| b.0.cmp(&a.0));
    more |= rows.len() > limit;
    rows.truncate(limit);
    let next = match rows.last() {
        // base64url: nothing to escape.
        Some((key, _)) if more => format!("\"{}\"", encode_cursor(key, fingerprint)),
        _ => "null".to_owned(),
    };
    let calls: Vec<&str> = rows.iter().map(|(_, call)| *call).collect();
    format!(
        r#"{{"calls":[{}],"now":{now},"summary":{},"nextCursor":{next}}}"#,
        calls.join(","),
        serde_json::to_string(&summary).unwrap_or_else(|_| "{}".into()),
    )
}

pub fn encode_cursor(key: &Key, fingerprint: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}:{}:{fingerprint}:{}", key.0, key.1, key.2))
}

/// The key a cursor continues after, if it is well formed and was made for
/// the filters `fingerprint` stands for.
pub fn decode_cursor(raw: &str, fingerprint: &str) -> Option<Key> {
    let text = String::from_utf8(URL_SAFE_NO_PAD.decode(raw).ok()?).ok()?;
    let mut parts = text.splitn(4, ':');
    let live = parts.next()?.parse::<u8>().ok().filter(|l| *l <= 1)?;
    let heard_at = parts.next()?.parse::<u64>().ok()?;
    let print = parts.next()?;
    // Printable ASCII: it travels in a header to the shard.
    let printable = |id: &&str| !id.is_empty() && id.bytes().all(|b| (b' '..=b'~').contains(&b));
    let call_id = parts.next().filter(printable)?;
    (print == fingerprint).then(|| Key(live, heard_at, call_id.to_owned()))
}

#[cfg(test)]
#[path = "page_tests.rs"]
mod tests;
