//! Reading `#[user_model(...)]` and each field's `#[user(...)]` with darling.

use darling::FromMeta;

use crate::flag::FlagArg;

/// The model's options. Unknown ones get darling's "did you mean".
#[derive(FromMeta, Default)]
pub(crate) struct ModelArgs {
    /// `id = i64` or `id = Uuid` (the default).
    pub id: Option<syn::Path>,
    /// `login = username`: the field users log in with (the default: `email`).
    pub login: Option<syn::Path>,
    /// `email`: keep FastAPI Users' e-mail field in a model that logs in with
    /// another one.
    #[darling(default)]
    pub email: FlagArg,
    #[darling(rename = "crate")]
    pub krate: Option<crate::CratePath>,
}

/// A field's flags: `#[user(read, create, update, default = "free")]`.
#[derive(FromMeta, Default)]
pub(crate) struct FieldArgs {
    #[darling(default)]
    pub read: FlagArg,
    #[darling(default)]
    pub create: FlagArg,
    #[darling(default)]
    pub update: FlagArg,
    /// `roles`: the field is the user's roles, a `Vec` of a `#[derive(Roles)]` enum.
    #[darling(default)]
    pub roles: FlagArg,
    pub default: Option<syn::Lit>,
}
