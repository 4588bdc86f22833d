//! The edge API's one table of actions: each one's name (in `ACTION_POLICY`
//! and audit lines), route, default rule, the rules an operator may give it,
//! and what it does in words. The router, the policy, error messages and
//! the OpenAPI test all read it: adding an endpoint starts with a row here.

use std::fmt;
use std::str::FromStr;

use super::policy::Rule;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Put,
    Delete,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
        }
    }

    pub fn parse(method: &str) -> Option<Self> {
        match method {
            "GET" | "HEAD" => Some(Method::Get),
            "POST" => Some(Method::Post),
            "PUT" => Some(Method::Put),
            "DELETE" => Some(Method::Delete),
            _ => None,
        }
    }
}

/// In the order of `TABLE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    Health,
    OpenApi,
    GetCall,
    EndCall,
    StartCall,
    GetRecord,
    ListRecords,
    GetCallback,
    SetCallback,
    DeleteCallback,
    MintUserSig,
    ReceiveWebhook,
    LiveCalls,
    LiveTicket,
    LiveSocket,
    Me,
    ListHistory,
    HistoryStats,
    ExportHistory,
    StartBackfill,
    BackfillStatus,
    GetHistoryCall,
    EraseHistoryUser,
    RelayDeliveries,
    Redeliver,
    ReceiveTrtcEvent,
}

/// One row of the table. `path` uses OpenAPI's `{param}` syntax.
#[derive(Debug)]
pub struct Spec {
    pub action: Action,
    pub name: &'static str,
    pub method: Method,
    pub path: &'static str,
    pub default_rule: Rule,
    /// The rules `ACTION_POLICY` may set; one `public` rule alone: fixed.
    pub rules: &'static [Rule],
    /// Completes "Your account may not …".
    pub does: &'static str,
}

/// The two documents anyone may read, always.
const FIXED: &[Rule] = &[Rule::Public];
/// Proven by something else than a bearer token (a secret, a ticket).
const PROVEN: &[Rule] = &[Rule::Public, Rule::Off];
/// Membership needs a call or record to be a member of; on the board it
/// means "the calls I take part in".
const MEMBER: &[Rule] = &[Rule::Member, Rule::Admin, Rule::Off];
const ADMIN: &[Rule] = &[Rule::Admin, Rule::Off];
const SELF: &[Rule] = &[Rule::SelfOnly, Rule::Admin, Rule::Off];

const fn row(
    action: Action,
    name: &'static str,
    method: Method,
    path: &'static str,
    rules: &'static [Rule],
    does: &'static str,
) -> Spec {
    Spec {
        action,
        name,
        method,
        path,
        default_rule: rules[0],
        rules,
        does,
    }
}

use Method::{Delete, Get, Post, Put};

