//! RFC 4180 CSV for the export: quoted where it must be, and never a cell
//! a spreadsheet would run as a formula (OWASP's CSV injection advice).
//! SQLite writes the lines (`super::view::CALL_CSV`); this is their header.

pub const HEADER: &str = "callId,state,startedAt,acceptedAt,endedAt,talkMs,caller,members,\
mediaType,callType,result,roomId,groupId,startSource,endSource,recordSource\r\n";

#[cfg(test)]
mod tests {
    use super::*;

    /// The guard, the quoting, the times and the line's sixteen cells are
    /// SQL's now (`view::CALL_CSV`): they are tested on a real local D1 in
    /// tests/integration/call-ledger.test.mjs ('calls render as …').
    #[test]
    fn the_header_names_sixteen_columns_and_ends_the_line() {
        assert_eq!(HEADER.matches(',').count(), 15);
        assert!(HEADER.ends_with("\r\n"));
    }
}
