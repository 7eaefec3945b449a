//! Roles: what a user may do in the application, beyond FastAPI Users' three flags.
//! The application names its roles once, in an enum with `#[derive(warden::Roles)]`;
//! the user model holds them in a field marked `#[user(roles)]`; a guard asks for
//! one with `#[protected(active, role = Role::Editor)]` or for any of several with
//! `any_role(Role::Editor, Role::Admin)` (a variant that does not exist is a
//! compile error). A refusal is 403 `{"detail": "Forbidden"}`.
//!
//! Roles are stored in one text column of the user table: the role names in the
//! enum's order, separated by one space (`"admin editor"`; `""` for none), as
//! OAuth writes a list of scopes (RFC 6749 §3.3). They change only through
//! `PATCH /users/{id}` (a superuser) or code ([`UserModel::set_roles`]): a user's
//! own update, registration and API keys never carry them.

use std::fmt;
use std::marker::PhantomData;

use serde::ser::{Serialize, SerializeSeq, Serializer};
use serde_json::Value;

use crate::authn::{Access, RoleRule};
use crate::guard::Policy;
use crate::model::{FieldKind, FieldType, FieldValue};

/// An application's set of roles, as `#[derive(warden::Roles)]` writes it: each
/// unit variant and its name, in declaration order (at most 64).
///
/// ```
/// use warden_runtime::role::Roles;
/// // What `#[derive(warden::Roles)]` generates, by hand.
/// #[derive(Clone, Copy, Debug, PartialEq, Eq)]
/// enum Role { Admin, Editor }
/// impl Roles for Role {
///     const NAMES: &'static [&'static str] = &["admin", "editor"];
///     fn name(self) -> &'static str { Self::NAMES[self as usize] }
///     fn from_name(name: &str) -> Option<Self> {
///         match name { "admin" => Some(Self::Admin), "editor" => Some(Self::Editor), _ => None }
///     }
/// }
/// assert_eq!(Role::from_name("editor"), Some(Role::Editor));
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a set of warden roles",
    label = "not declared with #[derive(warden::Roles)]",
    note = "declare it as `#[derive(Clone, Copy, Debug, PartialEq, Eq, warden::Roles)] enum {Self} {{ Admin, Editor }}`"
)]
pub trait Roles: Copy + Eq + fmt::Debug + Send + Sync + 'static {
    /// Every role's name, in the order of the variants.
    const NAMES: &'static [&'static str];
    /// Every variant's identifier (`Editor`), in the same order: the OpenAPI
    /// document shows a guarded route's roles by it. The derive writes it.
    const VARIANTS: &'static [&'static str] = &[];
    /// This role's name.
    fn name(self) -> &'static str;
    /// The role of this name, if the enum has one.
    fn from_name(name: &str) -> Option<Self>;
}

/// The policy of `any_role(...)` and `role = ...`: the user must hold one of the
/// roles of `R` whose bit is set in `MASK` (bit `i` for the `i`-th variant; see
/// [`role_bits`]).
///
/// ```
/// use warden_runtime::role::{role_bits, AnyRole, Roles};
/// use warden_runtime::{Active, CurrentUser, User};
/// #[derive(Clone, Copy, Debug, PartialEq, Eq)]
/// enum Role { Admin, Editor }
/// impl Roles for Role {
///     const NAMES: &'static [&'static str] = &["admin", "editor"];
///     fn name(self) -> &'static str { Self::NAMES[self as usize] }
///     fn from_name(name: &str) -> Option<Self> { Self::NAMES.iter().position(|n| *n == name).map(|i| [Self::Admin, Self::Editor][i]) }
/// }
/// // What `#[protected(active, any_role(Role::Editor, Role::Admin))]` means.
/// type Editors = AnyRole<Role, { role_bits(&[Role::Editor as usize, Role::Admin as usize]) }>;
/// async fn publish(user: CurrentUser<(Active, Editors), User>) {}
/// ```
pub struct AnyRole<R, const MASK: u64>(PhantomData<fn() -> R>);

