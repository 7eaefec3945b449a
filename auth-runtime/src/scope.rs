//! Scopes: what an API key may do. The application names its scopes once, in an
//! enum with `#[derive(warden::Scopes)]`; a guard asks for one with
//! `#[protected(active, scope = Scope::ReportsRead)]` (a variant that does not
//! exist is a compile error). An interactive session holds every scope; a key only
//! those it was created with.

use std::marker::PhantomData;

use crate::authn::Access;
use crate::guard::Policy;

/// An application's set of scopes, as `#[derive(warden::Scopes)]` writes it: each
/// unit variant and its name (`reports:read`), in declaration order.
///
/// ```
/// use warden_runtime::scope::Scopes;
/// // What `#[derive(warden::Scopes)]` generates, by hand.
/// #[derive(Clone, Copy)]
/// enum Scope { ReportsRead, ReportsWrite }
/// impl Scopes for Scope {
///     const NAMES: &'static [&'static str] = &["reports:read", "reports:write"];
///     fn name(&self) -> &'static str { Self::NAMES[*self as usize] }
/// }
/// assert_eq!(Scope::ReportsWrite.name(), "reports:write");
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a set of warden scopes",
    label = "not declared with #[derive(warden::Scopes)]",
    note = "declare it as `#[derive(warden::Scopes)] enum {Self} {{ #[scope(\"reports:read\")] ReportsRead }}`"
)]
pub trait Scopes: Send + Sync + 'static {
    /// Every scope's name, in the order of the variants.
    const NAMES: &'static [&'static str];
    /// Every variant's identifier (`ReportsRead`), in the same order: the OpenAPI
    /// document shows a guarded route's scope by it. The derive writes it.
    const VARIANTS: &'static [&'static str] = &[];
    /// This scope's name.
    fn name(&self) -> &'static str;
}

/// The policy of `scope = S::Variant`: `I` is the variant's index in `S`
/// (`#[protected]` writes `Scoped<Scope, { Scope::ReportsRead as usize }>`).
///
/// ```
/// use warden_runtime::scope::{Scoped, Scopes};
/// use warden_runtime::{Active, CurrentUser, User};
/// #[derive(Clone, Copy)]
/// enum Scope { ReportsRead }
/// impl Scopes for Scope {
///     const NAMES: &'static [&'static str] = &["reports:read"];
///     fn name(&self) -> &'static str { Self::NAMES[*self as usize] }
/// }
/// async fn reports(user: CurrentUser<(Active, Scoped<Scope, { Scope::ReportsRead as usize }>), User>) {}
/// ```
pub struct Scoped<S, const I: usize>(PhantomData<fn() -> S>);

impl<S: Scopes, const I: usize> Policy for Scoped<S, I> {
    const ACCESS: Access = Access {
        scope: Some(S::NAMES[I]),
        ..Access::ANY
    };
}

/// Only an interactive session (a sign-in), never an API key: what the built-in
/// routes that change credentials demand.
///
/// ```
/// use warden_runtime::scope::Interactive;
/// use warden_runtime::{Active, CurrentUser, User};
/// async fn change_payout_account(user: CurrentUser<(Active, Interactive), User>) {}
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Interactive;

impl Policy for Interactive {
    const ACCESS: Access = Access {
        caller: crate::authn::Caller::SignedIn,
        ..Access::ANY
    };
}

/// Whether `name` can be a scope: RFC 6749 §3.3's scope-token (`%x21 / %x23-5B /
/// %x5D-7E`: printable ASCII but space, `"` and `\`), 1 to 64 characters. The
/// derive checks the same at compile time.
///
/// ```
/// use warden_runtime::scope::valid_name;
/// assert!(valid_name("reports:read"));
/// assert!(!valid_name("reports read") && !valid_name(""));
/// ```
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b == 0x21 || (0x23..=0x5b).contains(&b) || (0x5d..=0x7e).contains(&b))
}
