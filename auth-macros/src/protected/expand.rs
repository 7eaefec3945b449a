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
    if let Some((seconds, span)) = guard.fresh {
        let seconds = proc_macro2::Literal::u32_unsuffixed(seconds);
        markers.push(quote_spanned!(span=> #private::Fresh<#seconds>));
    }
    if let Some(span) = guard.mfa {
        markers.push(quote_spanned!(span=> #private::Mfa));
    }
    if let Some((scopes, variant)) = &guard.scope {
        // The variant's index in its enum: a variant that does not exist, or an
        // enum that is not a set of scopes, fails to compile right here.
        markers.push(
            quote_spanned!(variant.span()=> #private::Scoped<#scopes, { #variant as usize }>),
        );
    }
    if let Some((roles, variants)) = &guard.roles {
        // Each variant's index in its enum, as a bit: a variant that does not
        // exist, or an enum that is not a set of roles, fails to compile right here.
        let span = variants.first().map_or_else(Span::call_site, Spanned::span);
        markers.push(quote_spanned!(span=>
            #private::AnyRole<#roles, { #private::role_bits(&[#(#variants as usize),*]) }>
        ));
    }
    if let Some(backend) = &guard.backend {
        markers.push(quote_spanned!(backend.span()=> #private::Backend<#backend>));
    }
    // The runtime implements `Policy` for tuples of up to four, and a tuple of
    // policies is a policy (its rules combine the same way), so more flags than four
    // (`active, verified, superuser, fresh = N, mfa, backend = B`) nest.
    let policy = if markers.len() <= 4 {
        quote!((#(#markers,)*))
    } else {
        let groups = markers.chunks(4).map(|group| quote!((#(#group,)*)));
        quote!((#(#groups,)*))
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
    let policy_tokens = policy.clone();
    let param: FnArg = syn::parse_quote_spanned! {span=>
        #private_spanned::#guard_type { .. }: #private_spanned::#guard_type<#policy>
    };
    item.sig.inputs.insert(0, param);
    for attr in &mut item.attrs {
        document(attr, guard);
    }

    // Each parameter's kind, checked against the flags, then counted.
    let (check, count) = if guard.optional {
        (quote!(check_optional), quote!(count_optional))
    } else {
        (quote!(check_plain), quote!(count_plain))
    };
    let checks = guard.checked.iter().map(|ty| {
        quote_spanned! {ty.span()=>
            let kind = (&&&#private::Probe::<#ty>::new()).__warden_kind();
            #private::#check(&kind);
            let users = #private::plus(users, #private::#count(&kind));
        }
    });
    let total = if guard.optional {
        quote!(exactly_one)
    } else {
        quote!(at_most_one)
    };
    let name = &item.sig.ident;
    let total = guard
        .complete
        .then(|| quote_spanned!(name.span()=> #private::#total(users);));
    let policy = &policy_tokens;
    let probes = quote! {
        const _: () = {
            #[allow(unused_imports)]
            use #private::{ModelKind as _, OptionalModelKind as _, OtherKind as _};
            #[allow(dead_code, clippy::all)]
            fn check() {
                #private_spanned::require_policy::<#policy>();
                let users = #private::NoUserParameter;
                #(#checks)*
                #total
            }
        };
    };
    quote!(#item #probes)
}

/// A `#[utoipa::path(...)]` on the handler gets the guard's security requirement,
/// under the placeholder scheme `warden` whose scopes name the policy; the warden
/// replaces it with its backends' schemes and adds the 401 and 403 responses when
/// it merges the application's operations into its document
/// (`WardenBuilder::openapi`). A `security(...)` the user wrote is kept as is.
fn document(attr: &mut syn::Attribute, guard: &Guard) {
    let segments: Vec<String> = attr
        .path()
        .segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect();
    if segments != ["utoipa", "path"] {
        return;
    }
    let syn::Meta::List(list) = &mut attr.meta else {
        return;
    };
    let has_security = list
        .tokens
        .clone()
        .into_iter()
        .any(|token| matches!(&token, TokenTree::Ident(ident) if ident == "security"));
    if has_security {
        return;
    }
    let mut scopes: Vec<String> = Vec::new();
    for (on, scope) in [
        (guard.active, "active"),
        (guard.verified, "verified"),
        (guard.superuser, "superuser"),
        (guard.optional, "optional"),
    ] {
        if on {
            scopes.push(scope.to_owned());
        }
    }
    // The variants by identifier: the warden knows each one's name
    // (`Scopes::VARIANTS`, `UserModel::ROLE_VARIANTS`) and writes that.
    let last = |path: &syn::Path| path.segments.last().map(|s| s.ident.to_string());
    if let Some(variant) = guard.scope.as_ref().and_then(|(_, variant)| last(variant)) {
        scopes.push(format!("scope:{variant}"));
    }
    for variant in guard.roles.iter().flat_map(|(_, variants)| variants) {
        if let Some(variant) = last(variant) {
            scopes.push(format!("role:{variant}"));
        }
    }
    let trailing_comma = matches!(
        list.tokens.clone().into_iter().last(),
        Some(TokenTree::Punct(p)) if p.as_char() == ','
    );
    let comma = (!list.tokens.is_empty() && !trailing_comma).then(|| quote!(,));
    let tokens = &list.tokens;
    list.tokens = quote!(#tokens #comma security(("warden" = [#(#scopes),*])));
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
