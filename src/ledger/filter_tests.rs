use super::*;
use crate::api::pairs_of as q;

const NOW: u64 = 1_800_000_000_000;
const OLDEST: u64 = NOW - 400 * DAY_MS;

const ADMIN: Asker<'static> = Asker {
    user_id: "root",
    is_admin: true,
};
const ALICE: Asker<'static> = Asker {
    user_id: "alice",
    is_admin: false,
};

fn code(r: Result<ListQuery, Refused>) -> &'static str {
    r.unwrap_err().code
}

#[test]
fn defaults_clamps_and_a_members_own_calls() {
    let admin = list(&[], &ADMIN, OLDEST, NOW).unwrap();
    assert_eq!(
        admin.window,
        Window {
            from: OLDEST,
            to: NOW
        }
    );
    assert_eq!((admin.user, admin.limit), (None, DEFAULT_LIMIT));
    let member = list(&[], &ALICE, OLDEST, NOW).unwrap();
    assert_eq!(member.user.as_deref(), Some("alice"));
    let wide = list(
        &q(&[("from", "0"), ("to", "253402300799999")]),
        &ADMIN,
        OLDEST,
        NOW,
    );
    assert_eq!(
        wide.unwrap().window,
        Window {
            from: OLDEST,
            to: NOW
        }
    );
    let old = NOW - 300 * DAY_MS;
    let beyond_7_days = list(&q(&[("from", &old.to_string())]), &ADMIN, OLDEST, NOW).unwrap();
    assert_eq!(beyond_7_days.window.from, old, "no 7-day cap");
    let f = list(
        &q(&[
            ("result", "NormalEnd"),
            ("mediaType", "Video"),
            ("callType", "MultiCall"),
            ("limit", "100"),
        ]),
        &ADMIN,
        OLDEST,
        NOW,
    )
    .unwrap();
    assert_eq!(f.result.as_deref(), Some("NormalEnd"));
    assert_eq!(f.media_type.as_deref(), Some("Video"));
    assert_eq!(f.call_type.as_deref(), Some("MultiCall"));
    assert_eq!(f.limit, 100);
}

#[test]
fn every_bad_parameter_is_a_400_and_others_users_a_403() {
    for bad in [
        ("from", "-1"),
        ("from", "1.5"),
        ("to", "253402300800000"),
        ("limit", "0"),
        ("limit", "101"),
        ("result", "Won"),
        ("mediaType", "Hologram"),
        ("callType", "Single"),
        ("mediaType", "video"),
        ("user", ""),
        ("user", &"x".repeat(33)),
        ("page", "2"),
    ] {
        assert_eq!(
            code(list(&q(&[bad]), &ADMIN, OLDEST, NOW)),
            "invalid_query",
            "{bad:?}"
        );
    }
    assert_eq!(
        code(list(&q(&[("user", "bob")]), &ALICE, OLDEST, NOW)),
        "history_user_forbidden"
    );
    assert!(list(&q(&[("user", "alice")]), &ALICE, OLDEST, NOW).is_ok());
    assert!(list(&q(&[("user", "bob")]), &ADMIN, OLDEST, NOW).is_ok());
}

#[test]
fn a_cursor_is_tied_to_its_filters() {
    let first = list(&q(&[("result", "Reject")]), &ADMIN, OLDEST, NOW).unwrap();
    let cursor = Cursor {
        started_at: NOW - 5,
        call_id: "c:1".into(),
    };
    let token = encode_cursor(&cursor, &first.fingerprint);
    let next = list(
        &q(&[("result", "Reject"), ("cursor", &token)]),
        &ADMIN,
        OLDEST,
        NOW + 9,
    );
    assert_eq!(next.unwrap().cursor, Some(cursor));
    for other in [
        q(&[("result", "Cancel"), ("cursor", &token)]),
        q(&[("cursor", &token)]),
        q(&[("result", "Reject"), ("user", "bob"), ("cursor", &token)]),
    ] {
        assert_eq!(
            code(list(&other, &ADMIN, OLDEST, NOW)),
            "invalid_cursor",
            "{other:?}"
        );
    }
    assert_eq!(
        code(list(
            &q(&[("result", "Reject"), ("cursor", &token)]),
            &ALICE,
            OLDEST,
            NOW
        )),
        "invalid_cursor",
        "a member's cursor differs from the admin's"
    );
    for junk in ["", "!!", "bm9wZQ", "MTI6YWJjOg"] {
        assert_eq!(
            code(list(&q(&[("cursor", junk)]), &ADMIN, OLDEST, NOW)),
            "invalid_cursor",
            "{junk}"
        );
    }
}

#[test]
fn stats_buckets_offsets_and_their_limit() {
    let s = stats(&[], OLDEST, NOW).unwrap();
    assert_eq!(
        s.window,
        Window {
            from: NOW - 30 * DAY_MS,
            to: NOW
        }
    );
    assert_eq!(
        (s.bucket, s.offset_ms, s.tz.as_str()),
        (Bucket::Day, 0, "+00:00")
    );
    let s = stats(
        &q(&[
            ("bucket", "hour"),
            ("tz", "+08:00"),
            ("from", &(NOW - DAY_MS).to_string()),
        ]),
        OLDEST,
        NOW,
    )
    .unwrap();
    assert_eq!((s.bucket, s.offset_ms), (Bucket::Hour, 8 * 3_600_000));
    assert_eq!(
        stats(&q(&[("tz", "-05:30")]), OLDEST, NOW)
            .unwrap()
            .offset_ms,
        -(5 * 3_600_000 + 1_800_000)
    );
    assert_eq!(stats(&q(&[("tz", "Z")]), OLDEST, NOW).unwrap().offset_ms, 0);
    for bad in [
        ("tz", "Europe/Paris"),
        ("tz", "+8"),
        ("tz", "+15:00"),
        ("tz", "+08:60"),
        ("bucket", "week"),
        ("x", "1"),
    ] {
        assert_eq!(
            stats(&q(&[bad]), OLDEST, NOW).unwrap_err().code,
            "invalid_query",
            "{bad:?}"
        );
    }
    let too_many = stats(
        &q(&[
            ("bucket", "hour"),
            ("from", &(NOW - 60 * DAY_MS).to_string()),
        ]),
        OLDEST,
        NOW,
    );
    assert_eq!(too_many.unwrap_err().code, "invalid_query");
}

#[test]
fn the_result_words_are_the_records() {
    for word in RESULTS {
        let parsed: callkit_core::models::CallResult =
            serde_json::from_value(serde_json::Value::String(word.into())).unwrap();
        assert_eq!(crate::ledger::update::word(&parsed).as_deref(), Some(word));
    }
}

#[test]
fn export_formats() {
    assert_eq!(export(&[], OLDEST, NOW).unwrap().format, Format::Csv);
    assert_eq!(
        export(&q(&[("format", "ndjson")]), OLDEST, NOW)
            .unwrap()
            .format,
        Format::Ndjson
    );
    assert_eq!(
        export(&q(&[("format", "xlsx")]), OLDEST, NOW)
            .unwrap_err()
            .code,
        "invalid_query"
    );
}
