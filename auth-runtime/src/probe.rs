//! Compile-time checks of `#[protected]` handler signatures against the user model.
//!
//! Only the compiler knows which parameter type is the model, so `#[protected]`
//! emits, for each parameter type `T`, a call that method resolution steers by
//! whether `T` (or the `X` of `Option<X>`) implements [`UserModel`] (autoref
//! specialisation: the more specific impl sits one reference deeper). The call
//! returns a marker; a marker for a mistake does not implement the trait the
//! check requires, and the trait's `on_unimplemented` message explains the fix,
//! spanned at the parameter.

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

/// The parameter fits the flags.
pub struct Fits;
/// A model parameter under `#[protected(optional)]`.
pub struct PlainModel;
/// An `Option<Model>` parameter without `optional`.
pub struct OptionalModel;

/// Chosen for a model `T`.
pub trait PlainModelProbe {
    /// The marker.
    fn __warden_plain_model(&self) -> PlainModel {
        PlainModel
    }
}
impl<T: UserModel> PlainModelProbe for &Probe<T> {}

/// Chosen for any other `T`.
pub trait PlainOtherProbe {
    /// The marker.
    fn __warden_plain_model(&self) -> Fits {
        Fits
    }
}
impl<T> PlainOtherProbe for Probe<T> {}

/// Chosen for `Option<T>` with a model `T`.
pub trait OptionalModelProbe {
    /// The marker.
    fn __warden_optional_model(&self) -> OptionalModel {
        OptionalModel
    }
}
impl<T: UserModel> OptionalModelProbe for &Probe<Option<T>> {}

/// Chosen for any other type.
pub trait OptionalOtherProbe {
    /// The marker.
    fn __warden_optional_model(&self) -> Fits {
        Fits
    }
}
impl<T> OptionalOtherProbe for Probe<T> {}

/// A parameter of type `T` fits the handler's `#[protected]` flags.
#[diagnostic::on_unimplemented(
    message = "this `#[protected]` parameter does not fit its flags",
    label = "with `optional`, take `Option<{T}>` (there may be no user); without `optional`, take the model itself, not an `Option`",
    note = "`#[protected(optional)]` hands the handler `Option<Model>`; without `optional` the guard refuses anonymous requests, so the handler takes `Model`"
)]
pub trait ParameterFits<T> {}
impl<T> ParameterFits<T> for Fits {}

/// Requires the marker a probe returned to be [`Fits`].
pub fn check_parameter<T, X: ParameterFits<T>>(_marker: X) {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::user::User;

    #[test]
    fn probes_tell_the_model_apart() {
        let _: PlainModel = (&&Probe::<User>::new()).__warden_plain_model();
        let _: Fits = (&&Probe::<String>::new()).__warden_plain_model();
        let _: Fits = (&&Probe::<Option<User>>::new()).__warden_plain_model();
        let _: OptionalModel = (&&Probe::<Option<User>>::new()).__warden_optional_model();
        let _: Fits = (&&Probe::<Option<String>>::new()).__warden_optional_model();
        let _: Fits = (&&Probe::<User>::new()).__warden_optional_model();
    }
}
