//! Validation of `#[auth_backend]` options into a checked model. Every problem is an
//! error spanned at the value that causes it, with the fix in the message.

use darling::Error;
use proc_macro2::Span;

use super::parse::{BackendArgs, CookieArgs, KeyArg, KeyKind, LifetimeArg, TransportArg};
use crate::suggest::closest;

/// The algorithms warden signs with, and each HMAC's least secret length in bytes
/// (RFC 7518 §3.2). Mirrors `warden_runtime::Algorithm`.
const ALGORITHMS: [(&str, usize); 12] = [
    ("HS256", 32),
    ("HS384", 48),
    ("HS512", 64),
    ("RS256", 0),
    ("RS384", 0),
    ("RS512", 0),
    ("PS256", 0),
    ("PS384", 0),
    ("PS512", 0),
    ("ES256", 0),
    ("ES384", 0),
    ("EdDSA", 0),
];

pub(crate) const DEFAULT_AUDIENCE: &str = "fastapi-users:auth";
const STRATEGIES: [&str; 4] = ["jwt", "database", "redis", "api_key"];
pub(crate) const DEFAULT_SECRET_ENV: &str = "WARDEN_SECRET";

pub(crate) enum Lifetime {
    Seconds(u64),
    Forever,
}

pub(crate) enum Transport {
    Bearer,
    Cookie(Cookie),
    /// A request header of this name: API keys only.
    Header(String),
}

/// A validated cookie transport; defaults are FastAPI Users' `CookieTransport`'s.
pub(crate) struct Cookie {
    pub name: String,
    pub max_age: Option<u64>,
    pub path: String,
    pub domain: Option<String>,
    pub secure: bool,
    pub http_only: bool,
    /// `Lax`, `Strict` or `None`: the runtime's `SameSite` variant.
    pub same_site: &'static str,
}

pub(crate) struct Key {
    pub kind: KeyKind,
    pub value: String,
}

/// Where tokens come from.
pub(crate) enum Strategy {
    Jwt,
    Database,
    Redis(Key),
    /// API keys in the store's database: no login, so no lifetime or session.
    ApiKey,
}

/// The default maximum session age: 7 days.
const DEFAULT_MAX_SESSION_AGE: u64 = 7 * 24 * 3600;

/// A backend whose options are all valid.
pub(crate) struct Backend {
    pub name: String,
    pub lifetime: Lifetime,
    pub algorithm: &'static str,
    pub secret: Key,
    pub public_key: Option<Key>,
    pub verify_keys: Vec<Key>,
    pub audience: Vec<String>,
    pub transport: Transport,
    pub strategy: Strategy,
    pub refresh: Option<u64>,
    pub max_session_age: Option<u64>,
    pub krate: syn::Path,
}

