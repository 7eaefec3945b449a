//! `#[protected(...)]`: parse → model → expand.

mod expand;
mod model;
mod parse;

use darling::FromMeta;
use darling::ast::NestedMeta;
use proc_macro2::TokenStream;
use quote::quote;

pub(crate) fn run(args: TokenStream, raw_item: TokenStream) -> TokenStream {
    let mut errors = darling::Error::accumulator();
    let args = errors
        .handle(NestedMeta::parse_meta_list(args).map_err(darling::Error::from))
        .and_then(|list| errors.handle(parse::ProtectedArgs::from_list(&list)));
    let item = match syn::parse2::<syn::Item>(raw_item.clone()) {
        Ok(syn::Item::Fn(item)) => item,
        other => {
            let (what, span) = match &other {
                Ok(item) => crate::item_kind(item),
                Err(_) => ("this item", crate::backend::first_token_span(&raw_item)),
            };
            errors.push(
                darling::Error::custom(format!(
                    "#[protected] goes on an async handler function, not {what}: e.g. `async fn me(user: Member) -> Json<Member>`"
                ))
                .with_span(&span),
            );
            let errors = errors.finish().err().map(darling::Error::write_errors);
            return quote! { #errors #raw_item };
        }
    };
    let model = args.and_then(|args| errors.handle(model::Guard::validate(args, &item)));
    match (errors.finish(), model) {
        (Ok(()), Some(model)) => expand::expand(item, &model),
        (result, _) => {
            let errors = result.err().map(darling::Error::write_errors);
            quote! { #errors #item }
        }
    }
}
