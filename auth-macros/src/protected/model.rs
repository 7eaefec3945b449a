//! Validation of a `#[protected]` handler: the policy that guards it, and the
//! parameters whose types are checked against the user model.

use darling::Error;
use syn::{FnArg, Type};

use super::parse::Written;

pub(crate) struct Guard {
    pub active: bool,
    pub verified: bool,
    pub superuser: bool,
    pub optional: bool,
    /// `fresh = N`: the most seconds since the last sign-in, and where it was written.
    pub fresh: Option<(u32, proc_macro2::Span)>,
    /// `mfa`: the session must have passed a second factor; where it was written.
    pub mfa: Option<proc_macro2::Span>,
    pub backend: Option<syn::Path>,
    /// `scope = Scope::Variant`: the enum's path and the variant's.
    pub scope: Option<(syn::Path, syn::Path)>,
    /// `role = Role::X` or `any_role(Role::X, Role::Y)`: the enum's path and the
    /// variants'.
    pub roles: Option<(syn::Path, Vec<syn::Path>)>,
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
    pub(crate) fn validate(Written(args): Written, item: &syn::ItemFn) -> darling::Result<Self> {
        let mut errors = Error::accumulator();
        // A step-up requirement's refusal is a challenge the client answers (RFC 9470);
        // an optional guard turns every refusal into "no user", so the challenge would
        // never be sent and a signed-in user would read as anonymous.
        if args.optional.is_present() {
            if let Some(fresh) = &args.fresh {
                errors.push(
                    Error::custom(
                        "`fresh` cannot go with `optional`: an optional guard admits a request \
                         with no user, so a stale sign-in would read as no user and never get \
                         the re-authentication challenge. Drop `optional` (and take the user \
                         model, not `Option<...>`) to require a recent sign-in, or drop `fresh` \
                         to admit anonymous requests",
                    )
                    .with_span(&fresh.keyword),
                );
            }
            if let Some(mfa) = args.mfa.span() {
                errors.push(
                    Error::custom(
                        "`mfa` cannot go with `optional`: an optional guard admits a request \
                         with no user, so a session without a second factor would read as no \
                         user and never get the step-up challenge. Drop `optional` (and take \
                         the user model, not `Option<...>`) to require a second factor, or drop \
                         `mfa` to admit anonymous requests",
                    )
                    .with_span(&mfa),
                );
            }
        }
        let scope = match args.scope {
            Some(path) if path.segments.len() < 2 => {
                errors.push(
                    Error::custom(format!(
                        "name the enum and the variant: `scope = Scope::{}`, e.g. {}",
                        path.segments
                            .last()
                            .map(|s| s.ident.to_string())
                            .unwrap_or_default(),
                        super::parse::SCOPE_EXAMPLE
                    ))
                    .with_span(&path),
                );
                None
            }
            Some(path) => {
                if args.optional.is_present() {
                    errors.push(
                        Error::custom(
                            "`scope` cannot go with `optional`: an optional guard admits a request \
                             with no user, so a key without the scope would read as no user and \
                             never get the `insufficient_scope` refusal. Drop `optional`, or drop \
                             `scope`",
                        )
                        .with_span(&path),
                    );
                }
                let mut enum_path = path.clone();
                enum_path.segments.pop();
                enum_path.segments.pop_punct();
                Some((enum_path, path))
            }
            None => None,
        };
        let roles = roles_of(args.role, args.any_role, &mut errors);
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
            mfa: args.mfa.span(),
            backend: args.backend,
            scope,
            roles,
            krate,
            checked,
            complete,
        })
    }
}

/// The role rule: one of `role` and `any_role`, each variant named with its enum
/// (`Role::Editor`), all of one enum.
fn roles_of(
    role: Option<syn::Path>,
    any_role: Option<(Vec<syn::Path>, proc_macro2::Span)>,
    errors: &mut darling::error::Accumulator,
) -> Option<(syn::Path, Vec<syn::Path>)> {
    let variants = match (role, any_role) {
        (None, None) => return None,
        (Some(role), None) => vec![role],
        (None, Some((variants, _))) => variants,
        (Some(_), Some((_, span))) => {
            errors.push(
                Error::custom(
                    "write one role rule: `role = Role::Editor` for one role, or \
                     `any_role(Role::Editor, Role::Admin)` for either of several",
                )
                .with_span(&span),
            );
            return None;
        }
    };
    let mut enum_path: Option<syn::Path> = None;
    for variant in &variants {
        if variant.segments.len() < 2 {
            errors.push(
                Error::custom(format!(
                    "name the enum and the variant: `Role::{}`, e.g. {}",
                    variant
                        .segments
                        .last()
                        .map(|s| s.ident.to_string())
                        .unwrap_or_default(),
                    super::parse::ROLE_EXAMPLE
                ))
                .with_span(variant),
            );
            continue;
        }
        let mut path = variant.clone();
        path.segments.pop();
        path.segments.pop_punct();
        match &enum_path {
            None => enum_path = Some(path),
            Some(first) if *first == path => {}
            Some(first) => errors.push(
                Error::custom(format!(
                    "every role of one rule comes from one #[derive(Roles)] enum: `{}` is not `{}`",
                    quote::ToTokens::to_token_stream(&path),
                    quote::ToTokens::to_token_stream(first)
                ))
                .with_span(variant),
            ),
        }
    }
    enum_path.map(|path| (path, variants))
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

#[cfg(test)]
mod tests {
    use darling::FromMeta;
    use darling::ast::NestedMeta;

    use super::*;

    fn validate(args: &str, item: &str) -> darling::Result<Guard> {
        let items = NestedMeta::parse_meta_list(args.parse().map_err(darling::Error::custom)?)?;
        let item = syn::parse_str(item).map_err(darling::Error::from)?;
        Guard::validate(Written::from_list(&items)?, &item)
    }

    #[test]
    fn mfa_is_read_with_fresh() {
        let Ok(guard) = validate("active, mfa, fresh = 300", "async fn f(user: User) {}") else {
            panic!("refused");
        };
        assert!(guard.active && guard.mfa.is_some() && !guard.optional);
        assert_eq!(guard.fresh.map(|(seconds, _)| seconds), Some(300));
    }

    #[test]
    fn step_up_does_not_go_with_optional() {
        let item = "async fn f(user: Option<User>) {}";
        for (args, errors, starts) in [
            ("optional, mfa", 1, "`mfa` cannot go with `optional`"),
            (
                "optional, fresh = 300",
                1,
                "`fresh` cannot go with `optional`",
            ),
            (
                "mfa, optional, fresh = 60",
                2,
                "Multiple errors: (`fresh` cannot go",
            ),
        ] {
            let Err(error) = validate(args, item) else {
                panic!("`{args}` accepted");
            };
            assert_eq!(error.len(), errors, "{args}");
            assert!(error.to_string().starts_with(starts), "{args}: {error}");
        }
        assert!(validate("optional, active, verified", item).is_ok());
    }
}
