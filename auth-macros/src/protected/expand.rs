//! Code generation for `#[protected]`: a guard parameter is added in front; the
//! parameters, body and return type are untouched, so other attribute macros stack.
//! The handler's parameter of the model's type receives the user the guard admitted
//! (the model is an extractor), whatever the model is called.

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::{quote, quote_spanned};
use syn::FnArg;
use syn::spanned::Spanned;

use super::model::Guard;

pub(crate) fn expand(mut item: syn::ItemFn, guard: &Guard) -> TokenStream {
    let krate = &guard.krate;
    let private = quote!(#krate::__private);
    let mut markers = Vec::new();
    if guard.active {
        markers.push(quote!(#private::Active));
    }
    if guard.verified {
        markers.push(quote!(#private::Verified));
    }
    if guard.superuser {
        markers.push(quote!(#private::Superuser));
    }
    if let Some(backend) = &guard.backend {
        markers.push(quote_spanned!(backend.span()=> #private::Backend<#backend>));
    }
    let policy = if markers.is_empty() {
        quote!(())
    } else {
        quote!((#(#markers,)*))
    };

    // With `backend = B`, the whole guard type is spanned at `B`, so a `B` that is
    // not an `AuthBackend` is one error, at the path the user wrote.
    let span = guard
        .backend
        .as_ref()
        .map_or_else(Span::call_site, Spanned::span);
    let (private_spanned, policy) = match &guard.backend {
        Some(_) => (respan(private.clone(), span), respan(policy, span)),
        None => (private.clone(), policy),
    };
    let guard_type = if guard.optional {
        quote!(OptionalGuard)
    } else {
        quote!(Guard)
    };
    let param: FnArg = syn::parse_quote_spanned! {span=>
        _: #private_spanned::#guard_type<#policy>
    };
    item.sig.inputs.insert(0, param);

    let checks = guard.checked.iter().map(|ty| {
        let method = if guard.optional {
            quote!(__warden_plain_model)
        } else {
            quote!(__warden_optional_model)
        };
        quote_spanned! {ty.span()=>
            #private::check_parameter::<#ty, _>(
                (&&#private::Probe::<#ty>::new()).#method(),
            );
        }
    });
    let probes = (!guard.checked.is_empty()).then(|| {
        quote! {
            const _: () = {
                #[allow(unused_imports)]
                use #private::{PlainModelProbe as _, PlainOtherProbe as _, OptionalModelProbe as _, OptionalOtherProbe as _};
                #[allow(dead_code, clippy::all)]
                fn check() {
                    #(#checks)*
                }
            };
        }
    });
    quote!(#item #probes)
}

/// `tokens` with every span set to `span`.
fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut token| {
            if let TokenTree::Group(group) = &token {
                let mut group =
                    proc_macro2::Group::new(group.delimiter(), respan(group.stream(), span));
                group.set_span(span);
                token = TokenTree::Group(group);
            } else {
                token.set_span(span);
            }
            token
        })
        .collect()
}
