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

/// The call as one CRLF-terminated CSV line in `super::csv::HEADER`'s
/// order, then its keyset. Each cell (NULL: empty) gets a `'` first when it
/// starts with `=`, `+`, `-`, `@`, tab or CR, so a spreadsheet reads it as
/// text (OWASP's CSV injection advice), then quotes when it holds a comma,
/// a quote or a line end (RFC 4180). The state, times, talk time and end
/// source never start with those nor hold them, so guarding every cell
/// alike changes none of them.
pub const CALL_CSV: &str = concat!(
    "(SELECT group_concat(CASE WHEN instr(g, ',') + instr(g, '\"') + instr(g, char(13)) \
     + instr(g, char(10)) > 0 THEN '\"' || replace(g, '\"', '\"\"') || '\"' ELSE g END, \
     ',' ORDER BY k) || char(13, 10) FROM (SELECT key AS k, CASE WHEN substr(value, 1, 1) \
     IN ('=', '+', '-', '@', char(9), char(13)) THEN '''' || value ELSE coalesce(value, '') \
     END AS g FROM json_each(json_array(c.call_id, ",
    state!(),
    ", ",
    iso8601!("c.started_at"),
    ", ",
    iso8601!("c.accepted_at"),
    ", ",
    iso8601!("c.ended_at"),
    ", ",
    talk!(),
    ", c.caller, ",
    members!("group_concat", ", ';'"),
    ", c.media_type, c.call_type, c.result, c.room_id, c.group_id, c.start_src, ",
    end_source!(),
    ", c.record_src)))), c.started_at, c.call_id"
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
