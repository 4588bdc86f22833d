//! The eight v4 commands, the service each lives under, and how safe each is to retry.

use std::fmt;

use crate::envelope::ResponseBody;

/// The `{servicename}` segment of a v4 URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Service {
    CallEngine,
    CallRecord,
    CallConfig,
}

impl Service {
    pub fn as_str(self) -> &'static str {
        match self {
            Service::CallEngine => "call_engine_http_srv",
            Service::CallRecord => "call_record_http_srv",
            Service::CallConfig => "call_config",
        }
    }
}

impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A v4 CallKit REST command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Command {
    GetCallInfo,
    StartCallByRobot,
    EndCall,
    GetRecordByCallId,
    GetRecordByFilter,
    SetCallback,
    GetCallback,
    DeleteCallback,
}

/// Whether a failed attempt may be sent again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetrySafety {
    /// Reads, and config writes that overwrite or delete.
    Idempotent,
    /// Retryable, but a 101004 after a retried attempt means "already ended".
    EndCall,
    /// `start_call_by_robot`: a retry could start a second call.
    Never,
}

impl RetrySafety {
    pub fn allows_retry(self) -> bool {
        !matches!(self, RetrySafety::Never)
    }
}

impl Command {
    pub const ALL: [Command; 8] = [
        Command::GetCallInfo,
        Command::StartCallByRobot,
        Command::EndCall,
        Command::GetRecordByCallId,
        Command::GetRecordByFilter,
        Command::SetCallback,
        Command::GetCallback,
        Command::DeleteCallback,
    ];

    pub fn service(self) -> Service {
        match self {
            Command::GetCallInfo | Command::StartCallByRobot | Command::EndCall => {
                Service::CallEngine
            }
            Command::GetRecordByCallId | Command::GetRecordByFilter => Service::CallRecord,
            Command::SetCallback | Command::GetCallback | Command::DeleteCallback => {
                Service::CallConfig
            }
        }
    }

    /// The command word, e.g. `"get_call_info"`.
    pub fn name(self) -> &'static str {
        match self {
            Command::GetCallInfo => "get_call_info",
            Command::StartCallByRobot => "start_call_by_robot",
            Command::EndCall => "end_call",
            Command::GetRecordByCallId => "get_record_by_callid",
            Command::GetRecordByFilter => "get_record_by_filter",
            Command::SetCallback => "set_callback",
            Command::GetCallback => "get_callback",
            Command::DeleteCallback => "delete_callback",
        }
    }

    /// `"{service}/{command}"`, the path after `/v4/`.
    pub fn path(self) -> &'static str {
        match self {
            Command::GetCallInfo => "call_engine_http_srv/get_call_info",
            Command::StartCallByRobot => "call_engine_http_srv/start_call_by_robot",
            Command::EndCall => "call_engine_http_srv/end_call",
            Command::GetRecordByCallId => "call_record_http_srv/get_record_by_callid",
            Command::GetRecordByFilter => "call_record_http_srv/get_record_by_filter",
            Command::SetCallback => "call_config/set_callback",
            Command::GetCallback => "call_config/get_callback",
            Command::DeleteCallback => "call_config/delete_callback",
        }
    }

    /// The command at `/v4/{service}/{command}`; case-sensitive, as upstream.
    pub fn from_path(service: &str, command: &str) -> Option<Command> {
        Command::ALL
            .into_iter()
            .find(|c| c.service().as_str() == service && c.name() == command)
    }

    /// Reads change nothing upstream, so identical ones in flight together
    /// may share one request (`client::shared_reads`).
    pub fn is_read(self) -> bool {
        matches!(
            self,
            Command::GetCallInfo
                | Command::GetRecordByCallId
                | Command::GetRecordByFilter
                | Command::GetCallback
        )
    }

    pub fn retry_safety(self) -> RetrySafety {
        match self {
            Command::StartCallByRobot => RetrySafety::Never,
            Command::EndCall => RetrySafety::EndCall,
            Command::GetCallInfo
            | Command::GetRecordByCallId
            | Command::GetRecordByFilter
            | Command::SetCallback
            | Command::GetCallback
            | Command::DeleteCallback => RetrySafety::Idempotent,
        }
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.path())
    }
}

/// A typed v4 request: its command and the type of its `Response` object.
pub trait ApiCommand: serde::Serialize {
    const COMMAND: Command;
    type Response: ResponseBody;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_is_service_slash_name() {
        for c in Command::ALL {
            assert_eq!(c.path(), format!("{}/{}", c.service().as_str(), c.name()));
        }
    }

    #[test]
    fn from_path_round_trips_every_command() {
        for c in Command::ALL {
            assert_eq!(Command::from_path(c.service().as_str(), c.name()), Some(c));
        }
    }

    #[test]
    fn from_path_rejects_unknown_and_mismatched() {
        assert_eq!(Command::from_path("call_config", "get_call_info"), None);
        assert_eq!(
            Command::from_path("call_engine_http_srv", "Get_Call_Info"),
            None
        );
        assert_eq!(Command::from_path("call_engine_http_srv", "kick"), None);
        assert_eq!(Command::from_path("", ""), None);
    }

    #[test]
    fn documented_names() {
        assert_eq!(Command::GetRecordByCallId.name(), "get_record_by_callid");
        assert_eq!(Service::CallConfig.as_str(), "call_config");
        assert_eq!(
            Command::StartCallByRobot.to_string(),
            "call_engine_http_srv/start_call_by_robot"
        );
    }

    #[test]
    fn only_start_call_is_never_retried() {
        for c in Command::ALL {
            let safety = c.retry_safety();
            assert_eq!(safety.allows_retry(), c != Command::StartCallByRobot);
        }
        assert_eq!(Command::EndCall.retry_safety(), RetrySafety::EndCall);
        assert_eq!(Command::SetCallback.retry_safety(), RetrySafety::Idempotent);
    }
}
