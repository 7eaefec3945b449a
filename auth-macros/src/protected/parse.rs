//! Reading `#[protected(...)]` with darling.

use darling::FromMeta;
use darling::ast::NestedMeta;
use proc_macro2::Span;
use quote::ToTokens;
use syn::spanned::Spanned;

use crate::flag::FlagArg;

/// `fresh = N`: the most seconds since the user's last sign-in. Every wrong
/// spelling gets a hint naming the right one.
pub(crate) struct FreshArg {
    pub seconds: u32,
    /// Where the number was written.
    pub span: Span,
    /// Where the word `fresh` was written.
    pub keyword: Span,
}

const FRESH_HINT: &str = "give the most seconds since the last sign-in, e.g. `fresh = 300`";

impl FromMeta for FreshArg {
    fn from_meta(item: &syn::Meta) -> darling::Result<Self> {
        match item {
            syn::Meta::NameValue(written) => {
                let keyword = written.path.span();
                Self::from_expr(&written.value).map(|fresh| Self { keyword, ..fresh })
            }
            // `fresh` alone, or `fresh(300)`.
            other => Err(darling::Error::custom(format!(
                "`fresh` needs a number of seconds: {FRESH_HINT}"
            ))
            .with_span(other)),
        }
    }

    fn from_expr(expr: &syn::Expr) -> darling::Result<Self> {
        let error = |message: String| Err(darling::Error::custom(message).with_span(expr));
        let syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Int(int),
            ..
        }) = expr
        else {
            return error(format!(
                "`fresh` takes a whole number of seconds: {FRESH_HINT}"
            ));
        };
        match int.base10_parse::<u32>() {
            Ok(0) => error(format!(
                "`fresh = 0` would refuse every request, even one signed in this second: {FRESH_HINT}"
            )),
            Ok(seconds) => Ok(Self {
                seconds,
                span: expr.span(),
                // `from_meta` puts the word's span here; a bare value has none.
                keyword: expr.span(),
            }),
            Err(_) => error(format!(
                "`fresh = {}` is not a number of seconds from 1 to {}: {FRESH_HINT}",
                int.base10_digits(),
                u32::MAX
            )),
        }
    }
}

/// The flags as written; unknown ones get darling's "did you mean".
#[derive(FromMeta)]
pub(crate) struct ProtectedArgs {
    #[darling(default)]
    pub active: FlagArg,
    #[darling(default)]
    pub verified: FlagArg,
    #[darling(default)]
    pub superuser: FlagArg,
    #[darling(default)]
    pub optional: FlagArg,
    pub fresh: Option<FreshArg>,
    #[darling(default, with = mfa_flag)]
    pub mfa: FlagArg,
    pub backend: Option<syn::Path>,
    #[darling(with = scope_path, default)]
    pub scope: Option<syn::Path>,
    #[darling(with = role_path, default)]
    pub role: Option<syn::Path>,
    #[darling(with = role_list, default)]
    pub any_role: Option<(Vec<syn::Path>, Span)>,
    #[darling(rename = "crate")]
    pub krate: Option<crate::CratePath>,
}

/// An example of `scope` written right, for the hints.
pub(crate) const SCOPE_EXAMPLE: &str = "`#[protected(active, scope = Scope::ReportsRead)]`";

/// An example of `role` written right, for the hints.
pub(crate) const ROLE_EXAMPLE: &str = "`#[protected(active, role = Role::Editor)]`";

/// `scope = Scope::ReportsRead`: a path to a variant of the application's
/// `#[derive(Scopes)]` enum. A string (`scope = "reports:read"`) gets a hint: the
/// variant is what makes a typo a compile error.
fn scope_path(item: &syn::Meta) -> darling::Result<Option<syn::Path>> {
    variant_path(
        item,
        "scope",
        "Scopes",
        "a list (one scope per guard)",
        SCOPE_EXAMPLE,
    )
}

/// `role = Role::Editor`: a path to a variant of the application's
/// `#[derive(Roles)]` enum; a string gets a hint, as `scope` does.
fn role_path(item: &syn::Meta) -> darling::Result<Option<syn::Path>> {
    variant_path(
        item,
        "role",
        "Roles",
        "a list: for either of several roles write `any_role(Role::Editor, Role::Admin)`",
        ROLE_EXAMPLE,
    )
}

/// `option = Enum::Variant`, the path; anything else a hint naming the derive and
/// an example (`a_list` says what a list would be).
fn variant_path(
    item: &syn::Meta,
    option: &str,
    derive: &str,
    a_list: &str,
    example: &str,
) -> darling::Result<Option<syn::Path>> {
    let hint = |what: &str| {
        darling::Error::custom(format!(
            "`{option}` takes a variant of your #[derive({derive})] enum, not {what}, so a typo does not compile: write {example}"
        ))
        .with_span(item)
    };
    match item {
        syn::Meta::NameValue(written) => match &written.value {
            syn::Expr::Path(path) => Ok(Some(path.path.clone())),
            syn::Expr::Lit(_) => Err(hint("a string")),
            _ => Err(hint("an expression")),
        },
        syn::Meta::List(_) => Err(hint(a_list)),
        syn::Meta::Path(_) => Err(hint("nothing")),
    }
}

