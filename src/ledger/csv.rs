//! RFC 4180 CSV for the export: quoted where it must be, and never a cell
//! a spreadsheet would run as a formula (OWASP's CSV injection advice).

use super::view::HistoryCall;

pub const HEADER: &str = "callId,state,startedAt,acceptedAt,endedAt,talkMs,caller,members,\
mediaType,callType,result,roomId,groupId,startSource,endSource,recordSource\r\n";

/// One cell: a leading `=`, `+`, `-`, `@`, tab or CR gets a `'` first, so
/// it reads as text; then quotes if it holds a separator, a quote or a line end.
pub fn cell(value: &str) -> String {
    let guarded = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if guarded.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", guarded.replace('"', "\"\""))
    } else {
        guarded
    }
}

/// A call as one CRLF-terminated row, in `HEADER`'s order.
pub fn row(call: &HistoryCall) -> String {
    let time = |t: Option<u64>| t.map(iso8601).unwrap_or_default();
    let cells = [
        cell(&call.call_id),
        call.state.to_owned(),
        iso8601(call.started_at),
        time(call.accepted_at),
        time(call.ended_at),
        call.talk_ms.map(|t| t.to_string()).unwrap_or_default(),
        cell(call.caller.as_deref().unwrap_or_default()),
        cell(&call.members.join(";")),
        cell(call.media_type.as_deref().unwrap_or_default()),
        cell(call.call_type.as_deref().unwrap_or_default()),
        cell(call.result.as_deref().unwrap_or_default()),
        cell(&call.room_id),
        cell(&call.group_id),
        cell(&call.sources.start),
        call.sources.end.unwrap_or_default().to_owned(),
        cell(call.sources.record.as_deref().unwrap_or_default()),
    ];
    let mut line = cells.join(",");
    line.push_str("\r\n");
    line
}

/// Unix ms as `YYYY-MM-DDTHH:MM:SS.mmmZ` (the civil-from-days algorithm of
/// Howard Hinnant's date library).
pub fn iso8601(ms: u64) -> String {
    let secs = ms / 1000;
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3_600,
        rem % 3_600 / 60,
        rem % 60,
        ms % 1000
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_defused_and_rfc_4180_quoting_holds() {
        assert_eq!(cell("alice"), "alice");
        assert_eq!(cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(cell("+1"), "'+1");
        assert_eq!(cell("-2+3"), "'-2+3");
        assert_eq!(cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(cell("\tx"), "'\tx");
        assert_eq!(cell("a,b"), "\"a,b\"");
        assert_eq!(cell("line\nbreak"), "\"line\nbreak\"");
        assert_eq!(cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(cell("mid=dle"), "mid=dle");
    }

    #[test]
    fn times_are_iso_8601_utc() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso8601(1_740_464_128_807), "2025-02-25T06:15:28.807Z");
        assert_eq!(iso8601(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(iso8601(253_402_300_799_999), "9999-12-31T23:59:59.999Z");
    }

    #[test]
    fn the_header_and_a_row_have_the_same_columns() {
        assert_eq!(HEADER.matches(',').count(), 15);
        assert!(HEADER.ends_with("\r\n"));
    }
}
