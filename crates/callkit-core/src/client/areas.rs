//! The API areas (`client.calls()`, `.records()`, `.callbacks()`):
//! typed shortcuts over `Client::send`, nothing more.

use super::error::ClientError;
use super::runtime::Runtime;
use super::send::Client;
use super::transport::Transport;
use crate::command::ApiCommand;
use crate::envelope::Reply;
use crate::models::{
    DeleteCallback, EndCall, GetCallInfo, GetCallback, GetRecordByCallId, GetRecordByFilter,
    SetCallback, StartCallByRobot,
};

/// What sending `C` yields.
pub type Outcome<C> = Result<Reply<<C as ApiCommand>::Response>, ClientError>;

impl<T: Transport, R: Runtime> Client<T, R> {
    /// `call_engine_http_srv`: live calls.
    pub fn calls(&self) -> Calls<'_, T, R> {
        Calls { client: self }
    }

    /// `call_record_http_srv`: call records.
    pub fn records(&self) -> Records<'_, T, R> {
        Records { client: self }
    }

    /// `call_config`: the webhook configuration.
    pub fn callbacks(&self) -> Callbacks<'_, T, R> {
        Callbacks { client: self }
    }
}

pub struct Calls<'c, T: Transport, R: Runtime> {
    client: &'c Client<T, R>,
}

impl<T: Transport, R: Runtime> Calls<'_, T, R> {
    pub async fn info(&self, call_id: impl Into<String>) -> Outcome<GetCallInfo> {
        let request = GetCallInfo {
            call_id: call_id.into(),
        };
        self.client.send(&request).await
    }

    /// Attempted once unless the upstream proves it did nothing: a call must
    /// not be started twice.
    pub async fn start_by_robot(&self, request: &StartCallByRobot) -> Outcome<StartCallByRobot> {
        self.client.send(request).await
    }

    /// A 101004 after a lost attempt counts as success (already ended).
    pub async fn end(&self, call_id: impl Into<String>) -> Outcome<EndCall> {
        let request = EndCall {
            call_id: call_id.into(),
        };
        self.client.send(&request).await
    }
}

pub struct Records<'c, T: Transport, R: Runtime> {
    client: &'c Client<T, R>,
}

impl<T: Transport, R: Runtime> Records<'_, T, R> {
    /// Given again from the client's memory while `record_memo_ttl` lasts:
    /// a record never changes once Tencent has it. The answer keeps the
    /// `RequestId` of the request that fetched it.
    pub async fn by_call_id(&self, call_id: impl Into<String>) -> Outcome<GetRecordByCallId> {
        let request = GetRecordByCallId {
            call_id: call_id.into(),
        };
        let memo = self.client.record_memo();
        let now = self.client.now_millis();
        if let Some(kept) = memo.and_then(|m| m.get(&request.call_id, now)) {
            return Ok(kept);
        }
        let reply = self.client.send(&request).await?;
        if let Some(memo) = memo {
            memo.put(&request.call_id, &reply, now);
        }
        Ok(reply)
    }

    pub async fn by_filter(&self, filter: &GetRecordByFilter) -> Outcome<GetRecordByFilter> {
        self.client.send(filter).await
    }
}

pub struct Callbacks<'c, T: Transport, R: Runtime> {
    client: &'c Client<T, R>,
}

