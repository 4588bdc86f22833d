//! Per-action access policy: who may call which edge-API action.
//!
//! Defaults and the rules allowed per action are in the action table
//! (`super::actions`, listed in README.md, Edge API); operators override them in one variable,
//! `ACTION_POLICY` (e.g. `end_call=admin,start_call=off`), validated at startup.

use std::str::FromStr;

pub use super::actions::Action;
use super::actions::TABLE;
use super::auth::Identity;

pub use crate::platform::settings::names::ACTION_POLICY;
use crate::platform::settings::{optional, ConfigError, Get};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// No authentication (health, openapi only).
    Public,
    /// A participant of the call or record, or an admin.
    Member,
    Admin,
    /// Any signed-in user, acting on themself only.
    SelfOnly,
    /// The action is disabled.
    Off,
}

impl Rule {
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::Public => "public",
            Rule::Member => "member",
            Rule::Admin => "admin",
            Rule::SelfOnly => "self",
            Rule::Off => "off",
        }
    }
}

impl FromStr for Rule {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [
            Rule::Public,
            Rule::Member,
            Rule::Admin,
            Rule::SelfOnly,
            Rule::Off,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
        .ok_or(())
    }
}

/// What a signed-in caller may do (an action that is off never gets here),
/// from the loosest to the strictest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Decision {
    Allow,
    /// Allowed only if the caller is a member of the call or record: ask upstream.
    NeedsMembership,
    /// Not permitted (403).
    Deny,
}

/// Keeps operator typos readable in the error without echoing a long value.
fn excerpt(s: &str) -> String {
    s.chars().take(40).collect()
}

fn refused(reason: String) -> ConfigError {
    ConfigError::invalid(ACTION_POLICY, reason)
}

/// One `action=rule` entry, checked against what the action table allows.
fn override_of(entry: &str) -> Result<(Action, Rule), ConfigError> {
    let (name, rule) = entry
        .split_once('=')
        .map(|(n, r)| (n.trim(), r.trim()))
        .ok_or_else(|| {
            refused(format!(
                "entry {:?} is not of the form action=rule",
                excerpt(entry)
            ))
        })?;
    let action = name
        .to_ascii_lowercase()
        .parse::<Action>()
        .map_err(|_| refused(format!("names unknown action {:?}", excerpt(name))))?;
    let rule = rule.to_ascii_lowercase().parse::<Rule>().map_err(|_| {
        refused(format!(
            "gives unknown rule {:?} for {action} (use member, admin, self or off)",
            excerpt(rule)
        ))
    })?;
    let allowed = action.spec().rules;
    if allowed == [Rule::Public] {
        return Err(refused(format!(
            "cannot change {action}: it is always public"
        )));
    }
    if !allowed.contains(&rule) {
        return Err(refused(format!(
            "rule `{}` is not allowed for {action}",
            rule.as_str()
        )));
    }
    Ok((action, rule))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    rules: [Rule; TABLE.len()],
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            rules: TABLE.each_ref().map(|spec| spec.default_rule),
        }
    }
}

impl Policy {
    pub fn from_env(get: Get<'_>) -> Result<Self, ConfigError> {
        Self::parse(&optional(get, ACTION_POLICY).unwrap_or_default())
    }