impl<R: Roles, const MASK: u64> Policy for AnyRole<R, MASK> {
    const ACCESS: Access = Access {
        roles: Some(RoleRule {
            names: R::NAMES,
            mask: MASK,
        }),
        ..Access::ANY
    };
}

/// The mask of [`AnyRole`] admitting the variants at these indices (`Role::X as
/// usize`). An index of 64 or more does not compile: a set has at most 64 roles.
///
/// ```
/// use warden_runtime::role::role_bits;
/// assert_eq!(role_bits(&[0, 2]), 0b101);
/// ```
pub const fn role_bits(indices: &[usize]) -> u64 {
    let mut mask = 0u64;
    let mut i = 0;
    while i < indices.len() {
        assert!(indices[i] < 64, "a set of roles has at most 64 roles");
        mask |= 1 << indices[i];
        i += 1;
    }
    mask
}

/// Whether `name` can be a role: 1 to 64 characters, a lower-case ASCII letter or
/// digit first, then those, `_`, `-`, `.` or `:`: no space (the column's separator)
/// and nothing a URL query or a log line would need to escape. The derive checks
/// the same at compile time.
///
/// ```
/// use warden_runtime::role::valid_name;
/// assert!(valid_name("editor") && valid_name("billing:admin"));
/// assert!(!valid_name("Editor") && !valid_name("a b") && !valid_name(""));
/// ```
pub fn valid_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    matches!(bytes.first(), Some(b'a'..=b'z' | b'0'..=b'9'))
        && bytes.len() <= 64
        && bytes
            .iter()
            .all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'_' | b'-' | b'.' | b':'))
}

/// The roles of `R` that `names` name, in the enum's order, each once: a stored name
/// the enum no longer has is skipped with a warning, never an unloadable user.
fn parse<R: Roles>(names: &str) -> Vec<R> {
    let mut found = Vec::new();
    for name in names.split_whitespace() {
        match R::from_name(name) {
            Some(role) => {
                if !found.contains(&role) {
                    found.push(role);
                }
            }
            None => tracing::warn!(
                role = name,
                "a stored role is not in the application's roles; ignored"
            ),
        }
    }
    found.sort_by_key(|role| position(*role));
    found
}

fn position<R: Roles>(role: R) -> usize {
    R::NAMES
        .iter()
        .position(|name| *name == role.name())
        .unwrap_or(usize::MAX)
}

/// A roles field's column: see the module's documentation for the format.
impl<R: Roles> FieldType for Vec<R> {
    const KIND: FieldKind = FieldKind::Roles(R::NAMES);

    fn to_value(&self) -> FieldValue {
        let mut roles = self.clone();
        roles.sort_by_key(|role| position(*role));
        roles.dedup();
        let names: Vec<&str> = roles.iter().map(|role| role.name()).collect();
        FieldValue::Text(names.join(" "))
    }

    fn from_value(value: FieldValue) -> Result<Self, String> {
        match value {
            FieldValue::Text(text) => Ok(parse(&text)),
            // A column added to an existing table without a default.
            FieldValue::Null => Ok(Vec::new()),
            other => Err(format!("expected role names, found {other:?}")),
        }
    }

    fn from_json(value: &Value) -> Result<Self, (&'static str, String)> {
        let Value::Array(items) = value else {
            return Err(("list_type", "Input should be a valid list".into()));
        };
        let mut roles = Vec::new();
        for item in items {
            match item.as_str().and_then(R::from_name) {
                Some(role) if !roles.contains(&role) => roles.push(role),
                Some(_) => {}
                None => return Err(("enum", expected(R::NAMES))),
            }
        }
        Ok(roles)
    }
}