impl<T: Transport, R: Runtime> Callbacks<'_, T, R> {
    /// Creates or overwrites the configuration.
    pub async fn set(&self, config: &SetCallback) -> Outcome<SetCallback> {
        self.client.send(config).await
    }

    pub async fn get(&self) -> Outcome<GetCallback> {
        self.client.send(&GetCallback {}).await
    }

    pub async fn delete(&self) -> Outcome<DeleteCallback> {
        self.client.send(&DeleteCallback {}).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::testing::{ok_body, FakeClock, FakeRuntime, FakeTransport, Step};
    use crate::client::{AdminCredential, ClientConfig};
    use crate::envelope::NoContent;
    use crate::models::{CallbackCommand, MediaType, RobotCallInfo};
    use crate::region::{Endpoint, Region};
    use crate::secret::Secret;
    use futures::executor::block_on;

    fn client(
        script: impl IntoIterator<Item = Step>,
    ) -> (FakeTransport, Client<FakeTransport, FakeRuntime>) {
        let clock = FakeClock::at_secs(1_700_000_000);
        let transport = FakeTransport::new(clock.clone(), script);
        let config = ClientConfig::new(Endpoint::Region(Region::Seoul), 1_400_000_000, "admin");
        let credential = AdminCredential::secret_key(Secret::new("k".repeat(64)));
        let client = Client::new(
            config,
            credential,
            transport.clone(),
            FakeRuntime::new(clock),
        )
        .unwrap();
        (transport, client)
    }

    fn paths_and_bodies(transport: &FakeTransport) -> Vec<(String, String)> {
        transport
            .attempts()
            .into_iter()
            .map(|a| (a.path, String::from_utf8(a.body).unwrap()))
            .collect()
    }

    #[test]
    fn end_call_is_sent_to_its_path_and_treats_a_lost_then_gone_call_as_ended() {
        let (transport, client) = client([Step::network(), Step::api_error(101004)]);
        let reply = block_on(client.calls().end("c-9")).unwrap();
        assert_eq!(reply.data, NoContent {});
        let sent = paths_and_bodies(&transport);
        assert_eq!(sent.len(), 2);
        for (path, body) in sent {
            assert_eq!(path, "/v4/call_engine_http_srv/end_call");
            assert_eq!(body, r#"{"CallId":"c-9"}"#);
        }
    }

    #[test]
    fn start_by_robot_accepts_both_reply_shapes_and_is_not_retried() {
        let request = StartCallByRobot {
            robot_account: "robot".into(),
            callee_list_account: vec!["jack".into()],
            timeout: 30_000,
            user_data: None,
            call_info: RobotCallInfo {
                media_type: MediaType::Audio,
                room_id: None,
                room_id_type: None,
            },
            offline_push_info: None,
        };
        let with = ok_body(
            "Id-s",
            Some(r#"{"CallId":"35fd","CallResult":[{"Callee_Account":"jack","ResultCode":0}]}"#),
        );
        let (transport, client) = client([
            Step::ok(&with),
            Step::ok(&ok_body("Id-t", None)),
            Step::http(502),
            Step::ok(&with),
        ]);
        let reply = block_on(client.calls().start_by_robot(&request)).unwrap();
        assert_eq!(reply.data.map(|r| r.call_id).as_deref(), Some("35fd"));
        let reply = block_on(client.calls().start_by_robot(&request)).unwrap();
        assert_eq!(reply.data, None);
        assert!(block_on(client.calls().start_by_robot(&request)).is_err());
        let sent = paths_and_bodies(&transport);
        assert_eq!(sent.len(), 3);
        assert_eq!(sent[0].0, "/v4/call_engine_http_srv/start_call_by_robot");
    }

    #[test]
    fn record_and_callback_areas_hit_their_commands() {
        let callback = ok_body(
            "Id-c",
            Some(
                r#"{"Url":"https://hooks.example/cb","CallbackCommandList":["Call.CallbackAfterEndCall"]}"#,
            ),
        );
        let (transport, client) = client([
            Step::api_error(101050),
            Step::api_error(101050),
            Step::ok(&ok_body("Id-set", None)),
            Step::ok(&callback),
            Step::ok(&ok_body("Id-del", None)),
        ]);
        let missing = block_on(client.records().by_call_id("nope")).unwrap_err();
        assert_eq!(missing.api_code(), Some(101050));
        let filter = GetRecordByFilter::default();
        assert!(block_on(client.records().by_filter(&filter)).is_err());
        let set = SetCallback {
            url: "https://hooks.example/cb".into(),
            callback_command_list: vec![CallbackCommand::AfterEndCall],
        };
        block_on(client.callbacks().set(&set)).unwrap();
        let got = block_on(client.callbacks().get()).unwrap();
        assert_eq!(
            got.data.callback_command_list,
            [CallbackCommand::AfterEndCall]
        );
        block_on(client.callbacks().delete()).unwrap();

        let sent = paths_and_bodies(&transport);
        let paths: Vec<&str> = sent.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            paths,
            [
                "/v4/call_record_http_srv/get_record_by_callid",
                "/v4/call_record_http_srv/get_record_by_filter",
                "/v4/call_config/set_callback",
                "/v4/call_config/get_callback",
                "/v4/call_config/delete_callback",
            ]
        );
        assert_eq!(sent[0].1, r#"{"CallId":"nope"}"#);
        assert_eq!(sent[3].1, "{}");
        assert_eq!(sent[4].1, "{}");
    }

    #[test]
    fn a_record_is_fetched_once_and_then_given_from_memory_but_a_failure_never() {
        // Tencent's documented sample answer.
        let sample = include_str!("../../tests/resources/get_record_by_callid.response.json");
        let (transport, client) =
            client([Step::api_error(101050), Step::ok(sample), Step::ok(sample)]);
        let call_id = "04c9a0ac-8e38-4a19-be45-349c5ce7911b";
        assert!(block_on(client.records().by_call_id(call_id)).is_err());
        let first = block_on(client.records().by_call_id(call_id)).unwrap();
        let again = block_on(client.records().by_call_id(call_id)).unwrap();
        assert_eq!(again, first, "the same answer, its RequestId included");
        assert_eq!(
            paths_and_bodies(&transport).len(),
            2,
            "101050, then one fetch"
        );
    }
}
