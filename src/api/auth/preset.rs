//! `JWT_PROVIDER` presets: one setting that gives a hosted identity
//! provider's JWKS URL, pinned algorithm, issuer, audience rule and token
//! header. Each value comes from the provider's own documentation, cited in
//! docs/identity-providers.md. Parsed once per isolate; the explicit
//! `JWT_*` settings override any part of it (see `config`).

use super::config::{AudienceRule, JwtAlg};
use super::token_header::TokenHeader;

/// What a preset fills in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preset {
    /// The provider's name as written in `JWT_PROVIDER` (and in `GET /api/v1/me`).
    pub provider: &'static str,
    pub jwks_url: String,
    pub alg: JwtAlg,
    pub issuer: String,
    /// `None`: the issuer alone pins the app (Clerk's keys are per instance).
    pub audience: Option<AudienceRule>,
    pub header: TokenHeader,
    /// The legacy shared secret (`JWT_SECRET`) may replace the JWKS.
    pub allows_secret: bool,
}

/// `provider:argument`, or why not (the caller names the setting).
pub fn parse(raw: &str) -> Result<Preset, String> {
    let (provider, arg) = raw.trim().split_once(':').ok_or_else(usage)?;
    match provider.to_ascii_lowercase().as_str() {
        "firebase" => firebase(arg),
        "supabase" => supabase(arg),
        "auth0" => auth0(arg),
        "clerk" => clerk(arg),
        "cognito" => cognito(arg),
        "cloudflare-access" => cloudflare_access(arg),
        _ => Err(usage()),
    }
}

fn usage() -> String {
    "must be one of firebase:<project-id>, supabase:<project-ref>, auth0:<tenant-domain>:<api-audience>, clerk:<frontend-api-domain>, cognito:<region>/<user-pool-id>:<app-client-id>, cloudflare-access:<team-domain>:<application-aud>".to_owned()
}

fn preset(provider: &'static str, jwks_url: String, issuer: String) -> Preset {
    Preset {
        provider,
        jwks_url,
        alg: JwtAlg::Rs256,
        issuer,
        audience: None,
        header: TokenHeader::Authorization,
        allows_secret: false,
    }
}

/// Google Cloud project IDs: 6–30 of `[a-z0-9-]`, a letter first, no hyphen last.
fn firebase(project: &str) -> Result<Preset, String> {
    let ok = (6..=30).contains(&project.len())
        && project.starts_with(|c: char| c.is_ascii_lowercase())
        && !project.ends_with('-')
        && project
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !ok {
        return Err(
            "firebase:<project-id> needs a Firebase project ID (6-30 of a-z, 0-9, -)".into(),
        );
    }
    Ok(Preset {
        audience: Some(AudienceRule::Aud(project.to_owned())),
        ..preset(
            "firebase",
            // Firebase's documented key URL: a map of key IDs to X.509 certificates.
            "https://www.googleapis.com/robot/v1/metadata/x509/securetoken@system.gserviceaccount.com".into(),
            format!("https://securetoken.google.com/{project}"),
        )
    })
}

/// The project ref is the first label of `<ref>.supabase.co`.
fn supabase(project_ref: &str) -> Result<Preset, String> {
    if !is_label(project_ref) {
        return Err(
            "supabase:<project-ref> needs the project ref (one DNS label of a-z, 0-9)".into(),
        );
    }
    let issuer = format!("https://{project_ref}.supabase.co/auth/v1");
    Ok(Preset {
        // Supabase recommends ES256 signing keys; an RS256 project sets JWT_ALG.
        alg: JwtAlg::Es256,
        audience: Some(AudienceRule::Aud("authenticated".into())),
        allows_secret: true,
        ..preset(
            "supabase",
            format!("{issuer}/.well-known/jwks.json"),
            issuer,
        )
    })
}

