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
    let Ok(item) = syn::parse2::<syn::ItemFn>(raw_item.clone()) else {
        errors.push(
            darling::Error::custom("#[protected] goes on an async handler function, e.g. `async fn me(user: User) -> Json<User>`"),
        );
        let errors = errors.finish().err().map(darling::Error::write_errors);
        return quote! { #errors #raw_item };
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
