//! Native benchmarks of the pieces every edge request runs: UserSig mint and
//! verify, and parsing the upstream envelope. `cargo bench -p callkit-core`.

use callkit_core::envelope::parse_reply;
use callkit_core::models::{GetCallInfoResponse, GetRecordByFilterResponse};
use callkit_core::usersig::{mint_now, mint_with, verify_with, Expected, SigFields, SigningKey};
use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;

const KEY: &str = "5bd2850fff3ecb11d7c805251c51ee463a25727bddc2385f3fa8bfee1bb93b5e";
const APP: u64 = 1_400_000_000;
const NOW: u64 = 1_700_000_000;
/// Minted by the official Node library for "xiaojun" (compressed, level 6).
const NODE_SIG: &str = "eJyrVgrxCdYrSy1SslIy0jNQ0gHzM1NS80oy0zLBwhWZiflZpXlQqeKU7MSCgswUJStDEwMogMiUZOamKlkZmqOKplYUZBaBxE1NTY3gosWZ6UpWSj5ljuYp*p7l5unBxXnF2WVhVU4uAf7Ozi5JpX7O5SbuHuUhzgZJmQXaTia2SrUAohcx8g__";
const NODE_NOW: u64 = 1_700_000_000 + 86_400;
const NODE_EXPECTED: Expected<'static> = Expected {
    sdkappid: APP,
    identifier: Some("xiaojun"),
    userbuf: None,
};
const CALL_INFO: &[u8] = include_bytes!("../tests/resources/get_call_info.response.json");
const RECORDS: &[u8] = include_bytes!("../tests/resources/get_record_by_filter.response.json");

/// With the key prepared once, as the edge holds it.
fn usersig(c: &mut Criterion) {
    let key = SigningKey::new(KEY);
    let fields = SigFields {
        sdkappid: APP,
        identifier: "alice",
        time: NOW,
        expire: 86_400,
        userbuf: None,
    };
    c.bench_function("usersig_mint", |b| {
        b.iter(|| mint_with(&key, black_box(&fields)))
    });
    let sig = mint_now(KEY, APP, "alice", 86_400, NOW);
    let expected = Expected {
        sdkappid: APP,
        identifier: None,
        userbuf: None,
    };
    c.bench_function("usersig_verify", |b| {
        b.iter(|| verify_with(black_box(&sig), &key, &expected, NOW).unwrap())
    });
    // A level-6 sig, as the Python and Node libraries write them.
    c.bench_function("usersig_verify_compressed", |b| {
        b.iter(|| verify_with(black_box(NODE_SIG), &key, &NODE_EXPECTED, NODE_NOW).unwrap())
    });
}

fn envelope(c: &mut Criterion) {
    c.bench_function("parse_get_call_info", |b| {
        b.iter(|| parse_reply::<GetCallInfoResponse>(200, black_box(CALL_INFO)).unwrap())
    });
    c.bench_function("parse_get_record_by_filter", |b| {
        b.iter(|| parse_reply::<GetRecordByFilterResponse>(200, black_box(RECORDS)).unwrap())
    });
}

criterion_group!(benches, usersig, envelope);
criterion_main!(benches);