impl Backend {
    pub(crate) fn validate(args: BackendArgs, item: &syn::ItemStruct) -> darling::Result<Self> {
        let mut errors = Error::accumulator();
        if !matches!(item.fields, syn::Fields::Unit) {
            errors.push(
                Error::custom(format!(
                    "#[auth_backend] goes on a unit struct: write `struct {};`",
                    item.ident
                ))
                .with_span(&item.fields),
            );
        }
        if !item.generics.params.is_empty() {
            errors
                .push(Error::custom("an auth backend cannot be generic").with_span(&item.generics));
        }

        let secret_span = args.secret.as_ref().map(|key| key.span);
        let public_key_span = args.public_key.as_ref().map(|key| key.span);
        let verify_keys_span = args.verify_keys.as_ref().map(|list| list.span);
        let audience_span = args.audience.as_ref().map(|audience| audience.span);

        let name = match &args.name {
            Some(name) => {
                if !is_url_segment(name) {
                    errors.push(
                        Error::custom(format!(
                            "backend name `{}` must be a URL path segment of a-z, 0-9, `_` and `-` (it becomes /auth/{{name}}/login)",
                            name.as_str()
                        ))
                        .with_span(&name.span()),
                    );
                }
                name.as_str().to_owned()
            }
            None => "jwt".to_owned(),
        };

        let api_key = args
            .strategy
            .as_ref()
            .is_some_and(|s| s.as_str() == "api_key");
        let lifetime = match args.lifetime {
            // Each key gets its own expiry when it is created (`expires_in_days`).
            Some(lifetime) if api_key => {
                errors.push(
                    Error::custom("API keys have no backend lifetime: each key is given its own when created (`expires_in_days` of POST /users/me/api-keys), and is revoked at DELETE /users/me/api-keys/{key_id}; remove `lifetime`")
                        .with_span(&lifetime.span()),
                );
                Lifetime::Forever
            }
            None if api_key => Lifetime::Forever,
            Some(LifetimeArg::Seconds(0, span)) => {
                errors.push(
                    Error::custom("lifetime must be greater than zero; write `lifetime = forever` for tokens that never expire")
                        .with_span(&span),
                );
                Lifetime::Forever
            }
            Some(LifetimeArg::Seconds(seconds, _)) => Lifetime::Seconds(seconds),
            Some(LifetimeArg::Forever(_)) => Lifetime::Forever,
            None => {
                errors.push(
                    Error::custom(
                        "missing option `lifetime`: add `lifetime = 3600` (seconds), or `lifetime = forever` for tokens that never expire",
                    )
                    .with_span(&item.ident),
                );
                Lifetime::Forever
            }
        };

        let (algorithm, min_secret) = match &args.algorithm {
            None => ALGORITHMS[0],
            Some(alg) => match ALGORITHMS.iter().find(|(name, _)| *name == alg.as_str()) {
                Some(found) => *found,
                None => {
                    errors.push(unknown_algorithm(alg.as_str(), alg.span()));
                    ALGORITHMS[0]
                }
            },
        };
        let hmac = algorithm.starts_with("HS");
        let algorithm_span = args
            .algorithm
            .as_ref()
            .map_or_else(Span::call_site, |a| a.span());

        let secret = match args.secret {
            Some(secret) => {
                check_key(&mut errors, &secret, "secret");
                if hmac && secret.kind == KeyKind::Literal && secret.value.len() < min_secret {
                    errors.push(
                        Error::custom(format!(
                            "{algorithm} needs a secret of at least {min_secret} bytes (RFC 7518 §3.2), this one has {}; better, read it at startup: secret = env(\"{DEFAULT_SECRET_ENV}\")",
                            secret.value.len()
                        ))
                        .with_span(&secret.span),
                    );
                }
                Key {
                    kind: secret.kind,
                    value: secret.value,
                }
            }
            None => Key {
                kind: KeyKind::Env,
                value: DEFAULT_SECRET_ENV.into(),
            },
        };

        let public_key = match args.public_key {
            Some(key) if hmac => {
                errors.push(
                    Error::custom(format!(
                        "{algorithm} verifies with the secret itself; remove `public_key`, or choose an asymmetric algorithm such as \"RS256\""
                    ))
                    .with_span(&key.span),
                );
                None
            }
            Some(key) => {
                check_key(&mut errors, &key, "public_key");
                Some(Key {
                    kind: key.kind,
                    value: key.value,
                })
            }
            None if !hmac => {
                errors.push(
                    Error::custom(format!(
                        "{algorithm} needs `public_key` to verify tokens: add public_key = file(\"keys/public.pem\") or public_key = env(\"VAR\")"
                    ))
                    .with_span(&algorithm_span),
                );
                None
            }
            None => None,
        };

        let verify_keys = match args.verify_keys {
            Some(list) if hmac => {
                errors.push(
                    Error::custom(format!(
                        "{algorithm} has no public keys to rotate: verify_keys needs an asymmetric algorithm such as \"RS256\"; remove it"
                    ))
                    .with_span(&list.span),
                );
                Vec::new()
            }
            Some(list) => {
                if list.keys.is_empty() {
                    errors.push(
                        Error::custom("verify_keys lists the public keys verified besides public_key: write verify_keys = [file(\"keys/next.pem\")], or remove it")
                            .with_span(&list.span),
                    );
                }
                list.keys
                    .into_iter()
                    .map(|key| {
                        check_key(&mut errors, &key, "verify_keys");
                        Key {
                            kind: key.kind,
                            value: key.value,
                        }
                    })
                    .collect()
            }
            None => Vec::new(),
        };

        let audience = match args.audience {
            Some(audience) => {
                if audience.values.is_empty() {
                    errors.push(
                        Error::custom(format!(
                            "audience must not be empty; the default is [\"{DEFAULT_AUDIENCE}\"]"
                        ))
                        .with_span(&audience.span),
                    );
                }
                for (value, span) in &audience.values {
                    if value.is_empty() {
                        errors.push(Error::custom("an audience must not be empty").with_span(span));
                    }
                }
                audience
                    .values
                    .into_iter()
                    .map(|(value, _)| value)
                    .collect()
            }
            None => vec![DEFAULT_AUDIENCE.to_owned()],
        };
        let transport = match args.transport {
            None | Some(TransportArg::Bearer) => Transport::Bearer,
            Some(TransportArg::Cookie(_)) if api_key => {
                errors.push(
                    Error::custom("an API key does not travel in a cookie: a browser would send it by itself with any site's requests (CSRF), and a key is for machine clients; use transport = bearer (the default) or transport = header(\"X-API-Key\")")
                        .with_span(&item.ident),
                );
                Transport::Bearer
            }
            Some(TransportArg::Cookie(cookie)) => {
                Transport::Cookie(validate_cookie(&mut errors, cookie))
            }
            Some(TransportArg::Header(name, span)) => {
                if !api_key {
                    errors.push(
                        Error::custom("transport = header(...) carries API keys: add strategy = \"api_key\", or use transport = bearer for tokens from a login")
                            .with_span(&span),
                    );
                } else if !is_header_name(&name) {
                    errors.push(
                        Error::custom(format!("`{name}` is not a header name: use letters, digits and `-`, e.g. header(\"X-API-Key\")"))
                            .with_span(&span),
                    );
                } else if ["authorization", "cookie", "host"]
                    .contains(&name.to_ascii_lowercase().as_str())
                {
                    errors.push(
                        Error::custom(format!("`{name}` is not for an API key of its own: use transport = bearer for `Authorization: Bearer`, or a header such as header(\"X-API-Key\")"))
                            .with_span(&span),
                    );
                }
                Transport::Header(name)
            }
        };

        let strategy = match &args.strategy {
            None => Strategy::Jwt,
            Some(kind) => match kind.as_str() {
                "jwt" => Strategy::Jwt,
                "database" => Strategy::Database,
                "api_key" => Strategy::ApiKey,
                "redis" => Strategy::Redis(match &args.redis_url {
                    Some(url) => {
                        check_key(&mut errors, url, "redis_url");
                        Key {
                            kind: url.kind,
                            value: url.value.clone(),
                        }
                    }
                    None => Key {
                        kind: KeyKind::Env,
                        value: "WARDEN_REDIS_URL".into(),
                    },
                }),
                other => {
                    let suggestion = closest(other, &STRATEGIES)
                        .map(|s| format!("did you mean \"{s}\"? "))
                        .unwrap_or_default();
                    errors.push(
                        Error::custom(format!(
                            "unknown strategy \"{other}\"; {suggestion}expected \"jwt\" (signed tokens, the default), \"database\" (opaque tokens in the user store's database), \"redis\" (opaque tokens in Redis) or \"api_key\" (API keys users create)"
                        ))
                        .with_span(&kind.span()),
                    );
                    Strategy::Jwt
                }
            },
        };
        if let (Some(url), false) = (&args.redis_url, matches!(strategy, Strategy::Redis(_))) {
            errors.push(
                Error::custom("redis_url is for strategy = \"redis\": add it, or remove redis_url")
                    .with_span(&url.span),
            );
        }
        if !matches!(strategy, Strategy::Jwt) {
            // Opaque tokens are random strings looked up in storage: nothing signs them.
            let signing: [(&str, Option<Span>); 5] = [
                ("algorithm", args.algorithm.as_ref().map(|a| a.span())),
                ("secret", secret_span),
                ("public_key", public_key_span),
                ("verify_keys", verify_keys_span),
                ("audience", audience_span),
            ];
            for (option, span) in signing {
                if let Some(span) = span {
                    errors.push(
                        Error::custom(format!(
                            "`{option}` is for signed tokens; this backend's tokens are opaque (strategy = \"{}\"): remove it",
                            args.strategy.as_ref().map(|s| s.as_str().to_owned()).unwrap_or_default()
                        ))
                        .with_span(&span),
                    );
                }
            }
        }

        if api_key {
            // No login: nothing to refresh, no session to age.
            for (option, span) in [
                ("refresh", args.refresh.as_ref().map(|s| s.span)),
                (
                    "max_session_age",
                    args.max_session_age.as_ref().map(|s| s.span),
                ),
            ] {
                if let Some(span) = span {
                    errors.push(
                        Error::custom(format!(
                            "`{option}` is for sessions, and an API key backend signs no one in (no login, logout or refresh route): remove it; a key ends when it expires or is revoked"
                        ))
                        .with_span(&span),
                    );
                }
            }
            let krate = args
                .krate
                .map_or_else(|| syn::parse_quote!(::warden), |krate| krate.0);
            return errors.finish_with(Self {
                name,
                lifetime,
                algorithm,
                secret,
                public_key,
                verify_keys,
                audience,
                transport,
                strategy,
                refresh: None,
                max_session_age: None,
                krate,
            });
        }
        let forever = matches!(lifetime, Lifetime::Forever);
        let refresh = match &args.refresh {
            Some(seconds) if seconds.value == 0 => {
                errors.push(
                    Error::custom("refresh must be greater than zero: the refresh tokens' lifetime in seconds, e.g. refresh = 1209600 (14 days)")
                        .with_span(&seconds.span),
                );
                None
            }
            Some(seconds) if forever => {
                errors.push(
                    Error::custom("tokens of `lifetime = forever` never need refreshing: give a lifetime in seconds, or remove `refresh`")
                        .with_span(&seconds.span),
                );
                None
            }
            Some(seconds) if matches!(transport, Transport::Cookie(_)) => {
                errors.push(
                    Error::custom("refresh tokens travel in the bearer JSON (RFC 6749 §5.1): use transport = bearer, or remove `refresh`")
                        .with_span(&seconds.span),
                );
                None
            }
            Some(seconds) => Some(seconds.value),
            None => None,
        };
        let max_session_age = match &args.max_session_age {
            Some(age) if age.value == 0 => {
                errors.push(
                    Error::custom("max_session_age must be greater than zero: the most a login lasts, in seconds (default 604800, 7 days)")
                        .with_span(&age.span),
                );
                None
            }
            Some(age) if forever => {
                errors.push(
                    Error::custom("tokens of `lifetime = forever` have no session age: give a lifetime in seconds, or remove `max_session_age`")
                        .with_span(&age.span),
                );
                None
            }
            Some(age) => {
                if let Lifetime::Seconds(lifetime) = lifetime
                    && age.value < lifetime
                {
                    errors.push(
                        Error::custom(format!(
                            "max_session_age ({} s) is shorter than lifetime ({lifetime} s): a session must outlast its tokens",
                            age.value
                        ))
                        .with_span(&age.span),
                    );
                }
                if let Some(refresh) = refresh
                    && refresh > age.value
                {
                    errors.push(
                        Error::custom(format!(
                            "refresh ({refresh} s) outlives max_session_age ({} s): raise max_session_age or lower refresh",
                            age.value
                        ))
                        .with_span(&age.span),
                    );
                }
                Some(age.value)
            }
            None if forever => None,
            None => {
                if let (Some(refresh), Some(seconds)) = (refresh, &args.refresh)
                    && refresh > DEFAULT_MAX_SESSION_AGE
                {
                    errors.push(
                        Error::custom(format!(
                            "refresh ({refresh} s) outlives the default max_session_age ({DEFAULT_MAX_SESSION_AGE} s, 7 days): add max_session_age = {refresh} or more, or lower refresh"
                        ))
                        .with_span(&seconds.span),
                    );
                }
                Some(DEFAULT_MAX_SESSION_AGE)
            }
        };

        let krate = args
            .krate
            .map_or_else(|| syn::parse_quote!(::warden), |krate| krate.0);
        errors.finish_with(Self {
            name,
            lifetime,
            algorithm,
            secret,
            public_key,
            verify_keys,
            audience,
            transport,
            strategy,
            refresh,
            max_session_age,
            krate,
        })
    }
}

