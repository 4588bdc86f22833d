//! `/api/v1/records`: one record by CallId, or a filtered page.

use callkit_core::models::{
    CallRecord, CallResult, CallType, GetRecordByFilter, MediaType, RoomIdType,
};
use serde::Serialize;

use callkit_core::client::{Runtime, Transport};

use super::{Input, Success};
use crate::api::problem::{ApiError, RECORD_NOT_FOUND};
use crate::api::validate::{self, RecordFilter};

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordView<'a> {
    pub call_id: &'a str,
    pub caller: &'a str,
    pub callees: &'a [String],
    pub media_type: MediaType,
    pub call_type: CallType,
    pub result: CallResult,
    pub start_time: u64,
    pub end_time: u64,
    pub accept_time: u64,
    pub room_id: &'a str,
    pub room_id_type: RoomIdType,
}

impl<'a> From<&'a CallRecord> for RecordView<'a> {
    fn from(r: &'a CallRecord) -> Self {
        Self {
            call_id: &r.call_id,
            caller: &r.caller_account,
            callees: &r.callee_list_account,
            media_type: r.media_type,
            call_type: r.call_type,
            result: r.call_result,
            start_time: r.start_time,
            end_time: r.end_time,
            accept_time: r.accept_time,
            room_id: &r.room_id,
            room_id_type: r.room_id_type,
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct One<'a> {
    request_id: &'a str,
    record: RecordView<'a>,
}

pub async fn get<T: Transport, R: Runtime>(input: Input<'_, T, R>) -> Result<Success, ApiError> {
    let call_id = input.call_id()?;
    let reply = input.client.records().by_call_id(call_id.as_str()).await?;
    let record = &reply.data.call_record;
    let me = input.identity.user_id();
    if input.needs_membership
        && record.caller_account != me
        && !record.callee_list_account.iter().any(|c| c == me)
    {
        return Err(RECORD_NOT_FOUND);
    }
    let body = One {
        request_id: &reply.request_id,
        record: record.into(),
    };
    Success::json(200, &body, Some(&reply.request_id))
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Page<'a> {
    request_id: &'a str,
    total: u64,
    page: u32,
    per_page: u32,
    records: Vec<RecordView<'a>>,
}

pub async fn list<T: Transport, R: Runtime>(input: Input<'_, T, R>) -> Result<Success, ApiError> {
    let filter = validate::record_filter(&input.query, input.now_secs)?;
    if filter.is_empty() {
        return empty_page(&filter, None);
    }
    let request = GetRecordByFilter {
        start_time: Some(filter.start),
        end_time: Some(filter.end),
        call_result: filter.result,
        call_type: filter.call_type,
        number_per_page: Some(filter.per_page),
        page: Some(filter.page),
    };
    let reply = input.client.records().by_filter(&request).await;
    let reply = match reply {
        Ok(reply) => reply,
        // An empty page is an answer, not a missing resource.
        Err(e) if e.api_code() == Some(101050) => return empty_page(&filter, e.request_id()),
        Err(e) => return Err(e.into()),
    };
    let body = Page {
        request_id: &reply.request_id,
        total: reply.data.total_num,
        page: filter.page,
        per_page: filter.per_page,
        records: reply
            .data
            .call_record_list
            .iter()
            .map(RecordView::from)
            .collect(),
    };
    Success::json(200, &body, Some(&reply.request_id))
}

fn empty_page(filter: &RecordFilter, request_id: Option<&str>) -> Result<Success, ApiError> {
    let body = Page {
        request_id: request_id.unwrap_or_default(),
        total: 0,
        page: filter.page,
        per_page: filter.per_page,
        records: Vec::new(),
    };
    Success::json(200, &body, request_id)
}

#[cfg(test)]
mod upstream_tests {
    use callkit_core::client::testing::{ok_body, Step};

    use super::*;
    use crate::api::handlers::test_support::{admin, json, problem, run, sample, user, Upstream};

    #[test]
    fn a_record_is_shown_to_its_caller_and_callees_only() {
        let call = "055662e1-bc8a-469c-a334-1126c8c17d58";
        let body = std::fs::read_to_string(format!(
            "{}get_record_by_callid.response.json",
            crate::api::handlers::test_support::SAMPLES
        ))
        .unwrap();
        let record: serde_json::Value = serde_json::from_str(&body).unwrap();
        let caller = record["Response"]["CallRecord"]["Caller_Account"]
            .as_str()
            .unwrap()
            .to_owned();
        let up = Upstream::new(vec![sample("get_record_by_callid.response.json")]);
        let me = user(&caller);
        assert_eq!(run(get(up.input(&me, Some(call)))).unwrap().status, 200);
        let up = Upstream::new(vec![sample("get_record_by_callid.response.json")]);
        let stranger = user("mallory");
        let p = problem(run(get(up.input(&stranger, Some(call)))));
        assert_eq!((p.status, p.code.as_str()), (404, "record_not_found"));
        assert_eq!(p.request_id, None);
    }

    #[test]
    fn no_record_in_the_window_is_an_empty_page_not_a_404() {
        let up = Upstream::new(vec![Step::api_error(101050)]);
        let who = admin();
        let success = run(list(up.input(&who, None))).unwrap();
        let body = json(&success);
        assert_eq!(success.status, 200);
        assert_eq!(body["total"], 0);
        assert_eq!(body["records"], serde_json::json!([]));
        assert_eq!(body["page"], 1);
        let up = Upstream::new(vec![Step::ok(&ok_body(
            "Id-00000000000000000000000000000000-O-Seq-1",
            Some(r#"{"CallRecordList":[],"TotalNum":7,"Page":0,"NumberPerPage":10}"#),
        ))]);
        assert_eq!(json(&run(list(up.input(&who, None))).unwrap())["total"], 7);
    }

    #[test]
    fn an_empty_range_is_an_empty_page_without_asking_tencent() {
        let up = Upstream::new(vec![]);
        let who = admin();
        let mut input = up.input(&who, None);
        input.query = vec![("start".into(), "20".into()), ("end".into(), "10".into())];
        let success = run(list(input)).unwrap();
        assert_eq!(success.status, 200);
        assert_eq!(json(&success)["total"], 0);
        assert_eq!(json(&success)["records"], serde_json::json!([]));
        assert_eq!(up.sent(), 0);
    }
}
