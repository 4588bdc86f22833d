//! Caller-authentication settings, read once per isolate through a getter so
//! tests can feed variables. Errors name the setting, never its value.

use std::fmt;

use callkit_core::secret::Secret;

use super::claim_path::{ClaimPath, PATH_RULE};
use super::identity::is_valid_user_id;
use super::preset::{self, Preset};
use super::token_header::TokenHeader;

pub use crate::platform::settings::names::{
    ADMIN_CLAIM, ADMIN_USERS, AUTH_MODE, JWT_ALG, JWT_AUDIENCE, JWT_HEADER, JWT_ISSUER,
    JWT_JWKS_REFRESH_SECS, JWT_JWKS_URL, JWT_LEEWAY_SECS, JWT_PROVIDER, JWT_SECRET, JWT_USER_CLAIM,
    SECRET_KEY as TENCENT_SECRET_KEY,
};
use crate::platform::settings::{optional, within, ConfigError, Get};

const DEFAULT_LEEWAY_SECS: u64 = 30;
const MAX_LEEWAY_SECS: u64 = 300;
const DEFAULT_JWKS_REFRESH_SECS: u64 = 300;
/// Bounds keep a typo from hammering the identity provider or freezing keys for days.
const JWKS_REFRESH_RANGE: std::ops::RangeInclusive<u64> = 30..=86_400;
/// RFC 7518 §3.2: an HS256 key must be at least as long as the hash output.
const MIN_HS256_SECRET_BYTES: usize = 32;

#[derive(Debug, Clone)]
pub struct AuthConfig {
    pub method: AuthMethod,
    /// Identities that are admins whatever their token says.
    pub admin_users: Vec<String>,
    /// The request header that carries the token.
    pub header: TokenHeader,
    /// `usersig`, `jwt`, or the `JWT_PROVIDER` preset's name.
    pub provider: &'static str,
}

#[derive(Debug, Clone)]
pub enum AuthMethod {
    UserSig(UserSigConfig),
    Jwt(JwtConfig),
}

#[derive(Debug, Clone)]
pub struct UserSigConfig {
    pub sdkappid: u64,
    pub secret_key: Secret,
}

#[derive(Debug, Clone)]
pub struct JwtConfig {
    pub alg: JwtAlg,
    pub keys: JwtKeys,
    pub issuer: Option<String>,
    pub audience: Option<AudienceRule>,
    pub leeway_secs: u64,
    pub admin_claim: Option<AdminClaim>,
    /// Where the caller's TUICallKit UserID is (`JWT_USER_CLAIM`, default `sub`).
    pub user_claim: ClaimPath,
}

/// Which claim must name this app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AudienceRule {
    /// `aud` equals the value, or is an array holding it.
    Aud(String),
    /// Cognito: an ID token (`token_use` `id`) has the app client ID in
    /// `aud`; an access token (`token_use` `access`) has it in `client_id`.
    CognitoClient(String),
}

impl From<&str> for AudienceRule {
    fn from(aud: &str) -> Self {
        Self::Aud(aud.to_owned())
    }
}

/// The one algorithm a deployment accepts; the token header never chooses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JwtAlg {
    Hs256,
    Rs256,
    Es256,
}

impl JwtAlg {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hs256 => "HS256",
            Self::Rs256 => "RS256",
            Self::Es256 => "ES256",
        }
    }

    fn parse(raw: &str) -> Option<Self> {
        match raw.to_ascii_uppercase().as_str() {
            "HS256" => Some(Self::Hs256),
            "RS256" => Some(Self::Rs256),
            "ES256" => Some(Self::Es256),
            _ => None,
        }
    }
}

#[derive(Clone)]
pub enum JwtKeys {
    Secret(Secret),
    Jwks { url: String, refresh_secs: u64 },
}

// The JWKS URL may carry provider-specific query tokens: keep it out of Debug.
impl fmt::Debug for JwtKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Secret(secret) => f.debug_tuple("Secret").field(secret).finish(),
            Self::Jwks { refresh_secs, .. } => f
                .debug_struct("Jwks")
                .field("url", &"[configured]")
                .field("refresh_secs", refresh_secs)
                .finish(),
        }
    }
}

/// `ADMIN_CLAIM=path=value`: the claim at the path equals the value, or is
/// an array holding it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminClaim {
    pub path: ClaimPath,
    pub value: String,
}

