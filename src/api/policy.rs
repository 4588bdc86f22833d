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

/// What a signed-in caller may do (an action that is off never gets here).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow,
    /// Allowed only if the caller is a member of the call or record: ask upstream.
    NeedsMembership,
    /// Not permitted (403).
    Deny,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("ACTION_POLICY entry {entry:?} is not of the form action=rule")]
    Malformed { entry: String },
    #[error("ACTION_POLICY names unknown action {action:?}")]
    UnknownAction { action: String },
    #[error(
        "ACTION_POLICY gives unknown rule {rule:?} for {action} (use member, admin, self or off)"
    )]
    UnknownRule { action: Action, rule: String },
    #[error("ACTION_POLICY rule `{rule}` is not allowed for {action}")]
    RuleNotAllowed { action: Action, rule: &'static str },
    #[error("ACTION_POLICY cannot change {action}: it is always public")]
    NotOverridable { action: Action },
    #[error("ACTION_POLICY sets {action} more than once")]
    Duplicate { action: Action },
}

/// Keeps operator typos readable in the error without echoing a long value.
fn excerpt(s: &str) -> String {
    s.chars().take(40).collect()
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
            .map_err(|e| ConfigError::invalid(ACTION_POLICY, e.to_string()))
    }

    /// Defaults with the overrides in `spec` applied.
    pub fn parse(spec: &str) -> Result<Self, PolicyError> {
        let mut policy = Self::default();
        let mut seen = Vec::new();
        for entry in spec.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (name, rule) = entry
                .split_once('=')
                .map(|(n, r)| (n.trim(), r.trim()))
                .ok_or_else(|| PolicyError::Malformed {
                    entry: excerpt(entry),
                })?;
            let action = name.to_ascii_lowercase().parse::<Action>().map_err(|_| {
                PolicyError::UnknownAction {
                    action: excerpt(name),
                }
            })?;
            if seen.contains(&action) {
                return Err(PolicyError::Duplicate { action });
            }
            seen.push(action);
            let rule = rule.to_ascii_lowercase().parse::<Rule>().map_err(|_| {
                PolicyError::UnknownRule {
                    action,
                    rule: excerpt(rule),
                }
            })?;
            let allowed = action.spec().rules;
            if allowed == [Rule::Public] {
                return Err(PolicyError::NotOverridable { action });
            }
            if !allowed.contains(&rule) {
                return Err(PolicyError::RuleNotAllowed {
                    action,
                    rule: rule.as_str(),
                });
            }
            policy.rules[action as usize] = rule;
        }
        Ok(policy)
    }

    pub fn rule(&self, action: Action) -> Rule {
        self.rules[action as usize]
    }

    /// The decision for a signed-in `caller`.
    pub fn decide(&self, action: Action, caller: &Identity) -> Decision {
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
        assert_eq!(Policy::parse("").unwrap(), p);
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
    fn every_validation_error() {
        assert_eq!(
            Policy::parse("end_call"),
            Err(PolicyError::Malformed {
                entry: "end_call".into()
            })
        );
        assert_eq!(
            Policy::parse("hang_up=admin"),
            Err(PolicyError::UnknownAction {
                action: "hang_up".into()
            })
        );
        assert_eq!(
            Policy::parse("end_call=owner"),
            Err(PolicyError::UnknownRule {
                action: Action::EndCall,
                rule: "owner".into()
            })
        );
        assert_eq!(
            Policy::parse("list_records=member"),
            Err(PolicyError::RuleNotAllowed {
                action: Action::ListRecords,
                rule: "member"
            })
        );
        assert_eq!(
            Policy::parse("get_call=public"),
            Err(PolicyError::RuleNotAllowed {
                action: Action::GetCall,
                rule: "public"
            })
        );
        assert_eq!(
            Policy::parse("start_call=self"),
            Err(PolicyError::RuleNotAllowed {
                action: Action::StartCall,
                rule: "self"
            })
        );
        assert_eq!(
            Policy::parse("mint_usersig=member"),
            Err(PolicyError::RuleNotAllowed {
                action: Action::MintUserSig,
                rule: "member"
            })
        );
        assert_eq!(
            Policy::parse("health=off"),
            Err(PolicyError::NotOverridable {
                action: Action::Health
            })
        );
        assert_eq!(
            Policy::parse("openapi=public"),
            Err(PolicyError::NotOverridable {
                action: Action::OpenApi
            })
        );
        assert_eq!(
            Policy::parse("end_call=admin,end_call=off"),
            Err(PolicyError::Duplicate {
                action: Action::EndCall
            })
        );
        let err = Policy::parse("end_call=admin,list_records=member").unwrap_err();
        assert_eq!(
            err.to_string(),
            "ACTION_POLICY rule `member` is not allowed for list_records"
        );
        let long = format!("{}=admin", "x".repeat(200));
        assert!(Policy::parse(&long).unwrap_err().to_string().len() < 120);
    }
}
