//! Every SQL text the ledger runs, with sample parameters, kept in
//! tests/integration/ledger-queries.json: the integration suite reads each
//! one's `EXPLAIN QUERY PLAN` from a real local D1 and refuses full scans.
//! This test fails when the file is stale; `UPDATE_LEDGER_QUERIES=1 cargo
//! test -p callkit-edge --lib queries_tests` rewrites it.

use serde_json::{json, Value};

use super::filter::{ListQuery, Window};
use super::view::{CALL_CSV, CALL_JSON};
use super::{erase, read, retention, rollup, stats, write};

const FILE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/integration/ledger-queries.json"
);

fn list(user: Option<&str>) -> ListQuery {
    ListQuery {
        window: Window { from: 0, to: 1 },
        user: user.map(str::to_owned),
        result: None,
        media_type: None,
        call_type: None,
        limit: 20,
        cursor: None,
        fingerprint: String::new(),
    }
}

fn queries() -> Value {
    let page = json!([
        1_700_000_000_000u64,
        1_800_000_000_000u64,
        "c-9",
        "NormalEnd",
        "Video",
        "SingleCall",
        21
    ]);
    let mut page_user = page.clone();
    page_user.as_array_mut().unwrap().push(json!("alice"));
    let stats_params = json!([
        1_700_000_000_000u64,
        1_800_000_000_000u64,
        28_800_000,
        86_400_000
    ]);
    let mut stats_user = stats_params.clone();
    stats_user.as_array_mut().unwrap().push(json!("alice"));
    let rollup_params = json!([
        1_700_000_000_001u64,
        1_800_000_000_000u64,
        28_800_000,
        86_400_000,
        "",
        1_700_000_100_000u64,
        1_800_000_000_000u64,
        1_888_890u64,
        2_000_000u64
    ]);
    let mut rollup_user = rollup_params.clone();
    rollup_user[4] = json!("alice");
    let cutoff = json!([1_700_000_000_000u64, 500]);
    let retention = retention::statements();
    let update = super::update::Update::from_record(&serde_json::from_value(json!({
        "CallId": "c-1", "Caller_Account": "alice", "MediaType": "Audio", "CallType": "SingleCall",
        "StartTime": 1, "EndTime": 9, "AcceptTime": 2, "CallResult": "NormalEnd",
        "CalleeList_Account": ["alice", "bob"]
    })).unwrap(), super::update::RecordSource::Fetch);
    let batch = serde_json::to_string(&[update]).unwrap();
    json!([
        {"name": "history page (admin, a time range)", "sql": read::page_sql(&list(None), CALL_JSON), "params": page},
        {"name": "history page (a member's calls)", "sql": read::page_sql(&list(Some("alice")), CALL_JSON), "params": page_user},
        {"name": "history page (export as CSV)", "sql": read::page_sql(&list(None), CALL_CSV), "params": page},
        {"name": "one call", "sql": format!("SELECT {CALL_JSON} {}", read::ONE_CALL), "params": ["c-1", "alice"]},
        {"name": "one call's timeline", "sql": read::TIMELINE, "params": ["c-1"]},
        {"name": "stats (admin)", "sql": stats::per_bucket(&stats::sql(false)), "params": stats_params},
        {"name": "stats (a member)", "sql": stats::per_bucket(&stats::sql(true)), "params": stats_user},
        {"name": "erase: callers", "sql": erase::STATEMENTS[0], "params": ["bob", "[erased]"]},
        {"name": "erase: timeline", "sql": erase::STATEMENTS[1], "params": ["bob"]},
        {"name": "erase: members", "sql": erase::STATEMENTS[2], "params": ["bob"]},
        {"name": "retention: timeline", "sql": retention[0], "params": cutoff},
        {"name": "retention: members", "sql": retention[1], "params": cutoff},
        {"name": "retention: calls", "sql": retention[2], "params": cutoff},
        {"name": "ingest: timeline", "sql": write::insert_timeline(), "params": [batch]},
        {"name": "ingest: calls", "sql": write::upsert_calls(), "params": [batch]},
        {"name": "backfill: known calls", "sql": super::backfill::KNOWN, "params": ["[\"c-1\",\"c-2\"]"]},
        {"name": "ingest: members", "sql": write::insert_members(), "params": [batch]},
        {"name": "stats from the rollup (admin)", "sql": stats::per_bucket(&rollup::sql(false)), "params": rollup_params},
        {"name": "stats from the rollup (a member)", "sql": stats::per_bucket(&rollup::sql(true)), "params": rollup_user},
        // The renderings alone, which the integration suite also runs on sample rows.
        {"name": "render: a call as JSON", "sql": format!("SELECT {CALL_JSON} FROM calls c WHERE c.call_id = ?1"), "params": ["c-1"]},
        {"name": "render: a call as CSV", "sql": format!("SELECT {CALL_CSV} FROM calls c WHERE c.call_id = ?1"), "params": ["c-1"]},
    ])
}

#[test]
fn the_query_file_lists_every_statement_as_the_code_has_it() {
    let want = serde_json::to_string_pretty(&queries()).unwrap() + "\n";
    if std::env::var_os("UPDATE_LEDGER_QUERIES").is_some() {
        std::fs::write(FILE, &want).unwrap();
    }
    let have = std::fs::read_to_string(FILE).unwrap_or_default();
    assert!(
        have == want,
        "{FILE} is stale: run UPDATE_LEDGER_QUERIES=1 cargo test -p callkit-edge --lib queries_tests"
    );
}