fn unknown_algorithm(given: &str, span: Span) -> Error {
    if given.eq_ignore_ascii_case("none") {
        return Error::custom(
            "algorithm \"none\" would accept unsigned tokens and is never allowed (RFC 8725 §3.1); use \"HS256\" or an asymmetric algorithm",
        )
        .with_span(&span);
    }
    let names: Vec<&str> = ALGORITHMS.iter().map(|(name, _)| *name).collect();
    let suggestion = closest(given, &names)
        .map(|s| format!("did you mean \"{s}\"? "))
        .unwrap_or_default();
    Error::custom(format!(
        "unknown algorithm \"{given}\"; {suggestion}expected one of {}",
        names.join(", ")
    ))
    .with_span(&span)
}

/// Whether a name can be a URL path segment: `[a-z0-9_-]+`.
pub(crate) fn is_url_segment(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

pub(crate) fn check_key(errors: &mut darling::error::Accumulator, key: &KeyArg, option: &str) {
    match key.kind {
        KeyKind::Env if key.value.is_empty() => {
            errors.push(
                Error::custom(format!(
                    "{option} = env(\"\") needs a variable name, e.g. env(\"WARDEN_SECRET\")"
                ))
                .with_span(&key.span),
            );
        }
        KeyKind::Env => {
            let mut chars = key.value.chars();
            let valid = chars
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !valid {
                errors.push(
                    Error::custom(format!(
                        "`{}` is not an environment variable name; {option} = env(\"...\") takes a name like \"WARDEN_SECRET\"",
                        key.value
                    ))
                    .with_span(&key.span),
                );
            }
        }
        KeyKind::File if key.value.is_empty() => {
            errors.push(
                Error::custom(format!("{option} = file(\"...\") needs a path"))
                    .with_span(&key.span),
            );
        }
        KeyKind::Literal if key.value.is_empty() => {
            errors.push(Error::custom(format!("{option} must not be empty")).with_span(&key.span));
        }
        _ => {}
    }
}

/// A header name we accept: letters, digits and `-` (a subset of RFC 9110's token).
fn is_header_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// RFC 6265 §4.1.1: a cookie name is an RFC 7230 token.
fn is_cookie_token(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

fn validate_cookie(errors: &mut darling::error::Accumulator, args: CookieArgs) -> Cookie {
    let mut cookie = Cookie {
        name: "fastapiusersauth".into(),
        max_age: None,
        path: "/".into(),
        domain: None,
        secure: true,
        http_only: true,
        same_site: "Lax",
    };
    if let Some((name, span)) = args.name {
        if !is_cookie_token(&name) {
            errors.push(
                Error::custom(format!(
                    "cookie name `{name}` is not a valid cookie name: use letters, digits and `-_.`"
                ))
                .with_span(&span),
            );
        }
        cookie.name = name;
    }
    if let Some((seconds, span)) = args.max_age {
        if seconds == 0 {
            errors.push(
                Error::custom(
                    "max_age must be greater than zero; leave it out for a session cookie",
                )
                .with_span(&span),
            );
        }
        cookie.max_age = Some(seconds);
    }
    if let Some((path, span)) = args.path {
        if !path.starts_with('/') || path.contains(';') || path.chars().any(char::is_control) {
            errors.push(
                Error::custom("cookie path must start with `/` and contain no `;`")
                    .with_span(&span),
            );
        }
        cookie.path = path;
    }
    if let Some((domain, span)) = args.domain {
        if domain.is_empty()
            || domain.contains([';', ' ', ','])
            || domain.chars().any(char::is_control)
        {
            errors.push(
                Error::custom("cookie domain must be a host name, e.g. \"example.com\"")
                    .with_span(&span),
            );
        }
        cookie.domain = Some(domain);
    }
    if let Some((secure, _)) = args.secure {
        cookie.secure = secure;
    }
    if let Some((http_only, _)) = args.http_only {
        cookie.http_only = http_only;
    }
    if let Some((same_site, span)) = args.same_site {
        cookie.same_site = match same_site.to_ascii_lowercase().as_str() {
            "lax" => "Lax",
            "strict" => "Strict",
            "none" if !cookie.secure => {
                errors.push(
                    Error::custom("same_site = \"none\" needs secure = true: browsers drop such cookies otherwise")
                        .with_span(&span),
                );
                "None"
            }
            "none" => "None",
            other => {
                let suggestion = closest(other, &["lax", "strict", "none"])
                    .map(|s| format!("did you mean \"{s}\"? "))
                    .unwrap_or_default();
                errors.push(
                    Error::custom(format!("unknown same_site \"{other}\"; {suggestion}expected \"lax\", \"strict\" or \"none\""))
                        .with_span(&span),
                );
                "Lax"
            }
        };
    }
    cookie
}
