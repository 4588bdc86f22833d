//! The checks every v4 request passes before its command runs, in the order
//! the server applies them: sdkappid, contenttype, random, admin, UserSig,
//! rate limit.

use super::answer::Refusal;
use crate::app::App;
use crate::counters::slot;
use callkit_core::command::Command;
use callkit_core::request::RequestQuery;
use std::sync::Arc;
use std::time::Instant;

pub fn admit<'a>(
    query: &RequestQuery,
    app: Option<&'a Arc<App>>,
    command: Command,
    now_secs: u64,
    now: Instant,
) -> Result<&'a Arc<App>, Refusal> {
    let Some(sdkappid) = query.sdkappid.as_deref() else {
        return Err(Refusal::new(60012, "sdkappid is missing from the URL"));
    };
    let app = match (sdkappid.parse::<u64>(), app) {
        (Ok(_), Some(app)) => app,
        _ => return Err(Refusal::new(60006, "SDKAppID invalid")),
    };
    if query.contenttype.as_deref() != Some("json") {
        return Err(Refusal::new(60002, "contenttype must be json"));
    }
    if query
        .random
        .as_deref()
        .and_then(|r| r.parse::<u32>().ok())
        .is_none()
    {
        return Err(Refusal::new(
            60002,
            "random must be an unsigned 32-bit integer",
        ));
    }
    let identifier = query.identifier.as_deref().unwrap_or_default();
    if !app.is_admin(identifier) {
        return Err(Refusal::new(
            60010,
            "the request needs App administrator permission",
        ));
    }
    let usersig = query.usersig.as_deref().unwrap_or_default();
    app.verify_usersig(usersig, identifier, now_secs)
        .map_err(|e| Refusal::new(e.tencent_code(), e.to_string()))?;
    if !app.limiter.try_acquire(slot(command), now) {
        return Err(Refusal::new(
            60007,
            "REST API call frequency over the limit",
        ));
    }
    Ok(app)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{AppConfig, DEMO_KEY, DEMO_SDKAPPID};
    use callkit_core::request::parse_query;
    use callkit_core::usersig::mint_now;

    const NOW: u64 = 1_750_000_000;

    fn app(rate: u32) -> Arc<App> {
        Arc::new(App::new(&AppConfig::demo(), rate, 0))
    }

    fn sig(identifier: &str) -> String {
        mint_now(DEMO_KEY, DEMO_SDKAPPID, identifier, 3600, NOW)
    }

    fn query(
        sdkappid: &str,
        identifier: &str,
        usersig: &str,
        random: &str,
        ct: &str,
    ) -> RequestQuery {
        parse_query(&format!(
            "sdkappid={sdkappid}&identifier={identifier}&usersig={usersig}&random={random}&contenttype={ct}"
        ))
    }

    fn code(q: &RequestQuery, app: Option<&Arc<App>>) -> i64 {
        match admit(q, app, Command::GetCallInfo, NOW, Instant::now()) {
            Ok(_) => 0,
            Err(r) => r.code,
        }
    }

    #[test]
    fn each_check_in_order() {
        let a = app(0);
        let good = sig("administrator");
        assert_eq!(
            code(
                &query("1400000000", "administrator", &good, "1", "json"),
                Some(&a)
            ),
            0
        );
        assert_eq!(
            code(&parse_query("identifier=administrator"), Some(&a)),
            60012
        );
        assert_eq!(
            code(&query("abc", "administrator", &good, "1", "json"), Some(&a)),
            60006
        );
        assert_eq!(
            code(
                &query("1400000001", "administrator", &good, "1", "json"),
                None
            ),
            60006
        );
        assert_eq!(
            code(
                &query("1400000000", "administrator", &good, "1", "xml"),
                Some(&a)
            ),
            60002
        );
        assert_eq!(
            code(
                &query("1400000000", "administrator", &good, "4294967296", "json"),
                Some(&a)
            ),
            60002
        );
        assert_eq!(
            code(
                &query("1400000000", "administrator", &good, "-1", "json"),
                Some(&a)
            ),
            60002
        );
        assert_eq!(
            code(
                &query("1400000000", "alice", &sig("alice"), "1", "json"),
                Some(&a)
            ),
            60010
        );
        assert_eq!(
            code(
                &query("1400000000", "administrator", "bogus", "1", "json"),
                Some(&a)
            ),
            70003
        );
        // Earlier checks win: a bad sdkappid hides a bad sig.
        assert_eq!(
            code(&query("x", "alice", "bogus", "x", "xml"), Some(&a)),
            60006
        );
    }

    #[test]
    fn usersig_codes() {
        let a = app(0);
        let q = |s: &str| query("1400000000", "administrator", s, "7", "json");
        let expired = mint_now(DEMO_KEY, DEMO_SDKAPPID, "administrator", 10, NOW - 100);
        assert_eq!(code(&q(&expired), Some(&a)), 70001);
        let other_key = mint_now("k", DEMO_SDKAPPID, "administrator", 3600, NOW);
        assert_eq!(code(&q(&other_key), Some(&a)), 70009);
        let other_app = mint_now(DEMO_KEY, 1, "administrator", 3600, NOW);
        assert_eq!(code(&q(&other_app), Some(&a)), 70014);
        assert_eq!(code(&q(&sig("ops")), Some(&a)), 70013);
    }

    #[test]
    fn rate_limit_comes_last() {
        let a = app(1);
        let q = query(
            "1400000000",
            "administrator",
            &sig("administrator"),
            "1",
            "json",
        );
        assert_eq!(code(&q, Some(&a)), 0);
        assert_eq!(code(&q, Some(&a)), 60007);
        // A refused sig does not spend a token... and is refused first.
        assert_eq!(
            code(
                &query("1400000000", "administrator", "bad", "1", "json"),
                Some(&a)
            ),
            70003
        );
    }
}