/// The API audience is often a URL, so everything after the domain is it.
fn auth0(arg: &str) -> Result<Preset, String> {
    let (domain, audience) = arg
        .split_once(':')
        .filter(|(d, a)| is_host(d) && is_token(a))
        .ok_or("auth0:<tenant-domain>:<api-audience> needs a domain and the API identifier")?;
    Ok(Preset {
        audience: Some(AudienceRule::Aud(audience.to_owned())),
        ..preset(
            "auth0",
            format!("https://{domain}/.well-known/jwks.json"),
            // Auth0's issuer ends with a slash.
            format!("https://{domain}/"),
        )
    })
}

/// Clerk's keys belong to one instance, whose Frontend API URL is the issuer;
/// its session tokens carry no `aud`.
fn clerk(domain: &str) -> Result<Preset, String> {
    if !is_host(domain) {
        return Err("clerk:<frontend-api-domain> needs the Frontend API host name".into());
    }
    let issuer = format!("https://{domain}");
    Ok(preset(
        "clerk",
        format!("{issuer}/.well-known/jwks.json"),
        issuer,
    ))
}

/// `cognito:<region>/<user-pool-id>:<app-client-id>`; the pool ID starts with its region.
fn cognito(arg: &str) -> Result<Preset, String> {
    const USAGE: &str = "cognito:<region>/<user-pool-id>:<app-client-id> needs a region (us-east-1), a pool ID in it (us-east-1_AbC123) and an app client ID";
    let (region, rest) = arg.split_once('/').ok_or(USAGE)?;
    let (pool, client) = rest.split_once(':').ok_or(USAGE)?;
    let pool_ok = pool
        .strip_prefix(region)
        .and_then(|p| p.strip_prefix('_'))
        .is_some_and(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric()));
    let client_ok = (1..=128).contains(&client.len())
        && client
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'+');
    if !(is_region(region) && pool_ok && client_ok) {
        return Err(USAGE.into());
    }
    let issuer = format!("https://cognito-idp.{region}.amazonaws.com/{pool}");
    Ok(Preset {
        audience: Some(AudienceRule::CognitoClient(client.to_owned())),
        ..preset("cognito", format!("{issuer}/.well-known/jwks.json"), issuer)
    })
}

fn cloudflare_access(arg: &str) -> Result<Preset, String> {
    let (team, aud) = arg
        .split_once(':')
        .filter(|(t, a)| is_host(t) && !a.is_empty() && a.bytes().all(|b| b.is_ascii_alphanumeric()))
        .ok_or("cloudflare-access:<team-domain>:<application-aud> needs the team domain (<team>.cloudflareaccess.com) and the application's AUD tag")?;
    let issuer = format!("https://{team}");
    Ok(Preset {
        audience: Some(AudienceRule::Aud(aud.to_owned())),
        header: TokenHeader::CfAccessJwtAssertion,
        ..preset(
            "cloudflare-access",
            format!("{issuer}/cdn-cgi/access/certs"),
            issuer,
        )
    })
}

