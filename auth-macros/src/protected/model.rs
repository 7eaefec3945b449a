//! Validation of a `#[protected]` handler: the policy that guards it, and the
//! parameters whose types are checked against the user model.

use darling::Error;
use syn::{FnArg, Type};

use super::parse::ProtectedArgs;

pub(crate) struct Guard {
    pub active: bool,
    pub verified: bool,
    pub superuser: bool,
    pub optional: bool,
    /// `fresh = N`: the most seconds since the last sign-in, and where it was written.
    pub fresh: Option<(u32, proc_macro2::Span)>,
    pub backend: Option<syn::Path>,
    pub krate: syn::Path,
    /// The parameter types to check against the model: with `optional`, exactly one
    /// is `Option<Model>` and none the model itself; without it, at most one is the
    /// model and none `Option<Model>`. Only the compiler knows which type is the
    /// model, so the check is emitted, not made here.
    pub checked: Vec<Type>,
    /// Every parameter is in `checked`, so the count is complete.
    pub complete: bool,
}

impl Guard {
    pub(crate) fn validate(args: ProtectedArgs, item: &syn::ItemFn) -> darling::Result<Self> {
        let mut errors = Error::accumulator();
        if item.sig.asyncness.is_none() {
            errors.push(
                Error::custom("#[protected] handlers must be `async fn`: axum handlers are async")
                    .with_span(&item.sig.fn_token),
            );
        }
        let generic = !item.sig.generics.params.is_empty();
        let mut checked = Vec::new();
        let mut complete = !generic;
        for input in &item.sig.inputs {
            match input {
                FnArg::Receiver(receiver) => errors.push(
                    Error::custom(
                        "#[protected] guards free handler functions; it cannot take `self`",
                    )
                    .with_span(receiver),
                ),
                // A generic handler's types name its own parameters, which a check
                // outside the function cannot see.
                FnArg::Typed(typed) if !generic && !contains_impl_trait(&typed.ty) => {
                    checked.push((*typed.ty).clone());
                }
                FnArg::Typed(_) => complete = false,
            }
        }
        let krate = args
            .krate
            .map_or_else(|| syn::parse_quote!(::warden), |krate| krate.0);
        errors.finish_with(Self {
            active: args.active.is_present(),
            verified: args.verified.is_present(),
            superuser: args.superuser.is_present(),
            optional: args.optional.is_present(),
            fresh: args.fresh.map(|fresh| (fresh.seconds, fresh.span)),
            backend: args.backend,
            krate,
            checked,
            complete,
        })
    }
}

fn contains_impl_trait(ty: &Type) -> bool {
    match ty {
        Type::ImplTrait(_) | Type::Infer(_) | Type::Macro(_) => true,
        Type::Reference(r) => contains_impl_trait(&r.elem),
        Type::Paren(p) => contains_impl_trait(&p.elem),
        Type::Group(g) => contains_impl_trait(&g.elem),
        Type::Tuple(t) => t.elems.iter().any(contains_impl_trait),
        Type::Path(p) => p.path.segments.iter().any(|s| match &s.arguments {
            syn::PathArguments::AngleBracketed(args) => args.args.iter().any(|a| match a {
                syn::GenericArgument::Type(t) => contains_impl_trait(t),
                _ => false,
            }),
            _ => false,
        }),
        _ => false,
    }
}
