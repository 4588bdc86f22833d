//! RFC 4180 CSV for the export: quoted where it must be, and never a cell
//! a spreadsheet would run as a formula (OWASP's CSV injection advice).
//! SQLite writes the lines (`super::view::CALL_CSV`); this is their header.

pub const HEADER: &str = "callId,state,startedAt,acceptedAt,endedAt,talkMs,caller,members,\
mediaType,callType,result,roomId,groupId,startSource,endSource,recordSource\r\n";

#[cfg(test)]
mod tests {
    use super::*;

    /// The guard, the quoting and the times are SQL's now: the cases that
    /// tested them here run on a real local D1 in
    /// tests/integration/call-ledger.test.mjs ('calls render as …').
    #[test]
    fn the_header_and_a_row_have_the_same_columns() {
        assert_eq!(HEADER.matches(',').count(), 15);
        assert!(HEADER.ends_with("\r\n"));
    }
}
