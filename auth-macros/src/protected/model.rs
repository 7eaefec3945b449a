//! Validation of a `#[protected]` handler: which parameter receives the user, and
//! which policy guards it.

use darling::Error;
use syn::spanned::Spanned;
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
        let mut users = Vec::new();
        let mut optional_users = Vec::new();
        for (index, input) in item.sig.inputs.iter().enumerate() {
            match input {
                FnArg::Receiver(receiver) => errors.push(
                    Error::custom(
                        "#[protected] guards free handler functions; it cannot take `self`",
                    )
                    .with_span(receiver),
                ),
                FnArg::Typed(typed) if is_user(&typed.ty) => users.push((index, typed.span())),
                FnArg::Typed(typed) if option_of_user(&typed.ty) => {
                    optional_users.push((index, typed.span()))
                }
                FnArg::Typed(_) => {}
            }
        }
        for (_, span) in users.iter().chain(&optional_users).skip(1) {
            errors.push(
                Error::custom("#[protected] hands the user to one parameter only; remove this one")
                    .with_span(span),
            );
        }
        let optional = args.optional.is_present();
        let slot = match (optional, users.first(), optional_users.first()) {
            (_, Some(_), Some(_)) => Slot::Hidden,
            (true, Some((_, span)), None) => {
                errors.push(
                    Error::custom("with `optional` there may be no user: take `Option<User>` instead of `User`")
                        .with_span(span),
                );
                Slot::Hidden
            }
            (true, None, Some((index, _))) => Slot::OptionalUser(*index),
            (true, None, None) => {
                errors.push(
                    Error::custom("`optional` needs an `Option<User>` parameter to receive the user (or nothing, if absent); add one, or remove `optional`")
                        .with_span(&args.optional.span()),
                );
                Slot::Hidden
            }
            (false, Some((index, _)), None) => Slot::User(*index),
            (false, None, Some((_, span))) => {
                errors.push(
                    Error::custom("an `Option<User>` parameter needs #[protected(optional)]; without it, take `User`")
                        .with_span(span),
                );
                Slot::Hidden
            }
            (false, None, None) => Slot::Hidden,
        };
        let krate = args.krate.unwrap_or_else(|| syn::parse_quote!(::warden));
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