/// The app settings `usersig` mode verifies with, parsed once by the
/// platform config (`TencentConfig`) and lent here.
#[derive(Debug, Clone, Copy)]
pub struct AppKey<'a> {
    pub sdkappid: u64,
    /// `None` when the operator gave only a static admin UserSig.
    pub secret_key: Option<&'a Secret>,
}

impl AuthConfig {
    pub fn from_env(get: Get<'_>, app: AppKey<'_>) -> Result<Self, ConfigError> {
        let get = |name: &str| optional(get, name);
        let mode = get(AUTH_MODE).ok_or(ConfigError::Missing(AUTH_MODE))?;
        let admin_users = parse_admin_users(get(ADMIN_USERS))?;
        let (method, header, provider) = match mode.to_ascii_lowercase().as_str() {
            "usersig" => {
                let jwt_only = [ADMIN_CLAIM, JWT_PROVIDER, JWT_USER_CLAIM, JWT_HEADER];
                if let Some(name) = jwt_only.into_iter().find(|&name| get(name).is_some()) {
                    return Err(ConfigError::invalid(
                        name,
                        "only applies to AUTH_MODE=jwt; in usersig mode the UserSig names the caller and ADMIN_USERS the admins",
                    ));
                }
                let method = AuthMethod::UserSig(parse_usersig(app)?);
                (method, TokenHeader::Authorization, "usersig")
            }
            "jwt" => {
                let preset = get(JWT_PROVIDER)
                    .map(|raw| {
                        preset::parse(&raw).map_err(|r| ConfigError::invalid(JWT_PROVIDER, r))
                    })
                    .transpose()?;
                let header = token_header(&get, preset.as_ref())?;
                let provider = preset.as_ref().map_or("jwt", |p| p.provider);
                (AuthMethod::Jwt(parse_jwt(&get, preset)?), header, provider)
            }
            _ => {
                return Err(ConfigError::invalid(
                    AUTH_MODE,
                    "must be `usersig` or `jwt`",
                ))
            }
        };
        Ok(Self {
            method,
            admin_users,
            header,
            provider,
        })
    }

    /// Where the Worker glue fetches signing keys, in JWKS mode.
    pub fn jwks_url(&self) -> Option<&str> {
        match &self.method {
            AuthMethod::Jwt(JwtConfig {
                keys: JwtKeys::Jwks { url, .. },
                ..
            }) => Some(url),
            _ => None,
        }
    }
}

fn parse_usersig(app: AppKey<'_>) -> Result<UserSigConfig, ConfigError> {
    // The platform config refuses to start without a key or a static sig,
    // so a missing key here means only a static sig was given.
    let key = app.secret_key.ok_or_else(|| {
        ConfigError::invalid(
            TENCENT_SECRET_KEY,
            "AUTH_MODE=usersig needs the secret key; a static TENCENT_ADMIN_USERSIG cannot verify callers",
        )
    })?;
    Ok(UserSigConfig {
        sdkappid: app.sdkappid,
        secret_key: key.clone(),
    })
}

/// `JWT_HEADER`, else the preset's header, else `Authorization`.
fn token_header(
    get: &impl Fn(&str) -> Option<String>,
    preset: Option<&Preset>,
) -> Result<TokenHeader, ConfigError> {
    match get(JWT_HEADER) {
        Some(raw) => TokenHeader::parse(&raw).ok_or_else(|| {
            ConfigError::invalid(
                JWT_HEADER,
                "must be Authorization or Cf-Access-Jwt-Assertion",
            )
        }),
        None => Ok(preset.map_or(TokenHeader::Authorization, |p| p.header)),
    }
}

/// The explicit `JWT_*` settings, each overriding its part of the preset.
fn parse_jwt(
    get: &impl Fn(&str) -> Option<String>,
    preset: Option<Preset>,
) -> Result<JwtConfig, ConfigError> {
    let alg = get(JWT_ALG)
        .map(|raw| {
            JwtAlg::parse(&raw)
                .ok_or_else(|| ConfigError::invalid(JWT_ALG, "must be HS256, RS256 or ES256"))
        })
        .transpose()?;
    let issuer = get(JWT_ISSUER).or_else(|| preset.as_ref().map(|p| p.issuer.clone()));
    let audience = audience_rule(get(JWT_AUDIENCE), preset.as_ref());
    let pinned = (issuer.is_some(), audience.is_some());
    let (alg, keys) = signing_keys(get, preset.as_ref(), alg, pinned)?;
    Ok(JwtConfig {
        alg,
        keys,
        issuer,
        audience,
        leeway_secs: secs(
            get,
            JWT_LEEWAY_SECS,
            DEFAULT_LEEWAY_SECS,
            0..=MAX_LEEWAY_SECS,
        )?,
        admin_claim: get(ADMIN_CLAIM)
            .map(|raw| parse_admin_claim(&raw))
            .transpose()?,
        user_claim: get(JWT_USER_CLAIM)
            .map(|raw| {
                ClaimPath::parse(&raw)
                    .ok_or_else(|| ConfigError::invalid(JWT_USER_CLAIM, PATH_RULE))
            })
            .transpose()?
            .unwrap_or_default(),
    })
}

