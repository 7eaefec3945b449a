//! Code generation for `#[protected]`: one parameter is retyped (or one added); the
//! body and return type are untouched, so other attribute macros stack.

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{FnArg, PatType};

use super::model::{Guard, Slot};

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
    let backend_span = guard.backend.as_ref().map(Spanned::span);
    let (private, policy) = match backend_span {
        Some(span) => (respan(private, span), respan(policy, span)),
        None => (private, policy),
    };
    match guard.slot {
        Slot::User(index) => retype(&mut item, index, |pat, ty| {
            let field = field_pattern(pat);
            quote_spanned! {backend_span.unwrap_or_else(|| ty.span())=>
                #private::CurrentUser { #field, .. }: #private::CurrentUser<#policy, #ty>
            }
        }),
        Slot::OptionalUser(index) => retype(&mut item, index, |pat, ty| {
            let field = field_pattern(pat);
            // `ty` is `Option<U>`: the guard takes `U`.
            let inner = option_inner(ty);
            quote_spanned! {backend_span.unwrap_or_else(|| ty.span())=>
                #private::OptionalUser { #field, .. }: #private::OptionalUser<#policy, #inner>
            }
        }),
        Slot::Hidden => {
            let guard: FnArg = syn::parse_quote_spanned! {backend_span.unwrap_or_else(Span::call_site)=>
                #private::CurrentUser { .. }: #private::CurrentUser<#policy>
            };
            item.sig.inputs.insert(0, guard);
        }
    }
    quote!(#item)
}

/// `user` binds the field in shorthand (`user`, `mut user`), which keeps rustc's
/// `non_shorthand_field_patterns` lint quiet; any other pattern is `user: <pat>`.
fn field_pattern(pat: &syn::Pat) -> TokenStream {
    match pat {
        syn::Pat::Ident(ident) if ident.ident == "user" && ident.subpat.is_none() => quote!(#pat),
        _ => quote!(user: #pat),
    }
}

/// The `T` of `Option<T>` (the model checked the shape).
fn option_inner(ty: &syn::Type) -> TokenStream {
    if let syn::Type::Path(path) = ty
        && let Some(syn::PathArguments::AngleBracketed(args)) =
            path.path.segments.last().map(|s| &s.arguments)
        && let Some(syn::GenericArgument::Type(inner)) = args.args.first()
    {
        return quote!(#inner);
    }
    quote!(#ty)
}

fn retype(
    item: &mut syn::ItemFn,
    index: usize,
    make: impl FnOnce(&syn::Pat, &syn::Type) -> TokenStream,
) {
    if let Some(FnArg::Typed(PatType { pat, ty, .. })) = item.sig.inputs.iter().nth(index) {
        let tokens = make(pat, ty);
        if let Ok(arg) = syn::parse2::<FnArg>(tokens)
            && let Some(slot) = item.sig.inputs.iter_mut().nth(index)
        {
            *slot = arg;
        }
    }
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