    /// Defaults with the overrides in `spec` applied.
    pub fn parse(spec: &str) -> Result<Self, ConfigError> {
        let mut policy = Self::default();
        let mut seen = Vec::new();
        for entry in spec.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (action, rule) = override_of(entry)?;
            if seen.contains(&action) {
                return Err(refused(format!("sets {action} more than once")));
            }
            seen.push(action);
            policy.rules[action as usize] = rule;
        }
        Ok(policy)
    }

    pub fn rule(&self, action: Action) -> Rule {
        self.rules[action as usize]
    }

    /// The decision for a signed-in `caller`. A live ticket opens the board
    /// that `live_calls` shows, so it is never looser than that rule.
    pub fn decide(&self, action: Action, caller: &Identity) -> Decision {
        let own = self.decide_one(action, caller);
        if action == Action::LiveTicket {
            return own.max(self.decide_one(Action::LiveCalls, caller));
        }
        own
    }

    fn decide_one(&self, action: Action, caller: &Identity) -> Decision {
        match self.rule(action) {
            Rule::Public | Rule::SelfOnly => Decision::Allow,
            Rule::Admin | Rule::Member if caller.is_admin() => Decision::Allow,
            Rule::Member => Decision::NeedsMembership,
            Rule::Admin | Rule::Off => Decision::Deny,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user() -> Identity {
        Identity::new("alice", false).unwrap()
    }

    fn admin() -> Identity {
        Identity::new("root", true).unwrap()
    }

    #[test]
    fn defaults_follow_the_readme_policy_table() {
        let p = Policy::default();
        let (u, a) = (user(), admin());
        for action in [
            Action::Health,
            Action::OpenApi,
            Action::ReceiveWebhook,
            Action::LiveSocket,
        ] {
            assert_eq!(p.rule(action), Rule::Public);
        }
        for action in [
            Action::GetCall,
            Action::EndCall,
            Action::GetRecord,
            Action::LiveCalls,
            Action::LiveTicket,
        ] {
            assert_eq!(p.decide(action, &u), Decision::NeedsMembership);
            assert_eq!(p.decide(action, &a), Decision::Allow);
        }
        for action in [
            Action::StartCall,
            Action::ListRecords,
            Action::GetCallback,
            Action::SetCallback,
            Action::DeleteCallback,
        ] {
            assert_eq!(p.decide(action, &u), Decision::Deny);
            assert_eq!(p.decide(action, &a), Decision::Allow);
        }
        assert_eq!(p.decide(Action::MintUserSig, &u), Decision::Allow);
        assert_eq!(p.decide(Action::Me, &u), Decision::Allow);
        assert_eq!(Policy::parse("").unwrap(), p);
    }

    #[test]
    fn history_defaults_members_to_their_own_calls_and_the_rest_to_admins() {
        let p = Policy::default();
        let (u, a) = (user(), admin());
        for action in [
            Action::ListHistory,
            Action::HistoryStats,
            Action::GetHistoryCall,
        ] {
            assert_eq!(p.decide(action, &u), Decision::NeedsMembership);
            assert_eq!(p.decide(action, &a), Decision::Allow);
        }
        for action in [
            Action::ExportHistory,
            Action::StartBackfill,
            Action::BackfillStatus,
            Action::EraseHistoryUser,
        ] {
            assert_eq!(p.decide(action, &u), Decision::Deny);
            assert_eq!(p.decide(action, &a), Decision::Allow);
        }
        let off = Policy::parse("export_history=off,list_history=admin").unwrap();
        assert_eq!(off.rule(Action::ExportHistory), Rule::Off);
        assert_eq!(off.decide(Action::ListHistory, &u), Decision::Deny);
    }

    #[test]
    fn overrides_apply() {
        let p =
            Policy::parse(" end_call=admin, start_call=off ,get_record=ADMIN,mint_usersig=admin,")
                .unwrap();
        assert_eq!(p.decide(Action::EndCall, &user()), Decision::Deny);
        assert_eq!(p.decide(Action::EndCall, &admin()), Decision::Allow);
        assert_eq!(p.rule(Action::StartCall), Rule::Off);
        assert_eq!(p.decide(Action::StartCall, &admin()), Decision::Deny);
        assert_eq!(p.rule(Action::GetRecord), Rule::Admin);
        assert_eq!(p.decide(Action::MintUserSig, &user()), Decision::Deny);
        assert_eq!(p.rule(Action::GetCall), Rule::Member);
        let env =
            Policy::from_env(&|k| (k == ACTION_POLICY).then(|| "list_records=off".to_owned()))
                .unwrap();
        assert_eq!(env.rule(Action::ListRecords), Rule::Off);
    }

    #[test]
    fn a_live_ticket_is_never_looser_than_live_calls() {
        let p = Policy::parse("live_calls=admin").unwrap();
        assert_eq!(p.rule(Action::LiveTicket), Rule::Member);
        assert_eq!(p.decide(Action::LiveTicket, &user()), Decision::Deny);
        assert_eq!(p.decide(Action::LiveTicket, &admin()), Decision::Allow);
        let p = Policy::parse("live_calls=off").unwrap();
        assert_eq!(p.decide(Action::LiveTicket, &admin()), Decision::Deny);
        let p = Policy::parse("live_ticket=admin").unwrap();
        assert_eq!(
            p.decide(Action::LiveCalls, &user()),
            Decision::NeedsMembership
        );
    }

    fn reason(spec: &str) -> String {
        match Policy::parse(spec) {
            Err(ConfigError::Invalid { name, reason }) => {
                assert_eq!(name, ACTION_POLICY);
                reason
            }
            other => panic!("{spec}: {other:?}"),
        }
    }

    #[test]
    fn every_validation_error() {
        for (spec, want) in [
            (
                "end_call",
                "entry \"end_call\" is not of the form action=rule",
            ),
            ("hang_up=admin", "names unknown action \"hang_up\""),
            (
                "end_call=owner",
                "gives unknown rule \"owner\" for end_call (use member, admin, self or off)",
            ),
            (
                "list_records=member",
                "rule `member` is not allowed for list_records",
            ),
            (
                "get_call=public",
                "rule `public` is not allowed for get_call",
            ),
            (
                "start_call=self",
                "rule `self` is not allowed for start_call",
            ),
            (
                "mint_usersig=member",
                "rule `member` is not allowed for mint_usersig",
            ),
            (
                "receive_webhook=admin",
                "rule `admin` is not allowed for receive_webhook",
            ),
            ("health=off", "cannot change health: it is always public"),
            (
                "openapi=public",
                "cannot change openapi: it is always public",
            ),
            (
                "end_call=admin,end_call=off",
                "sets end_call more than once",
            ),
        ] {
            assert_eq!(reason(spec), want, "{spec}");
        }
        let err = Policy::parse("end_call=admin,list_records=member").unwrap_err();
        assert_eq!(
            err.to_string(),
            "setting ACTION_POLICY is invalid: rule `member` is not allowed for list_records"
        );
        let long = format!("{}=admin", "x".repeat(200));
        assert!(Policy::parse(&long).unwrap_err().to_string().len() < 120);
    }
}