/// `JWT_SECRET`, or the keys at `JWT_JWKS_URL` or the preset's JWKS URL.
fn signing_keys(
    get: &impl Fn(&str) -> Option<String>,
    preset: Option<&Preset>,
    alg: Option<JwtAlg>,
    (has_issuer, has_audience): (bool, bool),
) -> Result<(JwtAlg, JwtKeys), ConfigError> {
    let (secret, url) = (get(JWT_SECRET), get(JWT_JWKS_URL));
    if secret.is_some() && preset.is_some_and(|p| !p.allows_secret) {
        return Err(ConfigError::invalid(
            JWT_SECRET,
            "this JWT_PROVIDER signs with its own keys; only supabase takes its legacy JWT secret",
        ));
    }
    if secret.is_some() && url.is_some() {
        return Err(ConfigError::invalid(
            JWT_SECRET,
            "set JWT_SECRET or JWT_JWKS_URL, not both",
        ));
    }
    match (secret, url.or_else(|| preset.map(|p| p.jwks_url.clone()))) {
        (None, None) => Err(ConfigError::Missing(
            "JWT_PROVIDER, JWT_JWKS_URL or JWT_SECRET",
        )),
        (Some(secret), _) => hs256(alg, secret),
        (None, Some(url)) => {
            // Clerk's keys sign one instance's tokens only: its issuer pins the app.
            let needs_audience = preset.is_none_or(|p| p.audience.is_some());
            let alg = alg.or(preset.map(|p| p.alg));
            jwks(get, alg, url, (has_issuer, has_audience || !needs_audience))
        }
    }
}

/// `JWT_AUDIENCE` replaces the preset's value and keeps its rule (for
/// Cognito, the app client ID in `aud` or `client_id`).
fn audience_rule(explicit: Option<String>, preset: Option<&Preset>) -> Option<AudienceRule> {
    let preset = preset.and_then(|p| p.audience.clone());
    match (explicit, preset) {
        (Some(value), Some(AudienceRule::CognitoClient(_))) => {
            Some(AudienceRule::CognitoClient(value))
        }
        (Some(value), _) => Some(AudienceRule::Aud(value)),
        (None, preset) => preset,
    }
}

/// A shared secret: HS256 only, and at least as long as the hash output.
fn hs256(alg: Option<JwtAlg>, secret: String) -> Result<(JwtAlg, JwtKeys), ConfigError> {
    if alg.is_some_and(|alg| alg != JwtAlg::Hs256) {
        return Err(ConfigError::invalid(
            JWT_ALG,
            "must be HS256 with JWT_SECRET",
        ));
    }
    if secret.len() < MIN_HS256_SECRET_BYTES {
        return Err(ConfigError::invalid(
            JWT_SECRET,
            format!("must be at least {MIN_HS256_SECRET_BYTES} bytes"),
        ));
    }
    Ok((JwtAlg::Hs256, JwtKeys::Secret(Secret::new(secret))))
}

/// An identity provider's keys: RS256 or ES256 from a safe URL, with the
/// issuer and audience pinned (`pinned`: whether each is), since such keys
/// usually sign tokens for many apps and without iss/aud any of them would
/// pass here.
fn jwks(
    get: &impl Fn(&str) -> Option<String>,
    alg: Option<JwtAlg>,
    url: String,
    (issuer_pinned, audience_pinned): (bool, bool),
) -> Result<(JwtAlg, JwtKeys), ConfigError> {
    let alg = alg.ok_or(ConfigError::Missing(JWT_ALG))?;
    if alg == JwtAlg::Hs256 {
        return Err(ConfigError::invalid(
            JWT_ALG,
            "must be RS256 or ES256 with JWT_JWKS_URL",
        ));
    }
    if !is_acceptable_jwks_url(&url) {
        return Err(ConfigError::invalid(
            JWT_JWKS_URL,
            "must be an https:// URL (http:// only for localhost)",
        ));
    }
    if !issuer_pinned {
        return Err(ConfigError::Missing(JWT_ISSUER));
    }
    if !audience_pinned {
        return Err(ConfigError::Missing(JWT_AUDIENCE));
    }
    let refresh_secs = secs(
        get,
        JWT_JWKS_REFRESH_SECS,
        DEFAULT_JWKS_REFRESH_SECS,
        JWKS_REFRESH_RANGE,
    )?;
    Ok((alg, JwtKeys::Jwks { url, refresh_secs }))
}

