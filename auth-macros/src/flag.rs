//! A bare-word flag (`active`, `read`) that refuses a value with a hint, rather
//! than darling's "unexpected type".

use darling::{Error, FromMeta};
use proc_macro2::Span;
use syn::spanned::Spanned;

/// A flag: present as a bare word, or absent. `active = true` is refused with a hint
/// rather than darling's "unexpected type".
#[derive(Default)]
pub(crate) struct FlagArg(Option<Span>);

impl FlagArg {
    pub(crate) fn is_present(&self) -> bool {
        self.0.is_some()
    }

    /// Where the flag was written.
    pub(crate) fn span(&self) -> Option<Span> {
        self.0
    }
}

impl FromMeta for FlagArg {
    fn from_meta(item: &syn::Meta) -> darling::Result<Self> {
        match item {
            syn::Meta::Path(path) => Ok(Self(Some(path.span()))),
            other => {
                let name = other
                    .path()
                    .get_ident()
                    .map(ToString::to_string)
                    .unwrap_or_default();
                Err(Error::custom(format!(
                    "`{name}` is a flag and takes no value: write just `{name}`"
                ))
                .with_span(other))
            }
        }
    }
}
