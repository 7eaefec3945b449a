//! Reading `#[protected(...)]` with darling.

use darling::FromMeta;

use crate::flag::FlagArg;

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
    pub backend: Option<syn::Path>,
    #[darling(rename = "crate")]
    pub krate: Option<crate::CratePath>,
}