fn secs(
    get: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: u64,
    range: std::ops::RangeInclusive<u64>,
) -> Result<u64, ConfigError> {
    within(get, name, default, range, "seconds")
}

fn parse_admin_users(raw: Option<String>) -> Result<Vec<String>, ConfigError> {
    let Some(raw) = raw else {
        return Ok(Vec::new());
    };
    let mut users = Vec::new();
    for (index, entry) in raw.split(',').map(str::trim).enumerate() {
        if entry.is_empty() {
            continue;
        }
        if !is_valid_user_id(entry) {
            return Err(ConfigError::invalid(
                ADMIN_USERS,
                format!(
                    "entry {} is not a valid UserID (1-32 printable ASCII bytes)",
                    index + 1
                ),
            ));
        }
        users.push(entry.to_owned());
    }
    Ok(users)
}

/// `path=value`, split at the first `=` outside a bracketed name.
fn parse_admin_claim(raw: &str) -> Result<AdminClaim, ConfigError> {
    let mut bracketed = false;
    let split = raw.char_indices().find(|&(_, c)| {
        match c {
            '[' => bracketed = true,
            ']' => bracketed = false,
            _ => {}
        }
        c == '=' && !bracketed
    });
    let (path, value) = split
        .map(|(i, _)| (&raw[..i], raw[i + 1..].trim()))
        .filter(|(_, v)| !v.is_empty())
        .ok_or_else(|| ConfigError::invalid(ADMIN_CLAIM, "must look like claim=value"))?;
    let path = ClaimPath::parse(path)
        .ok_or_else(|| ConfigError::invalid(ADMIN_CLAIM, format!("its claim {PATH_RULE}")))?;
    Ok(AdminClaim {
        path,
        value: value.to_owned(),
    })
}

