//! The history routes' query parameters, checked: every one known, every
//! value in range, the window clamped to the retention and to now, and the
//! page cursor tied to the filters it was made with.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use callkit_core::user_id::is_valid_user_id;
use sha2::{Digest, Sha256};

/// The year 9999: a larger time is a typo, not a query.
pub const MAX_MS: u64 = 253_402_300_799_999;
pub const MAX_LIMIT: u32 = 100;
pub const DEFAULT_LIMIT: u32 = 20;
pub const MAX_BUCKETS: u64 = 1_000;
const HOUR_MS: u64 = 3_600_000;
const DAY_MS: u64 = 24 * HOUR_MS;
const STATS_DEFAULT_MS: u64 = 30 * DAY_MS;

/// Why a query is refused: a stable code and a sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub code: &'static str,
    pub detail: String,
}

fn invalid(detail: impl Into<String>) -> Refused {
    Refused {
        code: "invalid_query",
        detail: detail.into(),
    }
}

fn bad_cursor() -> Refused {
    Refused {
        code: "invalid_cursor",
        detail: "The cursor is malformed or was made for other filters: start again without it."
            .into(),
    }
}

/// Who asks: a member's queries are about their own calls.
pub struct Asker<'a> {
    pub user_id: &'a str,
    pub is_admin: bool,
}

/// `[from, to)` in ms, after clamping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub from: u64,
    pub to: u64,
}