/// `any_role(Role::Editor, Role::Admin)`: variants of one `#[derive(Roles)]` enum,
/// at least one; and where the list was written.
fn role_list(item: &syn::Meta) -> darling::Result<Option<(Vec<syn::Path>, Span)>> {
    const HINT: &str = "`any_role` takes variants of your #[derive(Roles)] enum: write `#[protected(active, any_role(Role::Editor, Role::Admin))]`";
    let syn::Meta::List(list) = item else {
        return Err(darling::Error::custom(HINT).with_span(item));
    };
    let mut paths = Vec::new();
    let mut errors = darling::Error::accumulator();
    let items = NestedMeta::parse_meta_list(list.tokens.clone())?;
    for nested in &items {
        match nested {
            NestedMeta::Meta(syn::Meta::Path(path)) => paths.push(path.clone()),
            other => errors.push(darling::Error::custom(HINT).with_span(other)),
        }
    }
    if items.is_empty() {
        errors.push(
            darling::Error::custom(format!(
                "`any_role()` names no role, so it would admit nobody: {HINT}"
            ))
            .with_span(item),
        );
    }
    errors.finish_with(Some((paths, item.span())))
}

/// An example of `mfa` written right, for the hints.
const MFA_EXAMPLE: &str = "`#[protected(active, mfa)]`";

/// `mfa` is a flag; `mfa = true` or `mfa = "totp"` gets a hint: any second factor
/// counts, there is nothing to choose.
fn mfa_flag(item: &syn::Meta) -> darling::Result<FlagArg> {
    FlagArg::from_meta(item).map_err(|_| {
        darling::Error::custom(format!(
            "`mfa` is a flag and takes no value: write just `mfa`, e.g. {MFA_EXAMPLE}"
        ))
        .with_span(item)
    })
}

/// `#[protected(...)]` as written: the other names people give a second factor
/// (`two_factor`, `2fa`, `otp`, ...) are refused with a hint naming `mfa`, which
/// darling's "did you mean" cannot give (they are not spelled like it); everything
/// else is read by [`ProtectedArgs`].
pub(crate) struct Written(pub ProtectedArgs);

/// Other names of a second factor, lower case without `_`.
const SECOND_FACTOR_NAMES: &[&str] = &[
    "mfa",
    "2fa",
    "twofa",
    "twofactor",
    "secondfactor",
    "otp",
    "totp",
    "requiremfa",
    "mfarequired",
];

/// The name as written and where, when `item` names a second factor other than as
/// `mfa`.
fn second_factor_name(item: &NestedMeta) -> Option<(String, Span)> {
    let (written, span) = match item {
        NestedMeta::Meta(meta) => (
            meta.path().to_token_stream().to_string(),
            meta.path().span(),
        ),
        // `2fa` is an integer literal with the suffix `fa`.
        NestedMeta::Lit(lit) => (lit.to_token_stream().to_string(), lit.span()),
    };
    let key = written.to_ascii_lowercase().replace('_', "");
    (written != "mfa" && SECOND_FACTOR_NAMES.contains(&key.as_str())).then_some((written, span))
}

impl FromMeta for Written {
    fn from_list(items: &[NestedMeta]) -> darling::Result<Self> {
        let mut errors = Vec::new();
        let mut rest = Vec::new();
        for item in items {
            match second_factor_name(item) {
                Some((written, span)) => errors.push(
                    darling::Error::custom(format!(
                        "Unknown field: `{written}`. Did you mean `mfa`? It admits a session that \
                         passed a second factor of any kind (a TOTP or recovery code, a passkey, \
                         a provider that checked one): write {MFA_EXAMPLE}"
                    ))
                    .with_span(&span),
                ),
                None => rest.push(item.clone()),
            }
        }
        match ProtectedArgs::from_list(&rest) {
            Ok(args) if errors.is_empty() => Ok(Self(args)),
            Ok(_) => Err(darling::Error::multiple(errors)),
            Err(error) => {
                errors.push(error);
                Err(darling::Error::multiple(errors))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(args: &str) -> darling::Result<Written> {
        let items = NestedMeta::parse_meta_list(args.parse().map_err(darling::Error::custom)?)?;
        Written::from_list(&items)
    }

    fn message(args: &str) -> String {
        match read(args) {
            Ok(_) => panic!("`{args}` was accepted"),
            Err(error) => error.to_string(),
        }
    }

    #[test]
    fn mfa_is_a_flag() {
        let Ok(Written(args)) = read("active, mfa, fresh = 300") else {
            panic!("refused");
        };
        assert!(args.mfa.is_present() && args.active.is_present());
        assert_eq!(args.fresh.map(|fresh| fresh.seconds), Some(300));
        let Ok(Written(args)) = read("active") else {
            panic!("refused");
        };
        assert!(!args.mfa.is_present());
    }

    #[test]
    fn mfa_with_a_value_gets_a_hint() {
        for args in ["mfa = true", "active, mfa = \"totp\"", "mfa(totp)"] {
            // darling's `Display` ends with where in the attribute the error is.
            assert_eq!(
                message(args),
                "`mfa` is a flag and takes no value: write just `mfa`, e.g. `#[protected(active, mfa)]` at mfa",
                "{args}"
            );
        }
    }

    #[test]
    fn other_names_of_a_second_factor_are_pointed_at_mfa() {
        for name in [
            "two_factor",
            "2fa",
            "otp",
            "TOTP",
            "MFA",
            "second_factor",
            "require_mfa",
        ] {
            let message = message(&format!("active, {name}"));
            assert!(
                message.starts_with(&format!("Unknown field: `{name}`. Did you mean `mfa`?")),
                "{name}: {message}"
            );
        }
    }

    #[test]
    fn a_typo_of_mfa_gets_darlings_suggestion() {
        assert_eq!(
            message("active, mfaa"),
            "Unknown field: `mfaa`. Did you mean `mfa`?"
        );
    }

    #[test]
    fn every_error_is_reported() {
        let Err(error) = read("otp, activ") else {
            panic!("accepted");
        };
        assert_eq!(error.len(), 2);
    }
}
