//! The pipeline every attribute macro runs: parse the arguments with darling and
//! the item with syn, validate both into a model, expand; on any error, emit every
//! error at once beside the user's item (and a fallback), so the compiler shows the
//! real mistakes and nothing that follows from them.

use darling::FromMeta;
use darling::ast::NestedMeta;
use proc_macro2::TokenStream;
use quote::{ToTokens, quote};

/// One attribute macro's steps.
pub(crate) struct Attribute<Args, Item, Model> {
    /// `"#[auth_backend] goes on a unit struct"`, completed with `, not {what}: {hint}`.
    pub goes_on: &'static str,
    /// What to write instead, e.g. "write `pub struct Jwt;`".
    pub hint: &'static str,
    /// The item, if it is of the right kind.
    pub item: fn(syn::Item) -> Option<Item>,
    pub validate: fn(Args, &Item) -> darling::Result<Model>,
    pub expand: fn(Item, &Model) -> TokenStream,
    /// What to emit beside the errors instead of the item as written.
    pub fallback: fn(Item) -> TokenStream,
}

impl<Args: FromMeta, Item: ToTokens, Model> Attribute<Args, Item, Model> {
    pub(crate) fn run(&self, args: TokenStream, raw_item: TokenStream) -> TokenStream {
        let mut errors = darling::Error::accumulator();
        let args = errors
            .handle(NestedMeta::parse_meta_list(args).map_err(darling::Error::from))
            .and_then(|list| errors.handle(Args::from_list(&list)));
        let parsed = syn::parse2::<syn::Item>(raw_item.clone()).ok();
        let (what, span) = parsed.as_ref().map_or_else(
            || ("this item", first_token_span(&raw_item)),
            crate::item_kind,
        );
        let item = match parsed.and_then(self.item) {
            Some(item) => item,
            None => {
                errors.push(
                    darling::Error::custom(format!("{}, not {what}: {}", self.goes_on, self.hint))
                        .with_span(&span),
                );
                let errors = errors.finish().err().map(darling::Error::write_errors);
                return quote! { #errors #raw_item };
            }
        };
        let model = args.and_then(|args| errors.handle((self.validate)(args, &item)));
        match (errors.finish(), model) {
            (Ok(()), Some(model)) => (self.expand)(item, &model),
            (result, _) => {
                let errors = result.err().map(darling::Error::write_errors);
                let fallback = (self.fallback)(item);
                quote! { #errors #fallback }
            }
        }
    }
}

pub(crate) fn first_token_span(tokens: &TokenStream) -> proc_macro2::Span {
    tokens
        .clone()
        .into_iter()
        .find(|t| !matches!(t, proc_macro2::TokenTree::Punct(p) if p.as_char() == '#'))
        .map_or_else(proc_macro2::Span::call_site, |t| t.span())
}
