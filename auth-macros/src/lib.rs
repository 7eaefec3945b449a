//! Procedural macros of [warden](https://docs.rs/warden): `#[auth_backend]`,
//! `#[protected]` and `#[user_model]`. Use them through the `warden` crate, which documents them.
//!
//! Each macro runs three steps, one module each: `parse` (darling reads the
//! attribute), `model` (validation into a checked model, every error spanned and
//! accumulated) and `expand` (quote emits code naming only `::warden::__private`).
//! On any error the user's item is emitted unchanged beside the errors, so the
//! compiler shows the real mistake and nothing that follows from it.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

use proc_macro::TokenStream;

mod attribute;
mod backend;
mod flag;
mod named;
mod oauth;
mod protected;
mod suggest;
mod user_model;

/// `crate = "::path::to::warden"`, for crates that re-export warden.
pub(crate) struct CratePath(pub syn::Path);

impl darling::FromMeta for CratePath {
    fn from_expr(expr: &syn::Expr) -> darling::Result<Self> {
        const HINT: &str =
            "crate = \"...\" takes the path of the warden crate, e.g. crate = \"::warden\"";
        match expr {
            syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            }) => s
                .parse::<syn::Path>()
                .map(Self)
                .map_err(|_| darling::Error::custom(HINT).with_span(s)),
            syn::Expr::Path(path) => Ok(Self(path.path.clone())),
            other => Err(darling::Error::custom(HINT).with_span(other)),
        }
    }
}

/// What an item is, in words, and the span of its keyword: for "goes on X, not Y".
fn item_kind(item: &syn::Item) -> (&'static str, proc_macro2::Span) {
    use syn::spanned::Spanned;
    match item {
        syn::Item::Enum(i) => ("an enum", i.enum_token.span),
        syn::Item::Fn(i) => ("a function", i.sig.fn_token.span),
        syn::Item::Struct(i) => ("a struct", i.struct_token.span),
        syn::Item::Union(i) => ("a union", i.union_token.span),
        syn::Item::Trait(i) => ("a trait", i.trait_token.span),
        syn::Item::Impl(i) => ("an impl block", i.impl_token.span),
        syn::Item::Mod(i) => ("a module", i.mod_token.span),
        syn::Item::Const(i) => ("a const", i.const_token.span),
        syn::Item::Static(i) => ("a static", i.static_token.span),
        syn::Item::Type(i) => ("a type alias", i.type_token.span),
        other => ("this item", other.span()),
    }
}

/// Declares a JWT authentication backend on a unit struct. See the `warden` crate.
#[proc_macro_attribute]
pub fn auth_backend(args: TokenStream, item: TokenStream) -> TokenStream {
    backend::run(args.into(), item.into()).into()
}

/// Declares an identity provider for "log in with ...": an OpenID Connect issuer
/// or a preset. See the `warden` crate.
#[proc_macro_attribute]
pub fn oauth_client(args: TokenStream, item: TokenStream) -> TokenStream {
    oauth::run(args.into(), item.into()).into()
}

/// Guards an async axum handler and hands it the current user: `active`,
/// `verified`, `superuser`, `optional`, `fresh = N`, `backend = Type`, and `mfa`,
/// which admits only a session that passed a second factor (anything else gets 401
/// and RFC 9470's challenge). See the `warden` crate.
#[proc_macro_attribute]
pub fn protected(args: TokenStream, item: TokenStream) -> TokenStream {
    protected::run(args.into(), item.into()).into()
}

/// Declares the application's user model: FastAPI Users' base fields plus its own.
/// See the `warden` crate.
#[proc_macro_attribute]
pub fn user_model(args: TokenStream, item: TokenStream) -> TokenStream {
    user_model::run(args.into(), item.into()).into()
}

/// `#[derive(Scopes)]` on an enum of unit variants, each named with
/// `#[scope("reports:read")]`: the application's scopes. Documented in `warden`.
#[proc_macro_derive(Scopes, attributes(scope))]
pub fn derive_scopes(item: TokenStream) -> TokenStream {
    named::run(&named::SCOPES, item.into()).into()
}

/// `#[derive(Roles)]` on an enum of unit variants, each a role named in snake case
/// or by `#[role("editor")]`: the application's roles. Documented in `warden`.
#[proc_macro_derive(Roles, attributes(role))]
pub fn derive_roles(item: TokenStream) -> TokenStream {
    named::run(&named::ROLES, item.into()).into()
}
