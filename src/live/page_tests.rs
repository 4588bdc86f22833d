use super::*;
use serde_json::Value;

fn shard(calls: &[(u8, u64, &str)], total: u64) -> String {
    let rows: Vec<(String, Key)> = calls
        .iter()
        .map(|(l, t, id)| (format!(r#"{{"callId":"{id}"}}"#), Key(*l, *t, (*id).into())))
        .collect();
    let summary = Summary {
        total,
        ..Summary::default()
    };
    shard_text(&rows, &summary, 7)
}

fn merged(shards: &[String], limit: u32) -> Value {
    let pages = shards.iter().map(|t| read_shard(t).unwrap()).collect();
    let query = PageQuery {
        limit,
        ..PageQuery::default()
    };
    serde_json::from_str(&merge(pages, &query, "f")).unwrap()
}

fn ids(page: &Value) -> Vec<&str> {
    page["calls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["callId"].as_str().unwrap())
        .collect()
}

#[test]
fn shards_merge_live_first_then_heard_of_last() {
    let a = shard(&[(1, 10, "a1"), (0, 40, "a2")], 2);
    let b = shard(&[(1, 30, "b1"), (0, 50, "b2")], 5);
    let page = merged(&[a, b], 10);
    assert_eq!(ids(&page), ["b1", "a1", "b2", "a2"]);
    assert_eq!(page["summary"]["total"], 7);
    assert_eq!(page["now"], 7);
    assert_eq!(page["nextCursor"], Value::Null);
}

#[test]
fn a_full_page_continues_where_it_stopped() {
    let a = shard(&[(1, 10, "a1"), (1, 5, "a2")], 3);
    let b = shard(&[(1, 30, "b1")], 1);
    let page = merged(&[a, b], 2);
    assert_eq!(ids(&page), ["b1", "a1"]);
    let next = page["nextCursor"].as_str().unwrap();
    assert_eq!(decode_cursor(next, "f"), Some(Key(1, 10, "a1".into())));
    // A shard that filled its page may hold more, though the merge did not overflow.
    let full = merged(&[shard(&[(1, 1, "x"), (0, 1, "y")], 9)], 2);
    assert!(full["nextCursor"].is_string());
    // An empty board is an empty page.
    let empty = merged(&[shard(&[], 0)], 2);
    assert_eq!(ids(&empty), Vec::<&str>::new());
}

#[test]
fn a_query_travels_to_the_shard_and_back() {
    for query in [
        PageQuery {
            limit: 500,
            ..PageQuery::default()
        },
        PageQuery {
            limit: 3,
            user: Some(" a b.c ".into()),
            call_id: Some("c-1".into()),
            after: Some(Key(0, 1_700_000_000_000, "c.1-x_y".into())),
        },
    ] {
        assert_eq!(PageQuery::from_header(&query.to_header()), Some(query));
    }
    for bad in ["", "x\t\t\t", "5\t\t", "5\t\t\t2\t1\tc", "5\t\t\t1\tnot\tc"] {
        assert_eq!(
            PageQuery::from_header(&URL_SAFE_NO_PAD.encode(bad)),
            None,
            "{bad:?}"
        );
    }
    assert_eq!(PageQuery::from_header("not base64!"), None);
}

#[test]
fn a_shard_answer_that_is_not_one_is_refused() {
    for bad in ["", "1\t2\t3", "1\t1\t0\t1\t0\t7\nnot a row"] {
        assert!(read_shard(bad).is_none(), "{bad:?}");
    }
}

#[test]
fn a_cursor_is_tied_to_its_filters_and_well_formed() {
    let key = Key(0, 1_700_000_000_000, "c.1-x_y".into());
    let cursor = encode_cursor(&key, "abc");
    assert_eq!(decode_cursor(&cursor, "abc"), Some(key));
    assert_eq!(decode_cursor(&cursor, "abd"), None);
    let bad = [
        String::new(),
        "!!".into(),
        URL_SAFE_NO_PAD.encode("2:1:abc:x"),
        URL_SAFE_NO_PAD.encode("1:1:abc:"),
        URL_SAFE_NO_PAD.encode("1:1:abc:a\tb"),
        URL_SAFE_NO_PAD.encode("1:1:abc:é"),
    ];
    for raw in bad {
        assert_eq!(decode_cursor(&raw, "abc"), None, "{raw}");
    }
}
