//! The OAuth routers as the builder assembles them: a client's settings read when
//! it is added (so a missing one stops startup), then each router checked against
//! the backends and the store when the warden is built.

use std::sync::Arc;

use super::{Endpoints, OAuthClient, OAuthOptions, OAuthProvider, OAuthRoute, ProviderClient};
use crate::backend::KeySource;
use crate::error::ConfigError;
use crate::model::UserModel;
use crate::store::{MemoryCounters, UserStore};

/// An OAuth router as added: checked and assembled at `build()`.
pub(crate) struct PendingOAuth {
    route: String,
    backend: Option<String>,
    /// The declared client, so that its routers share one provider client.
    client_type: std::any::TypeId,
    client: Arc<ProviderClient>,
    options: OAuthOptions,
}

impl PendingOAuth {
    /// Client `C`'s router, logging in through `backend` (or, without one, an
    /// associate router), its settings read now. Routers of one client share it:
    /// one HTTP client, one discovery document, one set of provider keys.
    pub(crate) fn read<C: OAuthClient>(
        backend: Option<String>,
        options: OAuthOptions,
        added: &[PendingOAuth],
    ) -> Result<Self, ConfigError> {
        let config = C::CONFIG;
        let route = options
            .route
            .clone()
            .unwrap_or_else(|| config.name.to_owned());
        let client_type = std::any::TypeId::of::<C>();
        if let Some(shared) = added
            .iter()
            .find(|pending| pending.client_type == client_type)
        {
            return Ok(Self {
                route,
                backend,
                client_type,
                client: Arc::clone(&shared.client),
                options,
            });
        }
        let text = |source: KeySource, option: &'static str| -> Result<String, ConfigError> {
            let secret = source.read(config.name, option)?;
            String::from_utf8(secret.expose().to_vec()).map_err(|_| ConfigError::BadOption {
                backend: config.name.to_owned(),
                option,
                problem: "is not UTF-8 text".into(),
            })
        };
        let endpoints = match config.provider {
            OAuthProvider::OpenIdConnect { issuer } => Endpoints::Oidc {
                issuer: text(issuer, "issuer")?,
            },
            OAuthProvider::GitHub { web, api } => Endpoints::GitHub {
                web: text(web, "github_url")?,
                api: text(api, "github_api_url")?,
            },
        };
        let client_id = text(config.client_id, "client_id")?;
        let client_secret = config.client_secret.read(config.name, "client_secret")?;
        let client = ProviderClient::new(
            config.name,
            endpoints,
            client_id,
            client_secret,
            config
                .scopes
                .iter()
                .map(|scope| (*scope).to_owned())
                .collect(),
        )?;
        Ok(Self {
            route,
            backend,
            client_type,
            client: Arc::new(client),
            options,
        })
    }

    /// The router, checked against the names of the warden's `backends`, its
    /// `store` and the routers `assembled` before it.
    pub(crate) fn assemble<U: UserModel>(
        self,
        backends: &[&str],
        store: &dyn UserStore<U>,
        assembled: &[OAuthRoute],
    ) -> Result<OAuthRoute, ConfigError> {
        if let Some(backend) = &self.backend
            && !backends.contains(&backend.as_str())
        {
            return Err(ConfigError::Mismatch(format!(
                "oauth router `{}` logs in through backend `{backend}`, which is not added: add .backend::<...>()? for it first",
                self.route
            )));
        }
        if U::LOGIN != "email" {
            return Err(ConfigError::Mismatch(format!(
                "oauth router `{}`: {} logs in with `{}`, which a provider does not give: OAuth needs a model that logs in with its e-mail",
                self.route,
                U::NAME,
                U::LOGIN
            )));
        }
        if store.oauth_accounts().is_none() {
            return Err(ConfigError::Mismatch(format!(
                "oauth router `{}`: the user store keeps no oauth_account table: use SqliteStore, PostgresStore or DatabaseStore",
                self.route
            )));
        }
        if self.options.state_secret.expose().len() < 32 {
            return Err(ConfigError::Mismatch(format!(
                "oauth router `{}`: the state secret has {} bytes; HS256 needs at least 32 (RFC 7518 §3.2)",
                self.route,
                self.options.state_secret.expose().len()
            )));
        }
        if assembled.iter().any(|other: &OAuthRoute| {
            other.route == self.route && other.backend.is_none() == self.backend.is_none()
        }) {
            return Err(ConfigError::Mismatch(format!(
                "two oauth routers are at /auth/{}{}: give one OAuthOptions::route(\"...\")",
                if self.backend.is_none() {
                    "associate/"
                } else {
                    ""
                },
                self.route
            )));
        }
        let spent = store
            .counters()
            .unwrap_or_else(|| Arc::new(MemoryCounters::default()));
        let unusable =
            |problem| ConfigError::Mismatch(format!("oauth router `{}`: {problem}", self.route));
        let sealer = self.options.sealer().map_err(unusable)?;
        // The router as the state names it: a login router's and an associate
        // router's of one route are two routers.
        let router = match &self.backend {
            Some(_) => self.route.clone(),
            None => format!("associate/{}", self.route),
        };
        Ok(OAuthRoute {
            state: self
                .options
                .state_codec(&self.client.name, &router)
                .map_err(unusable)?,
            route: self.route,
            backend: self.backend,
            client: self.client,
            options: self.options,
            spent,
            sealer,
        })
    }
}
