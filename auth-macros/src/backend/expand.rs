//! Code generation for `#[auth_backend]`. Names the runtime only through
//! `<crate>::__private`.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::model::{Backend, Key, Lifetime, Strategy, Transport};
use super::parse::KeyKind;

pub(crate) fn expand(item: &syn::ItemStruct, model: &Backend) -> TokenStream {
    let krate = &model.krate;
    let private = quote!(#krate::__private);
    let ident = &item.ident;
    let vis = &item.vis;
    let name = &model.name;
    let lifetime = match model.lifetime {
        Lifetime::Seconds(seconds) => quote!(#private::Lifetime::Seconds(#seconds)),
        Lifetime::Forever => quote!(#private::Lifetime::Forever),
    };
    let algorithm = format_ident!("{}", model.algorithm);
    let secret = key_source(&private, &model.secret);
    let public_key = match &model.public_key {
        Some(key) => {
            let key = key_source(&private, key);
            quote!(::core::option::Option::Some(#key))
        }
        None => quote!(::core::option::Option::None),
    };
    let verify_keys = model
        .verify_keys
        .iter()
        .map(|key| key_source(&private, key));
    let audience = &model.audience;
    let transport = match &model.transport {
        Transport::Bearer => quote!(#private::TransportConfig::Bearer),
        Transport::Header(name) => quote!(#private::TransportConfig::Header(#name)),
        Transport::Cookie(cookie) => {
            let name = &cookie.name;
            let max_age = match cookie.max_age {
                Some(seconds) => quote!(::core::option::Option::Some(#seconds)),
                None => quote!(::core::option::Option::None),
            };
            let path = &cookie.path;
            let domain = match &cookie.domain {
                Some(domain) => quote!(::core::option::Option::Some(#domain)),
                None => quote!(::core::option::Option::None),
            };
            let (secure, http_only) = (cookie.secure, cookie.http_only);
            let same_site = format_ident!("{}", cookie.same_site);
            quote!(#private::TransportConfig::Cookie(#private::CookieSettings {
                name: #name,
                max_age: #max_age,
                path: #path,
                domain: #domain,
                secure: #secure,
                http_only: #http_only,
                same_site: #private::SameSite::#same_site,
            }))
        }
    };
    let strategy = match &model.strategy {
        Strategy::Jwt => quote!(#private::StrategyConfig::Jwt),
        Strategy::Database => quote!(#private::StrategyConfig::Database),
        Strategy::ApiKey => quote!(#private::StrategyConfig::ApiKey),
        Strategy::Redis(url) => {
            let url = key_source(&private, url);
            quote!(#private::StrategyConfig::Redis { url: #url })
        }
    };
    // The Redis strategy is compiled only with warden's `redis` feature: without it,
    // this fails to build with a message naming the feature.
    let feature_check = match &model.strategy {
        Strategy::Redis(_) => quote! {
            const _: () = #private::feature::redis::<#private::feature::Enabled>();
        },
        Strategy::Jwt | Strategy::Database | Strategy::ApiKey => TokenStream::new(),
    };
    let option = |value: Option<u64>| match value {
        Some(seconds) => quote!(::core::option::Option::Some(#seconds)),
        None => quote!(::core::option::Option::None),
    };
    let refresh = option(model.refresh);
    let max_age = option(model.max_session_age);
    let doc = format!(
        "Reads the keys of backend `{name}` and builds its strategy; a missing or bad key is an error naming the option."
    );
    let routes_doc = format!(
        "Only this backend's routes, `POST /auth/{name}/login`, `/logout` and `/refresh`, for mounting it alone (`Warden::routes` mounts every backend's)."
    );
    quote! {
        #item

        #feature_check

        #[automatically_derived]
        impl #private::AuthBackend for #ident {
            const CONFIG: #private::BackendConfig = #private::BackendConfig {
                name: #name,
                lifetime: #lifetime,
                algorithm: #private::Algorithm::#algorithm,
                secret: #secret,
                public_key: #public_key,
                verify_keys: &[#(#verify_keys),*],
                audience: &[#(#audience),*],
                transport: #transport,
                strategy: #strategy,
                sessions: #private::SessionConfig {
                    refresh: #refresh,
                    max_age: #max_age,
                },
            };
        }

        impl #ident {
            #[doc = #doc]
            #[allow(dead_code)]
            #vis fn strategy() -> ::core::result::Result<#private::JwtStrategy, #private::ConfigError> {
                <Self as #private::AuthBackend>::strategy()
            }

            #[doc = #routes_doc]
            #[allow(dead_code)]
            #vis fn routes<U, S>(warden: &#private::Warden<U>) -> #private::Router<S>
            where
                U: #private::UserModel,
                S: ::core::clone::Clone + ::core::marker::Send + ::core::marker::Sync + 'static,
            {
                warden.backend_routes(#name)
            }
        }
    }
}

fn key_source(private: &TokenStream, key: &Key) -> TokenStream {
    let value = &key.value;
    match key.kind {
        KeyKind::Env => quote!(#private::KeySource::Env(#value)),
        KeyKind::File => quote!(#private::KeySource::File(#value)),
        KeyKind::Literal => quote!(#private::KeySource::Literal(#value)),
    }
}

/// Emitted beside the errors: the struct still implements `AuthBackend`, so uses of
/// it elsewhere do not add errors of their own. Never runs: the crate fails to build.
pub(crate) fn fallback(item: &syn::ItemStruct) -> TokenStream {
    if !item.generics.params.is_empty() {
        return TokenStream::new();
    }
    let ident = &item.ident;
    quote! {
        impl ::warden::__private::AuthBackend for #ident {
            const CONFIG: ::warden::__private::BackendConfig = ::warden::__private::BackendConfig {
                name: "invalid",
                lifetime: ::warden::__private::Lifetime::Forever,
                algorithm: ::warden::__private::Algorithm::HS256,
                secret: ::warden::__private::KeySource::Env("WARDEN_SECRET"),
                public_key: ::core::option::Option::None,
                verify_keys: &[],
                audience: &[],
                transport: ::warden::__private::TransportConfig::Bearer,
                strategy: ::warden::__private::StrategyConfig::Jwt,
                sessions: ::warden::__private::SessionConfig::DEFAULT,
            };
        }
    }
}
