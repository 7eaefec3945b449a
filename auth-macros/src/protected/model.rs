//! Validation of a `#[protected]` handler: which parameter receives the user, and
//! which policy guards it.

use darling::Error;
use syn::{FnArg, GenericArgument, PathArguments, Type};

use super::parse::ProtectedArgs;

/// How the handler receives the user.
pub(crate) enum Slot {
    /// `user: User` at this parameter index.
    User(usize),
    /// `user: Option<User>` at this index (with `optional`).
    OptionalUser(usize),
    /// No user parameter: a hidden guard is added first.
    Hidden,
}

pub(crate) struct Guard {
    pub active: bool,
    pub verified: bool,
    pub superuser: bool,
    pub backend: Option<syn::Path>,
    pub slot: Slot,
    pub krate: syn::Path,
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
        let optional = args.optional.is_present();
        // The parameters that fit the flags receive the user (the first of them);
        // the ones of the other shape are mistakes, spanned at their type.
        let mut fitting = Vec::new();
        let mut mismatched = false;
        for (index, input) in item.sig.inputs.iter().enumerate() {
            let typed = match input {
                FnArg::Receiver(receiver) => {
                    errors.push(
                        Error::custom(
                            "#[protected] guards free handler functions; it cannot take `self`",
                        )
                        .with_span(receiver),
                    );
                    continue;
                }
                FnArg::Typed(typed) => typed,
            };
            let (plain, wrapped) = (is_user(&typed.ty), option_of_user(&typed.ty));
            if (plain && !optional) || (wrapped && optional) {
                fitting.push((index, &typed.ty));
            } else if plain {
                mismatched = true;
                errors.push(
                    Error::custom("with `optional` there may be no user: take `Option<User>` instead of `User`")
                        .with_span(&typed.ty),
                );
            } else if wrapped {
                errors.push(
                    Error::custom("an `Option<User>` parameter needs #[protected(optional)]; without it, take `User`")
                        .with_span(&typed.ty),
                );
            }
        }
        for (_, ty) in fitting.iter().skip(1) {
            errors.push(
                Error::custom("#[protected] hands the user to one parameter only; remove this one")
                    .with_span(ty),
            );
        }
        let slot = match fitting.first() {
            Some((index, _)) if optional => Slot::OptionalUser(*index),
            Some((index, _)) => Slot::User(*index),
            None => Slot::Hidden,
        };
        if optional && fitting.is_empty() && !mismatched {
            errors.push(
                Error::custom("`optional` needs an `Option<User>` parameter to receive the user (or nothing, if absent); add one, or remove `optional`")
                    .with_span(&args.optional.span()),
            );
        }
        let krate = args
            .krate
            .map_or_else(|| syn::parse_quote!(::warden), |krate| krate.0);
        errors.finish_with(Self {
            active: args.active.is_present(),
            verified: args.verified.is_present(),
            superuser: args.superuser.is_present(),
            backend: args.backend,
            slot,
            krate,
        })
    }
}

/// `User` or `path::to::User`, without generics.
fn is_user(ty: &Type) -> bool {
    match ty {
        Type::Path(path) if path.qself.is_none() => path
            .path
            .segments
            .last()
            .is_some_and(|s| s.ident == "User" && s.arguments.is_none()),
        Type::Paren(inner) => is_user(&inner.elem),
        Type::Group(inner) => is_user(&inner.elem),
        _ => false,
    }
}

/// `Option<User>`.
fn option_of_user(ty: &Type) -> bool {
    let Type::Path(path) = ty else { return false };
    let Some(last) = path.path.segments.last() else {
        return false;
    };
    if last.ident != "Option" {
        return false;
    }
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return false;
    };
    matches!(args.args.first(), Some(GenericArgument::Type(inner)) if args.args.len() == 1 && is_user(inner))
}
