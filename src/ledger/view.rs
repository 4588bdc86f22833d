//! A call as the history API shows it (`HistoryCall` in
//! docs/call-ledger.md), rendered by SQLite itself: as JSON with
//! `json_object`, and as an RFC 4180 CSV line for the export. The worker
//! only joins the texts it receives, so no row struct, serializer or
//! formatter of its own is in the bundle. The texts are built with
//! `concat!` at compile time: no code runs to make them.

/// The members, the caller first (when a member), then the others by name.
macro_rules! members {
    ($aggregate:literal, $separator:literal) => {
        concat!(
            "(SELECT ",
            $aggregate,
            "(m2.user_id",
            $separator,
            " ORDER BY m2.user_id IS NOT c.caller, m2.user_id) FROM members m2 \
             WHERE m2.call_id = c.call_id AND m2.user_id <> '')"
        )
    };
}

/// `talkMs`: `endedAt − acceptedAt` (never below 0) when both are known.
macro_rules! talk {
    () => {
        "CASE WHEN c.accepted_at IS NOT NULL AND c.ended_at IS NOT NULL \
         THEN max(c.ended_at - c.accepted_at, 0) END"
    };
}

/// `live`, or `ended` once any source said so (`super::update::end`).
macro_rules! state {
    () => {
        "CASE WHEN c.end_rank > 0 THEN 'ended' ELSE 'live' END"
    };
}

/// Who said the call ended, from `end_rank`: `super::update::end::source` in
/// SQL (a test checks they agree).
macro_rules! end_source {
    () => {
        "CASE c.end_rank WHEN 1 THEN 'reconcile' WHEN 2 THEN 'record' WHEN 3 THEN 'webhook' END"
    };
}

/// A time in ms as `YYYY-MM-DDTHH:MM:SS.mmmZ` (UTC); NULL stays NULL.
macro_rules! iso8601 {
    ($ms:literal) => {
        concat!(
            "strftime('%Y-%m-%dT%H:%M:%S', ",
            $ms,
            " / 1000, 'unixepoch') || printf('.%03dZ', ",
            $ms,
            " % 1000)"
        )
    };
}

/// The columns every call query selects: the call as JSON, in
/// `HistoryCall`'s field order, then its keyset (`started_at`, `call_id`).
pub const CALL_JSON: &str = concat!(
    "json_object('callId', c.call_id, 'state', ",
    state!(),
    ", 'caller', c.caller, 'members', json(",
    members!("json_group_array", ""),
    "), 'mediaType', c.media_type, 'callType', c.call_type, 'result', c.result, \
     'startedAt', c.started_at, 'acceptedAt', c.accepted_at, 'endedAt', c.ended_at, \
     'talkMs', ",
    talk!(),
    ", 'roomId', c.room_id, 'groupId', c.group_id, 'sources', json_object('start', \
     c.start_src, 'end', ",
    end_source!(),
    ", 'record', c.record_src)), c.started_at, c.call_id"
);

/// `$text` (never NULL) in double quotes, `"` doubled, when it holds a
/// comma, a quote or a line end (RFC 4180); as it is else.
macro_rules! quoted {
    ($text:expr) => {
        concat!(
            "CASE WHEN ",
            $text,
            " GLOB '*[,\"\r\n]*' THEN '\"' || replace(",
            $text,
            ", '\"', '\"\"') || '\"' ELSE ",
            $text,
            " END"
        )
    };
}

/// One CSV cell (NULL: empty): a `'` first when it starts with `=`, `+`,
/// `-`, `@`, tab or CR, so a spreadsheet reads it as text (OWASP's CSV
/// injection advice), then `quoted!`.
macro_rules! cell {
    ($value:expr) => {
        concat!(
            "CASE WHEN substr(",
            $value,
            ", 1, 1) IN ('=', '+', '-', '@', char(9), char(13)) THEN ",
            quoted!(concat!("('''' || ", $value, ")")),
            " ELSE ",
            quoted!(concat!("coalesce(", $value, ", '')")),
            " END"
        )
    };
}

/// The call as one CRLF-terminated CSV line in `super::csv::HEADER`'s
/// order, then its keyset. Only the cells of free text take `cell!`: the
/// others hold words the ledger writes itself (the state, Tencent's enum
/// words, the sources) or digits, which no cell rule changes. Written out
/// cell by cell, not one rule over a `json_each` of the row: three times
/// faster.
pub const CALL_CSV: &str = concat!(
    cell!("c.call_id"),
    " || ',' || ",
    state!(),
    " || ',' || coalesce(",
    iso8601!("c.started_at"),
    ", '') || ',' || coalesce(",
    iso8601!("c.accepted_at"),
    ", '') || ',' || coalesce(",
    iso8601!("c.ended_at"),
    ", '') || ',' || coalesce(",
    talk!(),
    ", '') || ',' || ",
    cell!("c.caller"),
    " || ',' || (SELECT ",
    cell!("g"),
    " FROM (SELECT ",
    members!("group_concat", ", ';'"),
    " AS g)) || ',' || ",
    "coalesce(c.media_type, '')",
    " || ',' || ",
    "coalesce(c.call_type, '')",
    " || ',' || ",
    "coalesce(c.result, '')",
    " || ',' || ",
    cell!("c.room_id"),
    " || ',' || ",
    cell!("c.group_id"),
    " || ',' || ",
    "coalesce(c.start_src, '')",
    " || ',' || coalesce(",
    end_source!(),
    ", '') || ',' || ",
    "coalesce(c.record_src, '')",
    " || char(13, 10), c.started_at, c.call_id"
);

/// What an erased caller is shown as.
pub const ERASED: &str = "[erased]";

#[cfg(test)]
mod tests {
    use super::super::update::end;
    use super::*;

    #[test]
    fn the_end_source_words_are_the_ranks_names() {
        for rank in 0..=4u8 {
            let when = format!("WHEN {rank} THEN ");
            match end::source(rank) {
                Some(name) => {
                    for sql in [CALL_JSON, CALL_CSV] {
                        assert!(sql.contains(&format!("{when}'{name}'")), "{rank}");
                    }
                }
                None => assert!(!CALL_JSON.contains(&when), "{rank}"),
            }
        }
        // `state`: ended once any source said so.
        assert!(CALL_JSON.contains(&format!("WHEN c.end_rank > {} THEN 'ended'", end::NONE)));
    }
}