/// Pydantic's message for a value outside an enum: `Input should be 'admin',
/// 'editor' or 'viewer'`.
pub(crate) fn expected(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|name| format!("'{name}'")).collect();
    match quoted.split_last() {
        Some((last, rest)) if !rest.is_empty() => {
            format!("Input should be {} or {last}", rest.join(", "))
        }
        Some((last, _)) => format!("Input should be {last}"),
        None => "No role can be given: the model has no roles".to_owned(),
    }
}

/// A user's roles as their names: what `UserRead` shows and `Debug` prints.
///
/// ```
/// use warden_runtime::role::{RoleNames, Roles};
/// #[derive(Clone, Copy, Debug, PartialEq, Eq)]
/// enum Role { Admin }
/// impl Roles for Role {
///     const NAMES: &'static [&'static str] = &["admin"];
///     fn name(self) -> &'static str { "admin" }
///     fn from_name(name: &str) -> Option<Self> { (name == "admin").then_some(Self::Admin) }
/// }
/// assert_eq!(serde_json::to_string(&RoleNames(&[Role::Admin])).unwrap(), r#"["admin"]"#);
/// ```
pub struct RoleNames<'a, R>(pub &'a [R]);

impl<R: Roles> Serialize for RoleNames<'_, R> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.0.len()))?;
        for role in self.0 {
            seq.serialize_element(role.name())?;
        }
        seq.end()
    }
}

impl<R: Roles> fmt::Debug for RoleNames<'_, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|role| role.name()))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    enum Role {
        Admin,
        Editor,
        Viewer,
    }

    impl Roles for Role {
        const NAMES: &'static [&'static str] = &["admin", "editor", "viewer"];
        fn name(self) -> &'static str {
            Self::NAMES[self as usize]
        }
        fn from_name(name: &str) -> Option<Self> {
            [Self::Admin, Self::Editor, Self::Viewer]
                .into_iter()
                .find(|role| role.name() == name)
        }
    }

    #[test]
    fn the_column_is_names_in_the_enums_order_once() {
        let roles = vec![Role::Viewer, Role::Admin, Role::Viewer];
        assert_eq!(roles.to_value(), FieldValue::Text("admin viewer".into()));
        assert_eq!(
            Vec::<Role>::new().to_value(),
            FieldValue::Text(String::new())
        );
        assert_eq!(
            Vec::<Role>::from_value(FieldValue::Text("viewer admin".into())),
            Ok(vec![Role::Admin, Role::Viewer])
        );
    }

    #[test]
    fn a_role_the_enum_no_longer_has_is_skipped() {
        assert_eq!(
            Vec::<Role>::from_value(FieldValue::Text("owner editor  ".into())),
            Ok(vec![Role::Editor])
        );
        assert_eq!(Vec::<Role>::from_value(FieldValue::Null), Ok(Vec::new()));
        assert!(Vec::<Role>::from_value(FieldValue::Int(1)).is_err());
    }

    #[test]
    fn json_takes_a_list_of_known_names() {
        let json = serde_json::json!(["editor", "editor", "admin"]);
        assert_eq!(
            Vec::<Role>::from_json(&json),
            Ok(vec![Role::Editor, Role::Admin])
        );
        assert_eq!(
            Vec::<Role>::from_json(&serde_json::json!(["owner"])),
            Err((
                "enum",
                "Input should be 'admin', 'editor' or 'viewer'".to_owned()
            ))
        );
        assert_eq!(
            Vec::<Role>::from_json(&serde_json::json!("admin")).map_err(|e| e.0),
            Err("list_type")
        );
    }

    #[test]
    fn masks_pick_roles() {
        let rule = RoleRule {
            names: Role::NAMES,
            mask: role_bits(&[Role::Editor as usize, Role::Admin as usize]),
        };
        assert_eq!(rule.mask, 0b011);
        type Editors = AnyRole<Role, { role_bits(&[Role::Editor as usize]) }>;
        assert_eq!(
            <Editors as Policy>::ACCESS.roles,
            Some(RoleRule {
                names: Role::NAMES,
                mask: 0b010
            })
        );
    }
}
