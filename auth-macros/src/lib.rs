//! Procedural macros of [warden](https://docs.rs/warden): `#[auth_backend]` and
//! `#[protected]`. Use them through the `warden` crate, which documents them.
//!
//! Each macro runs three steps, one module each: `parse` (darling reads the
//! attribute), `model` (validation into a checked model, every error spanned and
//! accumulated) and `expand` (quote emits code naming only `::warden::__private`).
//! On any error the user's item is emitted unchanged beside the errors, so the
//! compiler shows the real mistake and nothing that follows from it.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

use proc_macro::TokenStream;

mod backend;
mod protected;
mod suggest;

/// Declares a JWT authentication backend on a unit struct. See the `warden` crate.
#[proc_macro_attribute]
pub fn auth_backend(args: TokenStream, item: TokenStream) -> TokenStream {
    backend::run(args.into(), item.into()).into()
}

/// Guards an async axum handler and hands it the current user. See the `warden`
/// crate.
#[proc_macro_attribute]
pub fn protected(args: TokenStream, item: TokenStream) -> TokenStream {
    protected::run(args.into(), item.into()).into()
}
