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
        let provider = match &args.issuer {
            Some(issuer) => {
                crate::backend::check_key(&mut errors, issuer, "issuer");
                if issuer.kind == KeyKind::Literal
                    && !(issuer.value.starts_with("https://")
                        || issuer.value.starts_with("http://localhost")
                        || issuer.value.starts_with("http://127.0.0.1"))
                {
                    errors.push(
                        Error::custom("issuer must be an https:// URL (http only for localhost), e.g. issuer = \"https://accounts.google.com\"")
                            .with_span(&issuer.span),
                    );
                }
                Provider::Oidc(issuer.into())
            }
            None => {
                errors.push(
                    Error::custom("missing option `issuer`: add issuer = env(\"OIDC_ISSUER\"), the OpenID Connect provider's issuer URL (Google, Microsoft, Okta, Keycloak, Auth0 all have one)")
                        .with_span(&item.ident),
                );
                Provider::Oidc(Key {
                    kind: KeyKind::Env,
                    value: String::new(),
                })
            }
        };
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
                if !scopes.values.iter().any(|(scope, _)| scope == "openid") {
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
