//! `#[user_model]`: parse → model → expand.

mod expand;
mod model;
mod parse;

use proc_macro2::TokenStream;
use quote::quote;

use crate::attribute::Attribute;

pub(crate) fn run(args: TokenStream, item: TokenStream) -> TokenStream {
    Attribute {
        goes_on: "#[user_model] goes on a struct with named fields",
        hint: "write `pub struct Member { ... }`",
        item: |item| match item {
            syn::Item::Struct(item) => Some(item),
            _ => None,
        },
        validate: model::Model::validate,
        expand: |_, model| expand::expand(model),
        // The struct as written, without the `#[user]` helper attributes that no
        // derive would consume, so the only errors shown are ours.
        fallback: |item| {
            let item = model::strip_user_attributes(item);
            quote! { #item }
        },
    }
    .run(args, item)
}
