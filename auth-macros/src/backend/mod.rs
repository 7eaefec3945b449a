//! `#[auth_backend(...)]`: parse → model → expand.

mod expand;
mod model;
pub(crate) mod parse;

pub(crate) use model::{check_key, is_url_segment};

use proc_macro2::TokenStream;
use quote::quote;

use crate::attribute::Attribute;

pub(crate) fn run(args: TokenStream, item: TokenStream) -> TokenStream {
    Attribute {
        goes_on: "#[auth_backend] goes on a unit struct",
        hint: "write `pub struct Jwt;`",
        item: |item| match item {
            syn::Item::Struct(item) => Some(item),
            _ => None,
        },
        validate: model::Backend::validate,
        expand: |item, model| expand::expand(&item, model),
        fallback: |item| {
            let fallback = expand::fallback(&item);
            quote! { #item #fallback }
        },
    }
    .run(args, item)
}