pub const TABLE: [Spec; 26] = [
    row(
        Action::Health,
        "health",
        Get,
        "/api/v1/health",
        FIXED,
        "read the health report",
    ),
    row(
        Action::OpenApi,
        "openapi",
        Get,
        "/api/v1/openapi.json",
        FIXED,
        "read the API description",
    ),
    row(
        Action::GetCall,
        "get_call",
        Get,
        "/api/v1/calls/{callId}",
        MEMBER,
        "look up this call",
    ),
    row(
        Action::EndCall,
        "end_call",
        Post,
        "/api/v1/calls/{callId}/end",
        MEMBER,
        "end this call",
    ),
    row(
        Action::StartCall,
        "start_call",
        Post,
        "/api/v1/calls",
        ADMIN,
        "start calls from the server",
    ),
    row(
        Action::GetRecord,
        "get_record",
        Get,
        "/api/v1/records/{callId}",
        MEMBER,
        "read this call record",
    ),
    row(
        Action::ListRecords,
        "list_records",
        Get,
        "/api/v1/records",
        ADMIN,
        "list call records",
    ),
    row(
        Action::GetCallback,
        "get_callback",
        Get,
        "/api/v1/callback",
        ADMIN,
        "read the webhook configuration",
    ),
    row(
        Action::SetCallback,
        "set_callback",
        Put,
        "/api/v1/callback",
        ADMIN,
        "change the webhook configuration",
    ),
    row(
        Action::DeleteCallback,
        "delete_callback",
        Delete,
        "/api/v1/callback",
        ADMIN,
        "delete the webhook configuration",
    ),
    row(
        Action::MintUserSig,
        "mint_usersig",
        Post,
        "/api/v1/usersig",
        SELF,
        "get a UserSig",
    ),
    row(
        Action::ReceiveWebhook,
        "receive_webhook",
        Post,
        "/api/v1/webhooks/tencent",
        PROVEN,
        "deliver webhooks",
    ),
    row(
        Action::LiveCalls,
        "live_calls",
        Get,
        "/api/v1/live/calls",
        MEMBER,
        "see the live call board",
    ),
    row(
        Action::LiveTicket,
        "live_ticket",
        Post,
        "/api/v1/live/ticket",
        MEMBER,
        "follow the live call board",
    ),
    row(
        Action::LiveSocket,
        "live_socket",
        Get,
        "/api/v1/live",
        PROVEN,
        "follow the live call board",
    ),
    row(
        Action::Me,
        "me",
        Get,
        "/api/v1/me",
        SELF,
        "see who you are signed in as",
    ),
    row(
        Action::ListHistory,
        "list_history",
        Get,
        "/api/v1/history",
        MEMBER,
        "read the call history",
    ),
    row(
        Action::HistoryStats,
        "history_stats",
        Get,
        "/api/v1/history/stats",
        MEMBER,
        "read call statistics",
    ),
    row(
        Action::ExportHistory,
        "export_history",
        Get,
        "/api/v1/history/export",
        ADMIN,
        "export the call history",
    ),
    row(
        Action::StartBackfill,
        "start_backfill",
        Post,
        "/api/v1/history/backfill",
        ADMIN,
        "import Tencent's call records into the history",
    ),
    row(
        Action::BackfillStatus,
        "backfill_status",
        Get,
        "/api/v1/history/backfill",
        ADMIN,
        "read the history import's progress",
    ),
    row(
        Action::GetHistoryCall,
        "get_history_call",
        Get,
        "/api/v1/history/{callId}",
        MEMBER,
        "read this call's history",
    ),
    row(
        Action::EraseHistoryUser,
        "erase_history_user",
        Delete,
        "/api/v1/history/users/{userId}",
        ADMIN,
        "erase a user from the call history",
    ),
    row(
        Action::RelayDeliveries,
        "relay_deliveries",
        Get,
        "/api/v1/relay/deliveries",
        ADMIN,
        "read the relay's delivery log",
    ),
    row(
        Action::Redeliver,
        "redeliver",
        Post,
        "/api/v1/relay/deliveries/{deliveryId}/redeliver",
        ADMIN,
        "redeliver relayed webhooks",
    ),
    row(
        Action::ReceiveTrtcEvent,
        "receive_trtc_event",
        Post,
        "/api/v1/webhooks/trtc",
        PROVEN,
        "deliver TRTC room and media events",
    ),
];

impl Action {
    pub fn spec(self) -> &'static Spec {
        &TABLE[self as usize]
    }

    /// Stable snake_case name, used in `ACTION_POLICY` and audit lines.
    pub fn as_str(self) -> &'static str {
        self.spec().name
    }

    pub fn all() -> impl Iterator<Item = Action> {
        TABLE.iter().map(|spec| spec.action)
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Action {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Action::all().find(|a| a.as_str() == s).ok_or(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_in_the_order_of_the_enum_and_names_round_trip() {
        for (index, spec) in TABLE.iter().enumerate() {
            assert_eq!(spec.action as usize, index, "{}", spec.name);
            assert_eq!(spec.name.parse::<Action>(), Ok(spec.action));
            assert!(spec.rules.contains(&spec.default_rule));
        }
        assert_eq!(Action::MintUserSig.to_string(), "mint_usersig");
    }

    #[test]
    fn method_and_path_name_one_action() {
        for (i, a) in TABLE.iter().enumerate() {
            for b in &TABLE[i + 1..] {
                assert!(
                    (a.method, a.path) != (b.method, b.path),
                    "{} and {}",
                    a.name,
                    b.name
                );
            }
        }
    }
}
