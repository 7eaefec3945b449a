//! `#[oauth_client(...)]`: parse → model → expand.

mod expand;
mod model;
mod parse;

use proc_macro2::TokenStream;
use quote::quote;

use crate::attribute::Attribute;

pub(crate) fn run(args: TokenStream, item: TokenStream) -> TokenStream {
    Attribute {
        goes_on: "#[oauth_client] goes on a unit struct",
        hint: "write `pub struct Corporate;`",
        item: |item| match item {
            syn::Item::Struct(item) => Some(item),
            _ => None,
        },
        validate: model::Client::validate,
        expand: |item, model| expand::expand(&item, model),
        fallback: |item| {
            let fallback = expand::fallback(&item);
            quote! { #item #fallback }
        },
    }
    .run(args, item)
}
