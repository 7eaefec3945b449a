//! `#[protected(...)]`: parse → model → expand.

mod expand;
mod model;
mod parse;

use proc_macro2::TokenStream;
use quote::quote;

use crate::attribute::Attribute;

pub(crate) fn run(args: TokenStream, item: TokenStream) -> TokenStream {
    Attribute {
        goes_on: "#[protected] goes on an async handler function",
        hint: "e.g. `async fn me(user: Member) -> Json<Member>`",
        item: |item| match item {
            syn::Item::Fn(item) => Some(item),
            _ => None,
        },
        validate: model::Guard::validate,
        expand: expand::expand,
        fallback: |item| quote! { #item },
    }
    .run(args, item)
}
