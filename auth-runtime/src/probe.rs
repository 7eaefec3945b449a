//! Compile-time checks of `#[protected]` handler signatures against the user model.
//!
//! Only the compiler knows which parameter type is the model, so `#[protected]`
//! emits, for each parameter type `T`, a call that method resolution steers by
//! whether `T`, or the `X` of `Option<X>`, implements [`UserModel`] (autoref
//! specialisation: the more specific impl sits one reference deeper). The call
//! returns a marker type; the markers are then checked and counted with traits
//! whose `on_unimplemented` messages explain the fix, spanned at the parameter.

use std::marker::PhantomData;

use crate::model::UserModel;

/// A parameter type under examination.
pub struct Probe<T>(PhantomData<fn() -> T>);

impl<T> Probe<T> {
    /// A probe.
    #[allow(clippy::new_without_default)]
    pub const fn new() -> Self {
        Self(PhantomData)
    }
}

/// The parameter's type is the model.
pub struct IsModel;
/// The parameter's type is `Option<Model>`.
pub struct IsOptionalModel;
/// Any other parameter.
pub struct IsOther;

/// Chosen for a model `T`.
pub trait ModelKind {
    /// The marker.
    fn __warden_kind(&self) -> IsModel {
        IsModel
    }
}
impl<T: UserModel> ModelKind for &&Probe<T> {}

/// Chosen for `Option<T>` with a model `T`.
pub trait OptionalModelKind {
    /// The marker.
    fn __warden_kind(&self) -> IsOptionalModel {
        IsOptionalModel
    }
}
impl<T: UserModel> OptionalModelKind for &Probe<Option<T>> {}

/// Chosen for any other type.
pub trait OtherKind {
    /// The marker.
    fn __warden_kind(&self) -> IsOther {
        IsOther
    }
}
impl<T> OtherKind for Probe<T> {}

/// Without `optional`, the guard refuses anonymous requests.
#[diagnostic::on_unimplemented(
    message = "an `Option` of the user model needs `#[protected(optional)]`",
    label = "without `optional` there is always a user: take the model itself",
    note = "`#[protected(optional)]` hands the handler `Option<Model>`: the user, or `None`"
)]
pub trait FitsPlain {}
impl FitsPlain for IsModel {}
impl FitsPlain for IsOther {}

/// With `optional`, there may be no user.
#[diagnostic::on_unimplemented(
    message = "with `#[protected(optional)]` there may be no user",
    label = "take `Option<...>` of the user model here",
    note = "`optional` hands the handler the user or `None`; without `optional` the guard answers 401 instead"
)]
pub trait FitsOptional {}
impl FitsOptional for IsOptionalModel {}
impl FitsOptional for IsOther {}

/// Checks one parameter of a handler without `optional`.
pub fn check_plain<K: FitsPlain>(_kind: &K) {}
/// Checks one parameter of a handler with `optional`.
pub fn check_optional<K: FitsOptional>(_kind: &K) {}

/// No parameter receives the user.
#[derive(Default)]
pub struct NoUserParameter;
/// One parameter receives the user.
#[derive(Default)]
pub struct OneUserParameter;
/// Several parameters would receive the user.
#[derive(Default)]
pub struct SeveralUserParameters;

/// How many user parameters a marker counts for: without `optional` the model
/// parameters count, with it the `Option<Model>` ones (a parameter of the other
/// kind is reported on its own).
pub trait Counted {
    /// The count without `optional`.
    type Plain: Default;
    /// The count with `optional`.
    type Optional: Default;
}
impl Counted for IsModel {
    type Plain = OneUserParameter;
    type Optional = NoUserParameter;
}
impl Counted for IsOptionalModel {
    type Plain = NoUserParameter;
    type Optional = OneUserParameter;
}
impl Counted for IsOther {
    type Plain = NoUserParameter;
    type Optional = NoUserParameter;
}

/// The count of one marker in a handler without `optional`.
pub fn count_plain<K: Counted>(_kind: &K) -> K::Plain {
    K::Plain::default()
}

/// The count of one marker in a handler with `optional`.
pub fn count_optional<K: Counted>(_kind: &K) -> K::Optional {
    K::Optional::default()
}

/// Saturating addition of counts.
pub trait Plus<B> {
    /// The sum.
    type Sum: Default;
}
impl<B: Default> Plus<B> for NoUserParameter {
    type Sum = B;
}
impl Plus<NoUserParameter> for OneUserParameter {
    type Sum = OneUserParameter;
}
impl Plus<OneUserParameter> for OneUserParameter {
    type Sum = SeveralUserParameters;
}
impl Plus<SeveralUserParameters> for OneUserParameter {
    type Sum = SeveralUserParameters;
}
impl<B> Plus<B> for SeveralUserParameters {
    type Sum = SeveralUserParameters;
}

/// `a + b`.
pub fn plus<A: Plus<B>, B>(_a: A, _b: B) -> A::Sum {
    A::Sum::default()
}

/// Without `optional`: at most one parameter of the model's type.
#[diagnostic::on_unimplemented(
    message = "`#[protected]` hands the user to one parameter, and this handler has several of the user model's type",
    label = "keep one parameter of the model's type"
)]
pub trait AtMostOne {}
impl AtMostOne for NoUserParameter {}
impl AtMostOne for OneUserParameter {}

/// With `optional`: exactly one `Option<Model>` parameter.
#[diagnostic::on_unimplemented(
    message = "`#[protected(optional)]` needs exactly one `Option<...>` parameter of the user model",
    label = "found `{Self}`",
    note = "add one `Option<Model>` parameter to receive the user (or `None`), or remove `optional`"
)]
pub trait ExactlyOne {}
impl ExactlyOne for OneUserParameter {}

/// Checks the count of a handler without `optional`.
pub fn at_most_one<N: AtMostOne>(_count: N) {}
/// Checks the count of a handler with `optional`.
pub fn exactly_one<N: ExactlyOne>(_count: N) {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::user::User;

    #[test]
    // The borrows steer method resolution: they are the point.
    #[allow(clippy::needless_borrow)]
    fn probes_tell_the_model_apart() {
        let _: IsModel = (&&&Probe::<User>::new()).__warden_kind();
        let _: IsOptionalModel = (&&&Probe::<Option<User>>::new()).__warden_kind();
        let _: IsOther = (&&&Probe::<String>::new()).__warden_kind();
        let _: IsOther = (&&&Probe::<Option<String>>::new()).__warden_kind();
        let one = plus(NoUserParameter, count_plain(&IsModel));
        let one = plus(one, count_plain(&IsOptionalModel));
        let _: SeveralUserParameters = plus(one, count_plain(&IsModel));
        let _: NoUserParameter = count_optional(&IsModel);
    }
}
