//! Reading `#[protected(...)]` with darling.

use darling::FromMeta;

use crate::flag::FlagArg;

/// `fresh = N`: the most seconds since the user's last sign-in. Every wrong
/// spelling gets a hint naming the right one.
pub(crate) struct FreshArg {
    pub seconds: u32,
    pub span: proc_macro2::Span,
}

const FRESH_HINT: &str = "give the most seconds since the last sign-in, e.g. `fresh = 300`";

impl FromMeta for FreshArg {
    fn from_word() -> darling::Result<Self> {
        Err(darling::Error::custom(format!(
            "`fresh` needs a number of seconds: {FRESH_HINT}"
        )))
    }

    fn from_expr(expr: &syn::Expr) -> darling::Result<Self> {
        use syn::spanned::Spanned;
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
    pub backend: Option<syn::Path>,
    #[darling(rename = "crate")]
    pub krate: Option<crate::CratePath>,
}
