//! JSON body validation of the routes that take one.
#![no_main]

use callkit_edge::api::handlers::callback::PutCallback;
use callkit_edge::api::handlers::calls::StartCall;
use callkit_edge::api::validate::json_body;
use libfuzzer_sys::fuzz_target;

const JSON: Option<&str> = Some("application/json");

fuzz_target!(|data: &[u8]| {
    if let Ok(start) = json_body::<StartCall>(JSON, data) {
        let _ = start.validate();
    }
    if let Ok(put) = json_body::<PutCallback>(JSON, data) {
        let _ = put.validate();
    }
});