/// One DNS label, lower case.
fn is_label(s: &str) -> bool {
    (1..=63).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

/// A host name with at least two labels of `[A-Za-z0-9-]`, no port.
fn is_host(s: &str) -> bool {
    let label = |l: &str| {
        (1..=63).contains(&l.len())
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    s.len() <= 253 && s.contains('.') && s.split('.').all(label)
}

/// An AWS region: `us-east-1`, `ap-southeast-2`, `us-gov-west-1`.
fn is_region(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() >= 3
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
        && parts[parts.len() - 1].bytes().all(|b| b.is_ascii_digit())
        && !parts[parts.len() - 1].is_empty()
}

/// A non-empty value with no white space or control characters.
fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_graphic())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_provider_gives_its_documented_endpoints() {
        let fb = parse("firebase:my-project-123").unwrap();
        assert_eq!(fb.issuer, "https://securetoken.google.com/my-project-123");
        assert_eq!(
            fb.audience,
            Some(AudienceRule::Aud("my-project-123".into()))
        );
        assert_eq!(
            (fb.alg, fb.header),
            (JwtAlg::Rs256, TokenHeader::Authorization)
        );
        assert_eq!(
            fb.jwks_url,
            "https://www.googleapis.com/robot/v1/metadata/x509/securetoken@system.gserviceaccount.com"
        );

        let sb = parse("supabase:abcdefghijklmnopqrst").unwrap();
        assert_eq!(
            sb.issuer,
            "https://abcdefghijklmnopqrst.supabase.co/auth/v1"
        );
        assert_eq!(sb.jwks_url, format!("{}/.well-known/jwks.json", sb.issuer));
        assert_eq!(sb.audience, Some(AudienceRule::Aud("authenticated".into())));
        assert_eq!(sb.alg, JwtAlg::Es256);
        assert!(sb.allows_secret);

        let a0 = parse("auth0:dev-abc.us.auth0.com:https://api.example.com/calls").unwrap();
        assert_eq!(a0.issuer, "https://dev-abc.us.auth0.com/");
        assert_eq!(
            a0.jwks_url,
            "https://dev-abc.us.auth0.com/.well-known/jwks.json"
        );
        assert_eq!(
            a0.audience,
            Some(AudienceRule::Aud("https://api.example.com/calls".into()))
        );

        let ck = parse("clerk:clerk.example.com").unwrap();
        assert_eq!(ck.issuer, "https://clerk.example.com");
        assert_eq!(
            ck.jwks_url,
            "https://clerk.example.com/.well-known/jwks.json"
        );
        assert_eq!(ck.audience, None);

        let cg = parse("cognito:us-east-1/us-east-1_AbC123xyz:1example23456789").unwrap();
        assert_eq!(
            cg.issuer,
            "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbC123xyz"
        );
        assert_eq!(cg.jwks_url, format!("{}/.well-known/jwks.json", cg.issuer));
        assert_eq!(
            cg.audience,
            Some(AudienceRule::CognitoClient("1example23456789".into()))
        );

        let cf = parse(&format!(
            "cloudflare-access:team.cloudflareaccess.com:{}",
            "a1".repeat(32)
        ))
        .unwrap();
        assert_eq!(cf.issuer, "https://team.cloudflareaccess.com");
        assert_eq!(
            cf.jwks_url,
            "https://team.cloudflareaccess.com/cdn-cgi/access/certs"
        );
        assert_eq!(cf.header, TokenHeader::CfAccessJwtAssertion);
        assert_eq!(cf.provider, "cloudflare-access");
        assert!(!cf.allows_secret);
    }

    #[test]
    fn malformed_arguments_are_refused_without_echoing_them() {
        for bad in [
            "",
            "firebase",
            "okta:dev.okta.com",
            "firebase:",
            "firebase:My-Project",
            "firebase:abc",
            "firebase:demo12-",
            "supabase:ab.cd",
            "supabase:Ref",
            "auth0:dev.auth0.com",
            "auth0:dev.auth0.com:",
            "auth0:localhost:api",
            "auth0:dev.auth0.com:has space",
            "clerk:",
            "clerk:https://clerk.example.com",
            "clerk:clerk.example.com:443",
            "cognito:us-east-1:client",
            "cognito:us-east-1/eu-west-1_AbC:client",
            "cognito:us-east-1/us-east-1_:client",
            "cognito:useast1/useast1_AbC:client",
            "cognito:us-east-1/us-east-1_AbC:",
            "cognito:us-east-1/us-east-1_AbC:bad/id",
            "cloudflare-access:team.cloudflareaccess.com",
            "cloudflare-access:team.cloudflareaccess.com:not-hex!",
            "cloudflare-access:team:abc",
        ] {
            let err = parse(bad).expect_err(bad);
            let arg = bad.split_once(':').map_or("", |(_, a)| a);
            assert!(arg.len() < 4 || !err.contains(arg), "{bad}: {err}");
        }
    }

    #[test]
    fn provider_names_are_case_insensitive() {
        assert_eq!(parse("Clerk:clerk.example.com").unwrap().provider, "clerk");
    }
}