impl Window {
    pub fn is_empty(&self) -> bool {
        self.from >= self.to
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub started_at: u64,
    pub call_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListQuery {
    pub window: Window,
    /// Whose calls: `None` is every call (admins only).
    pub user: Option<String>,
    pub result: Option<String>,
    pub media_type: Option<String>,
    pub call_type: Option<String>,
    pub limit: u32,
    pub cursor: Option<Cursor>,
    /// Ties a cursor to these filters.
    pub fingerprint: String,
}

fn time(key: &str, value: &str) -> Result<u64, Refused> {
    value
        .parse::<u64>()
        .ok()
        .filter(|v| *v <= MAX_MS)
        .ok_or_else(|| invalid(format!("`{key}` must be Unix milliseconds, 0 to {MAX_MS}.")))
}

/// `value` if it is one of `allowed`, spelled as the API spells it.
fn one_of(key: &str, value: &str, allowed: &[&str]) -> Result<String, Refused> {
    allowed
        .contains(&value)
        .then(|| value.to_owned())
        .ok_or_else(|| invalid(format!("`{key}` must be one of {}.", allowed.join(", "))))
}

pub const RESULTS: [&str; 7] = [
    "Cancel",
    "Reject",
    "NotAnswer",
    "NormalEnd",
    "CallBusy",
    "Interrupt",
    "Offline",
];

/// Clamps `[from, to)` to the retention and to now.
fn window(from: Option<u64>, to: Option<u64>, default_from: u64, oldest: u64, now: u64) -> Window {
    Window {
        from: from.unwrap_or(default_from).max(oldest),
        to: to.unwrap_or(now).min(now),
    }
}

fn user_id(value: &str) -> Result<String, Refused> {
    is_valid_user_id(value)
        .then(|| value.to_owned())
        .ok_or_else(|| invalid("`user` must be a valid TUICallKit UserID."))
}

/// `GET /api/v1/history`. `Err` with `history_user_forbidden` when a member
/// asks for someone else.
pub fn list(
    pairs: &[(String, String)],
    asker: &Asker<'_>,
    oldest: u64,
    now: u64,
) -> Result<ListQuery, Refused> {
    let (mut from, mut to, mut user, mut cursor) = (None, None, None, None);
    let (mut result, mut media_type, mut call_type, mut limit) = (None, None, None, DEFAULT_LIMIT);
    for (key, value) in pairs {
        match key.as_str() {
            "from" => from = Some(time(key, value)?),
            "to" => to = Some(time(key, value)?),
            "user" => user = Some(user_id(value)?),
            "result" => result = Some(one_of(key, value, &RESULTS)?),
            "mediaType" => media_type = Some(one_of(key, value, &["Audio", "Video"])?),
            "callType" => call_type = Some(one_of(key, value, &["SingleCall", "MultiCall"])?),
            "limit" => {
                limit = value
                    .parse()
                    .ok()
                    .filter(|n| (1..=MAX_LIMIT).contains(n))
                    .ok_or_else(|| invalid(format!("`limit` must be 1 to {MAX_LIMIT}.")))?
            }
            "cursor" => cursor = Some(value.clone()),
            other => return Err(invalid(format!("Unknown query parameter `{other}`."))),
        }
    }
    let user = match (user, asker.is_admin) {
        (Some(u), false) if u != asker.user_id => {
            return Err(Refused {
                code: "history_user_forbidden",
                detail: "Members may only read their own call history.".into(),
            })
        }
        (None, false) => Some(asker.user_id.to_owned()),
        (user, _) => user,
    };
    let fingerprint = fingerprint(&[
        &from.map(|v| v.to_string()).unwrap_or_default(),
        &to.map(|v| v.to_string()).unwrap_or_default(),
        user.as_deref().unwrap_or_default(),
        result.as_deref().unwrap_or_default(),
        media_type.as_deref().unwrap_or_default(),
        call_type.as_deref().unwrap_or_default(),
    ]);
    let cursor = cursor
        .map(|c| decode_cursor(&c, &fingerprint))
        .transpose()?;
    Ok(ListQuery {
        window: window(from, to, oldest, oldest, now),
        user,
        result,
        media_type,
        call_type,
        limit,
        cursor,
        fingerprint,
    })
}

/// A short digest of a query's filters, which ties a cursor to them.
pub fn fingerprint(parts: &[&str]) -> String {
    let digest = Sha256::digest(parts.join("\u{1f}").as_bytes());
    digest[..6].iter().map(|b| format!("{b:02x}")).collect()
}

pub fn encode_cursor(cursor: &Cursor, fingerprint: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!(
        "{}:{fingerprint}:{}",
        cursor.started_at, cursor.call_id
    ))
}

fn decode_cursor(raw: &str, fingerprint: &str) -> Result<Cursor, Refused> {
    let bytes = URL_SAFE_NO_PAD.decode(raw).map_err(|_| bad_cursor())?;
    let text = String::from_utf8(bytes).map_err(|_| bad_cursor())?;
    let mut parts = text.splitn(3, ':');
    let (Some(at), Some(print), Some(call_id)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(bad_cursor());
    };
    let started_at = at.parse::<u64>().map_err(|_| bad_cursor())?;
    if print != fingerprint || call_id.is_empty() || started_at > MAX_MS {
        return Err(bad_cursor());
    }
    Ok(Cursor {
        started_at,
        call_id: call_id.to_owned(),
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bucket {
    Hour,
    Day,
}

impl Bucket {
    pub fn as_str(self) -> &'static str {
        match self {
            Bucket::Hour => "hour",
            Bucket::Day => "day",
        }
    }

    pub fn width_ms(self) -> u64 {
        match self {
            Bucket::Hour => HOUR_MS,
            Bucket::Day => DAY_MS,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatsQuery {
    pub window: Window,
    pub bucket: Bucket,
    /// The offset east of UTC, in ms, and how it was written back.
    pub offset_ms: i64,
    pub tz: String,
}

/// `GET /api/v1/history/stats`.
pub fn stats(pairs: &[(String, String)], oldest: u64, now: u64) -> Result<StatsQuery, Refused> {
    let (mut from, mut to, mut bucket, mut tz) =
        (None, None, Bucket::Day, (0, "+00:00".to_owned()));
    for (key, value) in pairs {
        match key.as_str() {
            "from" => from = Some(time(key, value)?),
            "to" => to = Some(time(key, value)?),
            "bucket" => {
                bucket = match value.as_str() {
                    "hour" => Bucket::Hour,
                    "day" => Bucket::Day,
                    _ => return Err(invalid("`bucket` must be hour or day.")),
                }
            }
            "tz" => tz = offset(value)?,
            other => return Err(invalid(format!("Unknown query parameter `{other}`."))),
        }
    }
    let window = window(from, to, now.saturating_sub(STATS_DEFAULT_MS), oldest, now);
    let span = window.to.saturating_sub(window.from);
    if span.div_ceil(bucket.width_ms()) > MAX_BUCKETS {
        return Err(invalid(format!(
            "At most {MAX_BUCKETS} buckets per request: narrow the range or use bucket=day."
        )));
    }
    Ok(StatsQuery {
        window,
        bucket,
        offset_ms: tz.0,
        tz: tz.1,
    })
}

/// `+HH:MM`, `-HH:MM` or `Z`: the only zones SQL can bucket by without a
/// zone database.
fn offset(value: &str) -> Result<(i64, String), Refused> {
    let refused = || invalid("`tz` must be a UTC offset such as +08:00, -05:00 or Z.");
    if value == "Z" {
        return Ok((0, "+00:00".to_owned()));
    }
    let bytes = value.as_bytes();
    if bytes.len() != 6 || bytes[3] != b':' || !matches!(bytes[0], b'+' | b'-') {
        return Err(refused());
    }
    let hours: i64 = value[1..3].parse().map_err(|_| refused())?;
    let minutes: i64 = value[4..6].parse().map_err(|_| refused())?;
    if hours > 14
        || minutes > 59
        || !value[1..3]
            .bytes()
            .chain(value[4..6].bytes())
            .all(|b| b.is_ascii_digit())
    {
        return Err(refused());
    }
    let sign = if bytes[0] == b'-' { -1 } else { 1 };
    Ok((
        sign * (hours * HOUR_MS as i64 + minutes * 60_000),
        value.to_owned(),
    ))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Ndjson,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExportQuery {
    pub window: Window,
    pub format: Format,
}

/// `GET /api/v1/history/export`.
pub fn export(pairs: &[(String, String)], oldest: u64, now: u64) -> Result<ExportQuery, Refused> {
    let (mut from, mut to, mut format) = (None, None, Format::Csv);
    for (key, value) in pairs {
        match key.as_str() {
            "from" => from = Some(time(key, value)?),
            "to" => to = Some(time(key, value)?),
            "format" => {
                format = match value.as_str() {
                    "csv" => Format::Csv,
                    "ndjson" => Format::Ndjson,
                    _ => return Err(invalid("`format` must be csv or ndjson.")),
                }
            }
            other => return Err(invalid(format!("Unknown query parameter `{other}`."))),
        }
    }
    Ok(ExportQuery {
        window: window(from, to, oldest, oldest, now),
        format,
    })
}

#[cfg(test)]
#[path = "filter_tests.rs"]
mod tests;
