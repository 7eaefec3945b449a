//! Validation of `#[oauth_client]` options into a checked model.

use darling::Error;

use super::parse::ClientArgs;
use crate::backend::parse::{KeyArg, KeyKind};

pub(crate) struct Key {
    pub kind: KeyKind,
    pub value: String,
}

impl From<&KeyArg> for Key {
    fn from(key: &KeyArg) -> Self {
        Self {
            kind: key.kind,
            value: key.value.clone(),
        }
    }
}

pub(crate) enum Provider {
    /// OpenID Connect, by discovery at this issuer.
    Oidc(Key),
    /// GitHub, at these web and API base URLs.
    GitHub { web: Key, api: Key },
}

/// The presets `provider = "..."` names.
const PROVIDERS: [&str; 1] = ["github"];

fn literal(value: &str) -> Key {
    Key {
        kind: KeyKind::Literal,
        value: value.to_owned(),
    }
}

/// A client whose options are all valid.
pub(crate) struct Client {
    pub name: String,
    pub provider: Provider,
    pub client_id: Key,
    pub client_secret: Key,
    pub scopes: Vec<String>,
    pub krate: syn::Path,
}

impl Client {
    pub(crate) fn validate(args: ClientArgs, item: &syn::ItemStruct) -> darling::Result<Self> {
        let mut errors = Error::accumulator();
        if !matches!(item.fields, syn::Fields::Unit) {
            errors.push(
                Error::custom(format!(
                    "#[oauth_client] goes on a unit struct: write `struct {};`",
                    item.ident
                ))
                .with_span(&item.fields),
            );
        }
        if !item.generics.params.is_empty() {
            errors
                .push(Error::custom("an OAuth client cannot be generic").with_span(&item.generics));
        }
        let name = match &args.name {
            Some(name) => {
                if !crate::backend::is_url_segment(name) {
                    errors.push(
                        Error::custom(format!(
                            "client name `{}` must be a URL path segment of a-z, 0-9, `_` and `-` (it becomes /auth/{{name}}/authorize and the stored `oauth_name`)",
                            name.as_str()
                        ))
                        .with_span(&name.span()),
                    );
                }
                name.as_str().to_owned()
            }
            None => {
                errors.push(
                    Error::custom("missing option `name`: add name = \"oidc\" (the route segment and the stored `oauth_name`)")
                        .with_span(&item.ident),
                );
                String::new()
            }
        };
        let url_key = |errors: &mut darling::error::Accumulator, key: &KeyArg, option: &str| {
            crate::backend::check_key(errors, key, option);
            if key.kind == KeyKind::Literal
                && !(key.value.starts_with("https://")
                    || key.value.starts_with("http://localhost")
                    || key.value.starts_with("http://127.0.0.1"))
            {
                errors.push(
                    Error::custom(format!("{option} must be an https:// URL (http only for localhost), e.g. {option} = \"https://accounts.google.com\""))
                        .with_span(&key.span),
                );
            }
            Key::from(key)
        };
        let provider = match (&args.issuer, &args.provider) {
            (Some(issuer), None) => Provider::Oidc(url_key(&mut errors, issuer, "issuer")),
            (None, Some(provider)) if provider.as_str() == "github" => Provider::GitHub {
                web: match &args.github_url {
                    Some(url) => url_key(&mut errors, url, "github_url"),
                    None => literal("https://github.com"),
                },
                api: match &args.github_api_url {
                    Some(url) => url_key(&mut errors, url, "github_api_url"),
                    None => literal("https://api.github.com"),
                },
            },
            (None, Some(provider)) => {
                let suggestion = crate::suggest::closest(provider.as_str(), &PROVIDERS)
                    .map(|s| format!("did you mean \"{s}\"? "))
                    .unwrap_or_default();
                errors.push(
                    Error::custom(format!(
                        "unknown provider \"{}\"; {suggestion}the preset is \"github\"; for an OpenID Connect provider (Google, Microsoft, Okta, Keycloak, Auth0) give its issuer = \"https://...\" instead",
                        provider.as_str()
                    ))
                    .with_span(&provider.span()),
                );
                Provider::Oidc(literal(""))
            }
            (Some(issuer), Some(_)) => {
                errors.push(
                    Error::custom("give either issuer (OpenID Connect discovery) or provider = \"github\", not both")
                        .with_span(&issuer.span),
                );
                Provider::Oidc(literal(""))
            }
            (None, None) => {
                errors.push(
                    Error::custom("missing the provider: add issuer = env(\"OIDC_ISSUER\"), an OpenID Connect provider's issuer URL (Google, Microsoft, Okta, Keycloak, Auth0 all have one), or provider = \"github\"")
                        .with_span(&item.ident),
                );
                Provider::Oidc(literal(""))
            }
        };
        let github = matches!(provider, Provider::GitHub { .. });
        for (option, key) in [
            ("github_url", &args.github_url),
            ("github_api_url", &args.github_api_url),
        ] {
            if let (Some(key), false) = (key, github) {
                errors.push(
                    Error::custom(format!("{option} is for provider = \"github\" (GitHub Enterprise Server): remove it"))
                        .with_span(&key.span),
                );
            }
        }
        let client_id = match &args.client_id {
            Some(key) => {
                crate::backend::check_key(&mut errors, key, "client_id");
                key.into()
            }
            None => {
                errors.push(
                    Error::custom(
                        "missing option `client_id`: add client_id = env(\"OIDC_CLIENT_ID\")",
                    )
                    .with_span(&item.ident),
                );
                Key {
                    kind: KeyKind::Env,
                    value: String::new(),
                }
            }
        };
        let client_secret = match &args.client_secret {
            Some(key) => {
                crate::backend::check_key(&mut errors, key, "client_secret");
                key.into()
            }
            None => {
                errors.push(
                    Error::custom("missing option `client_secret`: add client_secret = env(\"OIDC_CLIENT_SECRET\")")
                        .with_span(&item.ident),
                );
                Key {
                    kind: KeyKind::Env,
                    value: String::new(),
                }
            }
        };
        let scopes = match &args.scopes {
            Some(scopes) => {
                for (scope, span) in &scopes.values {
                    // RFC 6749 §3.3: a scope token is printable ASCII without space,
                    // `"` or `\`.
                    let valid = !scope.is_empty()
                        && scope
                            .bytes()
                            .all(|b| (0x21..=0x7e).contains(&b) && b != b'"' && b != b'\\');
                    if !valid {
                        errors.push(
                            Error::custom(format!(
                                "scope `{scope}` is not an RFC 6749 scope token: printable ASCII without spaces, quotes or backslashes"
                            ))
                            .with_span(span),
                        );
                    }
                }
                if !github && !scopes.values.iter().any(|(scope, _)| scope == "openid") {
                    errors.push(
                        Error::custom("an OpenID Connect client needs the `openid` scope: add \"openid\" to scopes")
                            .with_span(&scopes.span),
                    );
                }
                scopes
                    .values
                    .iter()
                    .map(|(scope, _)| scope.clone())
                    .collect()
            }
            None if github => vec!["read:user".into(), "user:email".into()],
            None => vec!["openid".into(), "email".into()],
        };
        let krate = args
            .krate
            .map_or_else(|| syn::parse_quote!(::warden), |krate| krate.0);
        errors.finish_with(Self {
            name,
            provider,
            client_id,
            client_secret,
            scopes,
            krate,
        })
    }
}