/// https with a host; plain http only to a loopback host (localhost,
/// 127.0.0.0/8, [::1]); never user info. Read strictly (see
/// `callkit_core::credential_url`), so the host checked is the host fetched:
/// `http://localhost:80@idp.example/` is refused.
fn is_acceptable_jwks_url(raw: &str) -> bool {
    callkit_core::credential_url::check(raw, true).is_ok()
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::platform::settings::names::{
        ADMIN_USERSIG as TENCENT_ADMIN_USERSIG, SDKAPPID as TENCENT_SDKAPPID,
    };

    const SECRET_32: &str = "0123456789abcdef0123456789abcdef";

    fn parse(vars: &[(&str, &str)]) -> Result<AuthConfig, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let key = map.get(TENCENT_SECRET_KEY).map(|k| Secret::new(k.as_str()));
        let app = AppKey {
            sdkappid: 1_400_000_000,
            secret_key: key.as_ref(),
        };
        AuthConfig::from_env(&|name| map.get(name).cloned(), app)
    }

    fn jwt(vars: &[(&str, &str)]) -> JwtConfig {
        match parse(vars).expect("valid config").method {
            AuthMethod::Jwt(cfg) => cfg,
            AuthMethod::UserSig(_) => panic!("expected jwt mode"),
        }
    }

    #[test]
    fn auth_mode_is_required_and_closed() {
        assert_eq!(parse(&[]).unwrap_err(), ConfigError::Missing(AUTH_MODE));
        assert_eq!(
            parse(&[(AUTH_MODE, "  ")]).unwrap_err(),
            ConfigError::Missing(AUTH_MODE)
        );
        for bad in ["none", "off", "disabled", "anonymous"] {
            assert_eq!(parse(&[(AUTH_MODE, bad)]).unwrap_err().setting(), AUTH_MODE);
        }
    }

    #[test]
    fn usersig_mode_needs_appid_and_secret_key() {
        let ok = parse(&[
            (AUTH_MODE, "usersig"),
            (TENCENT_SDKAPPID, "1400000000"),
            (TENCENT_SECRET_KEY, "k"),
            (ADMIN_USERS, "root, ops ,"),
        ])
        .unwrap();
        assert_eq!(ok.admin_users, vec!["root".to_owned(), "ops".to_owned()]);
        let AuthMethod::UserSig(cfg) = ok.method else {
            panic!("expected usersig mode")
        };
        assert_eq!(cfg.sdkappid, 1_400_000_000);
        assert_eq!(cfg.secret_key.expose(), "k");

        let static_only = parse(&[
            (AUTH_MODE, "usersig"),
            (TENCENT_SDKAPPID, "1400000000"),
            (TENCENT_ADMIN_USERSIG, "eJy-static"),
        ])
        .unwrap_err();
        assert_eq!(static_only.setting(), TENCENT_SECRET_KEY);
        assert!(static_only.to_string().contains("TENCENT_ADMIN_USERSIG"));
        assert!(!static_only.to_string().contains("eJy-static"));

        let claim_in_usersig = parse(&[
            (AUTH_MODE, "usersig"),
            (TENCENT_SDKAPPID, "1"),
            (TENCENT_SECRET_KEY, "k"),
            (ADMIN_CLAIM, "role=admin"),
        ]);
        assert_eq!(claim_in_usersig.unwrap_err().setting(), ADMIN_CLAIM);
    }

    #[test]
    fn jwt_secret_defaults_to_hs256() {
        let cfg = jwt(&[(AUTH_MODE, "jwt"), (JWT_SECRET, SECRET_32)]);
        assert_eq!(cfg.alg, JwtAlg::Hs256);
        assert_eq!(cfg.leeway_secs, 30);
        assert!(cfg.issuer.is_none() && cfg.audience.is_none() && cfg.admin_claim.is_none());
        assert!(!format!("{cfg:?}").contains(SECRET_32));
    }

    #[test]
    fn jwt_secret_rules() {
        let short = parse(&[(AUTH_MODE, "jwt"), (JWT_SECRET, "short")]).unwrap_err();
        assert_eq!(short.setting(), JWT_SECRET);
        assert!(!short.to_string().contains("short\""));
        let rs_with_secret = parse(&[
            (AUTH_MODE, "jwt"),
            (JWT_SECRET, SECRET_32),
            (JWT_ALG, "RS256"),
        ]);
        assert_eq!(rs_with_secret.unwrap_err().setting(), JWT_ALG);
        let unknown_alg = parse(&[
            (AUTH_MODE, "jwt"),
            (JWT_SECRET, SECRET_32),
            (JWT_ALG, "none"),
        ]);
        assert_eq!(unknown_alg.unwrap_err().setting(), JWT_ALG);
        assert_eq!(
            parse(&[(AUTH_MODE, "jwt")]).unwrap_err(),
            ConfigError::Missing("JWT_PROVIDER, JWT_JWKS_URL or JWT_SECRET")
        );
        let both = parse(&[
            (AUTH_MODE, "jwt"),
            (JWT_SECRET, SECRET_32),
            (JWT_JWKS_URL, "https://id.example/jwks"),
        ]);
        assert_eq!(both.unwrap_err().setting(), JWT_SECRET);
    }

    #[test]
    fn jwks_needs_alg_issuer_audience_and_a_safe_url() {
        let base = [
            (AUTH_MODE, "jwt"),
            (JWT_JWKS_URL, "https://id.example/.well-known/jwks.json"),
            (JWT_ALG, "ES256"),
            (JWT_ISSUER, "https://id.example/"),
            (JWT_AUDIENCE, "callkit"),
        ];
        let cfg = jwt(&base);
        assert_eq!(cfg.alg, JwtAlg::Es256);
        assert!(matches!(
            cfg.keys,
            JwtKeys::Jwks {
                refresh_secs: 300,
                ..
            }
        ));
        assert!(!format!("{cfg:?}").contains("id.example/.well-known"));

        let without = |skip: &str| {
            let vars: Vec<_> = base.iter().copied().filter(|(k, _)| *k != skip).collect();
            parse(&vars).unwrap_err()
        };
        assert_eq!(without(JWT_ALG), ConfigError::Missing(JWT_ALG));
        assert_eq!(without(JWT_ISSUER), ConfigError::Missing(JWT_ISSUER));
        assert_eq!(without(JWT_AUDIENCE), ConfigError::Missing(JWT_AUDIENCE));

        let with = |k: &'static str, v: &'static str| {
            let mut vars: Vec<_> = base.iter().copied().filter(|(n, _)| *n != k).collect();
            vars.push((k, v));
            parse(&vars)
        };
        assert_eq!(with(JWT_ALG, "HS256").unwrap_err().setting(), JWT_ALG);
        assert_eq!(
            with(JWT_JWKS_URL, "http://id.example/jwks")
                .unwrap_err()
                .setting(),
            JWT_JWKS_URL
        );
        assert_eq!(
            with(JWT_JWKS_URL, "ftp://x").unwrap_err().setting(),
            JWT_JWKS_URL
        );
        assert!(with(JWT_JWKS_URL, "http://127.0.0.1:8787/jwks").is_ok());
        assert!(with(JWT_JWKS_URL, "http://localhost/jwks").is_ok());
        assert_eq!(
            with(JWT_JWKS_URL, "https://user:pw@id.example/jwks")
                .unwrap_err()
                .setting(),
            JWT_JWKS_URL
        );
        assert_eq!(
            with(JWT_JWKS_REFRESH_SECS, "5").unwrap_err().setting(),
            JWT_JWKS_REFRESH_SECS
        );
        assert!(with(JWT_JWKS_REFRESH_SECS, "60").is_ok());
    }

    #[test]
    fn leeway_is_bounded() {
        let with = |v| {
            parse(&[
                (AUTH_MODE, "jwt"),
                (JWT_SECRET, SECRET_32),
                (JWT_LEEWAY_SECS, v),
            ])
        };
        let AuthMethod::Jwt(cfg) = with("300").unwrap().method else {
            panic!("expected jwt mode")
        };
        assert_eq!(cfg.leeway_secs, 300);
        assert!(with("0").is_ok());
        assert_eq!(with("301").unwrap_err().setting(), JWT_LEEWAY_SECS);
        assert_eq!(with("-1").unwrap_err().setting(), JWT_LEEWAY_SECS);
    }

    #[test]
    fn admin_settings_are_validated() {
        let cfg = jwt(&[
            (AUTH_MODE, "jwt"),
            (JWT_SECRET, SECRET_32),
            (ADMIN_CLAIM, "roles = admin"),
        ]);
        assert_eq!(
            cfg.admin_claim,
            Some(AdminClaim {
                path: ClaimPath::parse("roles").unwrap(),
                value: "admin".into()
            })
        );
        for bad in ["roles", "=admin", "roles="] {
            let err = parse(&[
                (AUTH_MODE, "jwt"),
                (JWT_SECRET, SECRET_32),
                (ADMIN_CLAIM, bad),
            ]);
            assert_eq!(err.unwrap_err().setting(), ADMIN_CLAIM);
        }
        let long = "x".repeat(33);
        let err = parse(&[
            (AUTH_MODE, "jwt"),
            (JWT_SECRET, SECRET_32),
            (ADMIN_USERS, &format!("ok,{long}")),
        ])
        .unwrap_err();
        assert_eq!(err.setting(), ADMIN_USERS);
        assert!(err.to_string().contains("entry 2"));
        assert!(!err.to_string().contains(&long));
    }

    const COGNITO: &str = "cognito:eu-west-1/eu-west-1_AbC123:3n4b5urk1ft4fl3mg5e62d9ado";

    fn with_preset(
        preset: &str,
        extra: &[(&'static str, &'static str)],
    ) -> Result<AuthConfig, ConfigError> {
        let mut vars = vec![(AUTH_MODE, "jwt"), (JWT_PROVIDER, preset)];
        vars.extend_from_slice(extra);
        parse(&vars)
    }

    fn preset_jwt(preset: &str, extra: &[(&'static str, &'static str)]) -> JwtConfig {
        match with_preset(preset, extra).expect("valid preset").method {
            AuthMethod::Jwt(cfg) => cfg,
            AuthMethod::UserSig(_) => panic!("expected jwt mode"),
        }
    }

    fn jwks_url(cfg: &JwtConfig) -> &str {
        match &cfg.keys {
            JwtKeys::Jwks { url, .. } => url,
            JwtKeys::Secret(_) => panic!("expected a JWKS"),
        }
    }

    #[test]
    fn a_preset_alone_is_a_complete_jwks_setup() {
        let config = with_preset(COGNITO, &[]).unwrap();
        assert_eq!(config.provider, "cognito");
        assert_eq!(config.header, TokenHeader::Authorization);
        let AuthMethod::Jwt(cfg) = config.method else {
            panic!("expected jwt mode")
        };
        assert_eq!(cfg.alg, JwtAlg::Rs256);
        assert_eq!(
            cfg.issuer.as_deref(),
            Some("https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123")
        );
        assert_eq!(
            jwks_url(&cfg),
            "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123/.well-known/jwks.json"
        );
        assert_eq!(
            cfg.audience,
            Some(AudienceRule::CognitoClient(
                "3n4b5urk1ft4fl3mg5e62d9ado".into()
            ))
        );
        assert!(cfg.user_claim.is_sub());
        // Clerk pins its instance by the issuer alone: no audience is needed.
        let clerk = preset_jwt("clerk:clerk.example.com", &[]);
        assert_eq!(clerk.audience, None);
        let cf = with_preset("cloudflare-access:team.cloudflareaccess.com:0a1b2c", &[]).unwrap();
        assert_eq!(cf.header, TokenHeader::CfAccessJwtAssertion);
        assert_eq!(cf.provider, "cloudflare-access");
        // Hand-made settings keep the name `jwt`.
        let plain = parse(&[(AUTH_MODE, "jwt"), (JWT_SECRET, SECRET_32)]).unwrap();
        assert_eq!(
            (plain.provider, plain.header),
            ("jwt", TokenHeader::Authorization)
        );
    }

    #[test]
    fn explicit_settings_override_each_part_of_the_preset() {
        let cfg = preset_jwt(
            "supabase:abcdefghijklmnopqrst",
            &[
                (JWT_JWKS_URL, "http://127.0.0.1:9/.well-known/jwks.json"),
                (JWT_ALG, "RS256"),
                (JWT_ISSUER, "https://auth.example.com/auth/v1"),
                (JWT_AUDIENCE, "callkit"),
            ],
        );
        assert_eq!(jwks_url(&cfg), "http://127.0.0.1:9/.well-known/jwks.json");
        assert_eq!(cfg.alg, JwtAlg::Rs256);
        assert_eq!(
            cfg.issuer.as_deref(),
            Some("https://auth.example.com/auth/v1")
        );
        assert_eq!(cfg.audience, Some(AudienceRule::Aud("callkit".into())));
        // For Cognito the override is the client ID, still accepted in aud or client_id.
        let cognito = preset_jwt(COGNITO, &[(JWT_AUDIENCE, "otherclient")]);
        assert_eq!(
            cognito.audience,
            Some(AudienceRule::CognitoClient("otherclient".into()))
        );
        let header = with_preset(
            "cloudflare-access:team.cloudflareaccess.com:0a1b2c",
            &[(JWT_HEADER, "authorization")],
        );
        assert_eq!(header.unwrap().header, TokenHeader::Authorization);
        let header = parse(&[
            (AUTH_MODE, "jwt"),
            (JWT_SECRET, SECRET_32),
            (JWT_HEADER, "Cf-Access-Jwt-Assertion"),
        ]);
        assert_eq!(header.unwrap().header, TokenHeader::CfAccessJwtAssertion);
    }

    #[test]
    fn supabase_keeps_its_legacy_secret_and_other_presets_refuse_one() {
        let legacy = preset_jwt("supabase:abcdefghijklmnopqrst", &[(JWT_SECRET, SECRET_32)]);
        assert_eq!(legacy.alg, JwtAlg::Hs256);
        assert!(matches!(legacy.keys, JwtKeys::Secret(_)));
        assert_eq!(
            legacy.issuer.as_deref(),
            Some("https://abcdefghijklmnopqrst.supabase.co/auth/v1")
        );
        assert_eq!(
            legacy.audience,
            Some(AudienceRule::Aud("authenticated".into()))
        );
        let err = with_preset(
            "auth0:dev.auth0.com:https://api",
            &[(JWT_SECRET, SECRET_32)],
        );
        assert_eq!(err.unwrap_err().setting(), JWT_SECRET);
        let both = with_preset(
            "supabase:abcdefghijklmnopqrst",
            &[
                (JWT_SECRET, SECRET_32),
                (JWT_JWKS_URL, "https://x.example/jwks"),
            ],
        );
        assert_eq!(both.unwrap_err().setting(), JWT_SECRET);
    }

    #[test]
    fn bad_presets_and_paths_are_start_up_errors_naming_the_setting() {
        for (name, vars) in [
            (JWT_PROVIDER, vec![(JWT_PROVIDER, "okta:dev.okta.com")]),
            (
                JWT_PROVIDER,
                vec![(JWT_PROVIDER, "cognito:us-east-1/eu-west-1_x:c")],
            ),
            (
                JWT_PROVIDER,
                vec![(JWT_PROVIDER, "auth0:tenant-without-audience.auth0.com")],
            ),
            (
                JWT_HEADER,
                vec![(JWT_SECRET, SECRET_32), (JWT_HEADER, "X-Token")],
            ),
            (
                JWT_USER_CLAIM,
                vec![
                    (JWT_SECRET, SECRET_32),
                    (JWT_USER_CLAIM, "app_metadata..tuid"),
                ],
            ),
            (
                JWT_USER_CLAIM,
                vec![
                    (JWT_SECRET, SECRET_32),
                    (JWT_USER_CLAIM, "[https://x.example/tuid"),
                ],
            ),
            (
                ADMIN_CLAIM,
                vec![(JWT_SECRET, SECRET_32), (ADMIN_CLAIM, "a..b=admin")],
            ),
            (
                JWT_ALG,
                vec![
                    (JWT_PROVIDER, "clerk:clerk.example.com"),
                    (JWT_ALG, "HS256"),
                ],
            ),
            (
                JWT_JWKS_URL,
                vec![
                    (JWT_PROVIDER, "clerk:clerk.example.com"),
                    (JWT_JWKS_URL, "http://idp.example/jwks"),
                ],
            ),
        ] {
            let mut all = vec![(AUTH_MODE, "jwt")];
            all.extend(vars);
            let err = parse(&all).unwrap_err();
            assert_eq!(err.setting(), name, "{all:?}: {err}");
            assert!(!err.to_string().contains("dev.okta.com"), "{err}");
        }
        for name in [JWT_PROVIDER, JWT_USER_CLAIM, JWT_HEADER] {
            let err = parse(&[
                (AUTH_MODE, "usersig"),
                (TENCENT_SECRET_KEY, "k"),
                (name, "clerk:clerk.example.com"),
            ]);
            assert_eq!(err.unwrap_err().setting(), name);
        }
    }

    #[test]
    fn user_and_admin_claims_take_dotted_and_bracketed_paths() {
        let cfg = jwt(&[
            (AUTH_MODE, "jwt"),
            (JWT_SECRET, SECRET_32),
            (JWT_USER_CLAIM, "[https://example.com/tuid]"),
            (ADMIN_CLAIM, "[https://example.com/roles]=callkit-admin"),
        ]);
        assert_eq!(
            cfg.user_claim,
            ClaimPath::parse("[https://example.com/tuid]").unwrap()
        );
        assert_eq!(
            cfg.admin_claim,
            Some(AdminClaim {
                path: ClaimPath::parse("[https://example.com/roles]").unwrap(),
                value: "callkit-admin".into(),
            })
        );
        // `=` inside brackets belongs to the name.
        let cfg = jwt(&[
            (AUTH_MODE, "jwt"),
            (JWT_SECRET, SECRET_32),
            (ADMIN_CLAIM, "[a=b].role = admin"),
        ]);
        assert_eq!(
            cfg.admin_claim.unwrap().path,
            ClaimPath::parse("[a=b].role").unwrap()
        );
    }

    /// Issue 10 defect 3: the host checked must be the host fetched.
    #[test]
    fn plain_http_jwks_only_to_a_loopback_host() {
        for ok in [
            "http://localhost/jwks",
            "http://LOCALHOST:8787/jwks",
            "http://127.0.0.1:8787/.well-known/jwks.json",
            "http://127.9.9.9/jwks",
            "http://[::1]:8080/jwks",
            "https://id.example/jwks?tenant=x",
            "https://id.example:8443/jwks",
        ] {
            assert!(is_acceptable_jwks_url(ok), "{ok}");
        }
        for bad in [
            "http://localhost:80@idp.example/jwks",
            "http://localhost@idp.example/jwks",
            "http://127.0.0.1:80@idp.example/jwks",
            "http://[::1]@idp.example/jwks",
            "http://localhost.idp.example/jwks",
            "http://127.0.0.1.idp.example/jwks",
            "http://idp.example/jwks#@localhost",
            "http://idp.example/jwks?x=@localhost",
            "http://10.0.0.1/jwks",
            "http://[::2]/jwks",
            "https://user@id.example/jwks",
            "https://",
            "ftp://localhost/jwks",
            "file:///etc/jwks.json",
            "localhost/jwks",
            "not a url",
        ] {
            assert!(!is_acceptable_jwks_url(bad), "{bad}");
        }
    }
}
