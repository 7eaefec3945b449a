//! Code generation for `#[oauth_client]`. Names the runtime only through
//! `<crate>::__private`.

use proc_macro2::TokenStream;
use quote::quote;

use super::model::{Client, Key, Provider};
use crate::backend::parse::KeyKind;

fn key_source(private: &TokenStream, key: &Key) -> TokenStream {
    let value = &key.value;
    match key.kind {
        KeyKind::Env => quote!(#private::KeySource::Env(#value)),
        KeyKind::File => quote!(#private::KeySource::File(#value)),
        KeyKind::Literal => quote!(#private::KeySource::Literal(#value)),
    }
}

pub(crate) fn expand(item: &syn::ItemStruct, model: &Client) -> TokenStream {
    let krate = &model.krate;
    let private = quote!(#krate::__private);
    let ident = &item.ident;
    let name = &model.name;
    let provider = match &model.provider {
        Provider::Oidc(issuer) => {
            let issuer = key_source(&private, issuer);
            quote!(#private::OAuthProvider::OpenIdConnect { issuer: #issuer })
        }
        Provider::GitHub { web, api } => {
            let web = key_source(&private, web);
            let api = key_source(&private, api);
            quote!(#private::OAuthProvider::GitHub { web: #web, api: #api })
        }
    };
    let client_id = key_source(&private, &model.client_id);
    let client_secret = key_source(&private, &model.client_secret);
    let scopes = &model.scopes;
    quote! {
        #item

        // The client that talks to providers is compiled only with warden's `oauth`
        // feature: without it, this fails to build with a message naming the feature.
        const _: () = #private::feature::oauth::<#private::feature::Enabled>();

        #[automatically_derived]
        impl #private::OAuthClient for #ident {
            const CONFIG: #private::OAuthClientConfig = #private::OAuthClientConfig {
                name: #name,
                provider: #provider,
                client_id: #client_id,
                client_secret: #client_secret,
                scopes: &[#(#scopes),*],
            };
        }
    }
}

/// Emitted beside the errors, so uses of the struct add no errors of their own.
pub(crate) fn fallback(item: &syn::ItemStruct) -> TokenStream {
    if !item.generics.params.is_empty() {
        return TokenStream::new();
    }
    let ident = &item.ident;
    quote! {
        impl ::warden::__private::OAuthClient for #ident {
            const CONFIG: ::warden::__private::OAuthClientConfig = ::warden::__private::OAuthClientConfig {
                name: "invalid",
                provider: ::warden::__private::OAuthProvider::OpenIdConnect {
                    issuer: ::warden::__private::KeySource::Env(""),
                },
                client_id: ::warden::__private::KeySource::Env(""),
                client_secret: ::warden::__private::KeySource::Env(""),
                scopes: &[],
            };
        }
    }
}
