//! Reading `#[protected(...)]` with darling.

use darling::FromMeta;
use darling::util::Flag;

/// The flags as written; unknown ones get darling's "did you mean".
#[derive(FromMeta)]
pub(crate) struct ProtectedArgs {
    pub active: Flag,
    pub verified: Flag,
    pub superuser: Flag,
    pub optional: Flag,
    pub backend: Option<syn::Path>,
    #[darling(rename = "crate")]
    pub krate: Option<syn::Path>,
}
