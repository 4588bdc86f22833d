//! The app's Tencent admin accounts: names a user must never get a UserSig
//! for, because any admin account's UserSig has full REST rights.

use callkit_core::user_id::is_valid_user_id;

use super::settings::{names, optional, ConfigError};

/// Tencent allows at most 10 admin accounts per app.
const MAX_ADMIN_ACCOUNTS: usize = 10;

/// Every admin account of the app, the configured identifier always among them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminAccounts(Vec<String>);

impl AdminAccounts {
    /// Reads `TENCENT_ADMIN_ACCOUNTS` (comma-separated) and adds `identifier`.
    pub fn from_getter(
        get: &dyn Fn(&str) -> Option<String>,
        identifier: &str,
    ) -> Result<Self, ConfigError> {
        let invalid = |reason: &str| ConfigError::Invalid {
            name: names::ADMIN_ACCOUNTS,
            reason: reason.to_owned(),
        };
        let mut accounts = vec![identifier.to_owned()];
        let listed = optional(get, names::ADMIN_ACCOUNTS).unwrap_or_default();
        for entry in listed.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            if !is_valid_user_id(entry) {
                return Err(invalid(
                    "each entry must be a UserID of 1-32 printable ASCII characters",
                ));
            }
            if !accounts.iter().any(|a| a.eq_ignore_ascii_case(entry)) {
                accounts.push(entry.to_owned());
            }
        }
        if accounts.len() > MAX_ADMIN_ACCOUNTS {
            return Err(invalid("Tencent allows at most 10 admin accounts"));
        }
        Ok(Self(accounts))
    }

    /// Whether a UserSig for `user_id` would be an admin credential. Tencent
    /// matches account names without regard to ASCII case, and a name with
    /// surrounding spaces may be trimmed on the way, so both count as a match.
    pub fn covers(&self, user_id: &str) -> bool {
        let trimmed = user_id.trim_matches(|c: char| c.is_ascii_whitespace());
        trimmed.len() != user_id.len() || self.0.iter().any(|a| a.eq_ignore_ascii_case(trimmed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accounts(listed: Option<&str>) -> Result<AdminAccounts, ConfigError> {
        let listed = listed.map(str::to_owned);
        AdminAccounts::from_getter(
            &|name| {
                (name == names::ADMIN_ACCOUNTS)
                    .then(|| listed.clone())
                    .flatten()
            },
            "administrator",
        )
    }

    #[test]
    fn the_identifier_alone_by_default() {
        let a = accounts(None).unwrap();
        assert!(a.covers("administrator"));
        assert!(!a.covers("alice"));
    }

    #[test]
    fn every_listed_account_in_any_ascii_case() {
        let a = accounts(Some(" ops-root , Backup_Admin,")).unwrap();
        for id in [
            "administrator",
            "ADMINISTRATOR",
            "Administrator",
            "ops-root",
            "OPS-ROOT",
            "backup_admin",
        ] {
            assert!(a.covers(id), "{id}");
        }
        assert!(!a.covers("ops-root2"));
        assert!(!a.covers("alice"));
    }

    #[test]
    fn surrounding_spaces_are_refused() {
        let a = accounts(None).unwrap();
        for id in [" administrator", "administrator ", " alice", "alice "] {
            assert!(a.covers(id), "{id:?}");
        }
        assert!(!a.covers("al ice"));
    }

    #[test]
    fn bad_lists_name_the_setting_only() {
        let eleven = (0..11)
            .map(|i| format!("a{i}"))
            .collect::<Vec<_>>()
            .join(",");
        for bad in [eleven.as_str(), "ok,bad\tid", &"x".repeat(33)] {
            let err = accounts(Some(bad)).unwrap_err().to_string();
            assert!(err.contains("TENCENT_ADMIN_ACCOUNTS"), "{err}");
            assert!(!err.contains("bad\tid") && !err.contains("a10"), "{err}");
        }
    }
}
