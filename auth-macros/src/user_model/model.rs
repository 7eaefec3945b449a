//! Validation of a `#[user_model]` struct into a checked model: every problem is
//! spanned at the token that causes it, and all of them are reported at once.

use darling::ast::NestedMeta;
use darling::{Error, FromMeta};
use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::{Fields, GenericArgument, Lit, PathArguments, Type};

use super::parse::{FieldArgs, ModelArgs};
use crate::suggest::closest;

/// FastAPI Users' base fields, which `#[user_model]` adds itself; `password` is the
/// plain-text field of the create and update bodies.
pub(crate) const RESERVED: [&str; 7] = [
    "id",
    "email",
    "hashed_password",
    "is_active",
    "is_superuser",
    "is_verified",
    "password",
];

/// The scalar types a field may have, alone or in an `Option`.
const SCALARS: [&str; 7] = ["String", "bool", "i16", "i32", "i64", "f32", "f64"];

/// Derives the macro writes itself.
const GENERATED_DERIVES: [&str; 4] = ["Clone", "PartialEq", "Debug", "Serialize"];

pub(crate) enum IdType {
    Uuid,
    I64,
}

/// A scalar's family, for checking defaults.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scalar {
    Text,
    Bool,
    Int,
    Float,
    /// `#[user(roles)] roles: Vec<Role>`.
    Roles,
}

pub(crate) struct ModelField {
    pub scalar: Scalar,
    pub ident: syn::Ident,
    pub vis: syn::Visibility,
    pub attrs: Vec<syn::Attribute>,
    pub ty: Type,
    /// `Option<T>`: the `T`.
    pub inner: Option<Type>,
    pub read: bool,
    pub create: bool,
    pub update: bool,
    pub default: Option<Lit>,
    /// A `#[user(roles)]` field: its enum, the `R` of `Vec<R>`.
    pub roles: Option<Type>,
}

impl ModelField {
    pub(crate) fn nullable(&self) -> bool {
        self.inner.is_some()
    }

    pub(crate) fn is_float(&self) -> bool {
        self.scalar == Scalar::Float
    }

    /// Registration must carry it: `create`, not an `Option`, no default.
    pub(crate) fn required(&self) -> bool {
        self.create && !self.nullable() && self.default.is_none()
    }
}

pub(crate) struct Model {
    pub item: syn::ItemStruct,
    pub id: IdType,
    pub fields: Vec<ModelField>,
    /// The field users log in with (`login = username`); `None`: the e-mail.
    pub login: Option<syn::Ident>,
    /// Whether the struct gets FastAPI Users' `email` field.
    pub has_email: bool,
    /// The `#[user(roles)]` field, if any: its name and its enum.
    pub roles: Option<(syn::Ident, Type)>,
    pub krate: syn::Path,
}

impl Model {
    pub(crate) fn validate(args: ModelArgs, item: &syn::ItemStruct) -> darling::Result<Self> {
        let mut errors = Error::accumulator();
        let id = match &args.id {
            None => IdType::Uuid,
            Some(path) => match path.segments.last().map(|s| s.ident.to_string()) {
                Some(last) if last == "Uuid" => IdType::Uuid,
                Some(last) if last == "i64" && path.segments.len() == 1 => IdType::I64,
                other => {
                    let hint = match other.as_deref() {
                        Some("i32" | "u32" | "u64" | "usize" | "isize" | "i128") => {
                            " (integer ids are 64-bit signed, as FastAPI Users' `Integer` primary key: write `id = i64`)".to_owned()
                        }
                        Some(word) => closest(word, &["Uuid", "i64"])
                            .map(|c| format!(" (did you mean `{c}`?)"))
                            .unwrap_or_default(),
                        None => String::new(),
                    };
                    errors.push(
                        Error::custom(format!(
                            "unsupported id type: use `Uuid` (the default) or `i64`{hint}"
                        ))
                        .with_span(path),
                    );
                    IdType::Uuid
                }
            },
        };
        if !item.generics.params.is_empty() || item.generics.where_clause.is_some() {
            errors.push(
                Error::custom("#[user_model] structs cannot be generic: the stores need one concrete column type per field")
                    .with_span(&item.generics),
            );
        }
        for attr in &item.attrs {
            check_derives(attr, &mut errors);
        }
        let login = login_name(&args, &mut errors);
        let has_email = login.is_none() || args.email.is_present();
        let mut fields = Vec::new();
        let mut login_field = None;
        match &item.fields {
            Fields::Named(named) => {
                // A `login` that names no field was probably meant for one of them:
                // no follow-on error about how that field is set.
                let login_unresolved = args.login.as_ref().is_some_and(|path| {
                    !path.is_ident("email")
                        && !login.as_ref().is_some_and(|login| {
                            named.named.iter().any(|f| f.ident.as_ref() == Some(login))
                        })
                });
                for field in &named.named {
                    let is_login = login.as_ref().is_some_and(|login| {
                        field.ident.as_ref().is_some_and(|ident| ident == login)
                    });
                    let checked = validate_field(field, is_login, login_unresolved);
                    if let Some(field) = errors.handle(checked) {
                        if is_login {
                            login_field = Some(field.ident.clone());
                        }
                        fields.push(field);
                    }
                }
                if let Some(login) = &login
                    && login_field.is_none()
                    && !named.named.iter().any(|f| f.ident.as_ref() == Some(login))
                {
                    let names: Vec<String> = named
                        .named
                        .iter()
                        .filter_map(|f| f.ident.as_ref().map(ToString::to_string))
                        .collect();
                    let names: Vec<&str> = names.iter().map(String::as_str).collect();
                    let hint = closest(&login.to_string(), &names).map_or_else(
                        || format!("declare it: `pub {login}: String`"),
                        |c| format!("did you mean `{c}`?"),
                    );
                    errors.push(
                        Error::custom(format!("the login field `{login}` is not a field of this struct: {hint}"))
                            .with_span(login),
                    );
                }
            }
            Fields::Unnamed(unnamed) => errors.push(
                Error::custom("#[user_model] needs named fields (the field names are the JSON keys and the column names): write `pub struct Member { pub first_name: String }`")
                    .with_span(&unnamed.paren_token.span.join()),
            ),
            Fields::Unit => errors.push(
                Error::custom("#[user_model] needs braces: write `pub struct Member {}` for a model with only the base fields")
                    .with_span(&item.ident),
            ),
        }
        let mut roles: Option<(syn::Ident, Type)> = None;
        for field in &fields {
            let Some(role) = &field.roles else { continue };
            match &roles {
                None => roles = Some((field.ident.clone(), role.clone())),
                Some((first, _)) => errors.push(
                    Error::custom(format!(
                        "a user has one set of roles, already held by `{first}`: keep one #[user(roles)] field"
                    ))
                    .with_span(&field.ident),
                ),
            }
        }
        let krate = args
            .krate
            .map_or_else(|| syn::parse_quote!(::warden), |krate| krate.0);
        errors.finish_with(Self {
            item: item.clone(),
            id,
            fields,
            login: login_field,
            has_email,
            roles,
            krate,
        })
    }
}

/// The field named by `login = ...`, if it is not the e-mail; `email` without it is
/// refused, since the e-mail is there already.
fn login_name(args: &ModelArgs, errors: &mut darling::error::Accumulator) -> Option<syn::Ident> {
    let login = match &args.login {
        None => None,
        Some(path) => match path.get_ident() {
            Some(ident) if ident == "email" => None,
            Some(ident) => Some(ident.clone()),
            None => {
                errors.push(
                    Error::custom("`login` names a field of the struct: write `login = username`")
                        .with_span(path),
                );
                None
            }
        },
    };
    if login.is_none()
        && let Some(span) = args.email.span()
    {
        errors.push(
            Error::custom("the model logs in with its e-mail, which it has already: `email` only adds one beside `login = username`; remove it")
                .with_span(&span),
        );
    }
    login
}

fn check_derives(attr: &syn::Attribute, errors: &mut darling::error::Accumulator) {
    if !attr.path().is_ident("derive") {
        return;
    }
    let Ok(paths) = attr.parse_args_with(
        syn::punctuated::Punctuated::<syn::Path, syn::Token![,]>::parse_terminated,
    ) else {
        return;
    };
    for path in paths {
        if let Some(last) = path.segments.last()
            && GENERATED_DERIVES.contains(&last.ident.to_string().as_str())
        {
            errors.push(
                Error::custom(format!(
                    "#[user_model] implements `{}` itself (Debug and Serialize never show the password hash): remove it from the derive",
                    last.ident
                ))
                .with_span(&path),
            );
        }
    }
}

fn validate_field(
    field: &syn::Field,
    is_login: bool,
    login_unresolved: bool,
) -> darling::Result<ModelField> {
    let mut errors = Error::accumulator();
    let Some(ident) = field.ident.clone() else {
        return Err(Error::custom("fields need names").with_span(field));
    };
    let name = ident.to_string();
    let name = name.strip_prefix("r#").unwrap_or(&name).to_owned();
    if RESERVED.contains(&name.as_str()) {
        let why = if name == "password" {
            "`password` is the plain-text field of the register and update bodies"
        } else {
            "#[user_model] adds FastAPI Users' base fields (id, email, hashed_password, is_active, is_superuser, is_verified) itself"
        };
        errors.push(
            Error::custom(format!("field `{name}` is reserved: {why}; rename it"))
                .with_span(&ident),
        );
    }
    let mut args = FieldArgs::default();
    let mut attrs = Vec::new();
    let mut seen = false;
    // A #[user] that did not parse says nothing reliable about the flags: no
    // follow-on error about them.
    let mut flags_known = true;
    for attr in &field.attrs {
        if !attr.path().is_ident("user") {
            attrs.push(attr.clone());
            continue;
        }
        if seen {
            errors.push(
                Error::custom("one #[user(...)] per field: put every flag in it").with_span(attr),
            );
            flags_known = false;
            continue;
        }
        seen = true;
        let parsed = attr
            .meta
            .require_list()
            .map_err(Error::from)
            .and_then(|list| NestedMeta::parse_meta_list(list.tokens.clone()).map_err(Error::from))
            .and_then(|list| FieldArgs::from_list(&list));
        match errors.handle(parsed) {
            Some(parsed) => args = parsed,
            None => flags_known = false,
        }
    }
    let roles = if let Some(span) = args.roles.span() {
        check_roles_flags(&args, span, is_login, &mut errors);
        match vec_inner(&field.ty) {
            Some(role) => Some(role.clone()),
            None => {
                errors.push(
                    Error::custom(
                        "a roles field is a `Vec` of your #[derive(Roles)] enum: write `#[user(roles)] pub roles: Vec<Role>`",
                    )
                    .with_span(&field.ty),
                );
                None
            }
        }
    } else {
        None
    };
    let (scalar, inner) = if args.roles.is_present() {
        (Scalar::Roles, None)
    } else {
        match classify(&field.ty) {
            Ok(found) => found,
            Err(error) => {
                errors.push(error);
                (Scalar::Text, None)
            }
        }
    };
    let nullable = inner.is_some();
    if is_login {
        // The login is what a user registers and logs in with: a required string.
        if scalar != Scalar::Text || nullable {
            errors.push(
                Error::custom("the login field is a `String`: every user has one, compared case-insensitively")
                    .with_span(&field.ty),
            );
        }
        if let Some(default) = &args.default {
            errors.push(
                Error::custom("the login field cannot have a default: every user chooses their own, and logins are unique")
                    .with_span(default),
            );
        }
    } else if flags_known
        && scalar != Scalar::Roles
        && !login_unresolved
        && !args.create.is_present()
        && args.default.is_none()
        && !nullable
    {
        errors.push(
            Error::custom(format!(
                "field `{name}` is never set at registration: add `create` to accept it there, give it a `default = ...`, or make it an `Option`"
            ))
            .with_span(&ident),
        );
    }
    if let Some(default) = &args.default
        && let Some(error) = check_default(default, scalar)
    {
        errors.push(error);
    }
    errors.finish_with(ModelField {
        scalar,
        ident,
        vis: field.vis.clone(),
        attrs,
        ty: field.ty.clone(),
        inner,
        // The login is always shown and always given at registration; roles are
        // always shown and never given by the user.
        read: is_login || args.read.is_present() || roles.is_some(),
        create: is_login || args.create.is_present(),
        update: args.update.is_present(),
        default: args.default,
        roles,
    })
}

/// Roles are a superuser's to give (FastAPI Users' `is_superuser` is the same):
/// never taken at registration or from a user's own update, and they start empty.
fn check_roles_flags(
    args: &FieldArgs,
    span: proc_macro2::Span,
    is_login: bool,
    errors: &mut darling::error::Accumulator,
) {
    for (flag, why) in [
        (
            args.create.span(),
            "`create` would let anyone who registers choose their own roles",
        ),
        (
            args.update.span(),
            "`update` would let a user give themself roles on `PATCH /users/me`",
        ),
    ] {
        if let Some(flag) = flag {
            errors.push(
                Error::custom(format!(
                    "{why}: roles change only through a superuser's `PATCH /users/{{id}}` or your code (`UserModel::set_roles`); remove it"
                ))
                .with_span(&flag),
            );
        }
    }
    if let Some(default) = &args.default {
        errors.push(
            Error::custom("a roles field takes no default: a new user has no roles; give them with `UserModel::set_roles`")
                .with_span(default),
        );
    }
    if is_login {
        errors.push(Error::custom("the login field cannot hold roles").with_span(&span));
    }
}

/// The `T` of a `Vec<T>`.
fn vec_inner(ty: &Type) -> Option<&Type> {
    generic_inner(ty, "Vec")
}

/// The scalar family of a field type, and the `T` of an `Option<T>`.
fn classify(ty: &Type) -> darling::Result<(Scalar, Option<Type>)> {
    if let Some(inner) = option_inner(ty) {
        return scalar(inner).map(|s| (s, Some(inner.clone())));
    }
    scalar(ty).map(|s| (s, None))
}

fn scalar(ty: &Type) -> darling::Result<Scalar> {
    if let Type::Reference(reference) = ty {
        return Err(Error::custom(
            "unsupported field type: a user model owns its data; use `String` rather than a reference",
        )
        .with_span(reference));
    }
    let (name, bare) = match ty {
        Type::Path(path) if path.qself.is_none() => {
            path.path.segments.last().map_or((None, false), |s| {
                (Some(s.ident.to_string()), s.arguments.is_none())
            })
        }
        _ => (None, false),
    };
    let found = match name.as_deref().filter(|_| bare) {
        Some("String") => Some(Scalar::Text),
        Some("bool") => Some(Scalar::Bool),
        Some("i16" | "i32" | "i64") => Some(Scalar::Int),
        Some("f32" | "f64") => Some(Scalar::Float),
        _ => None,
    };
    found.ok_or_else(|| {
        let hint = match name.as_deref() {
            Some("u8" | "u16" | "u32" | "u64" | "usize" | "i8" | "i128" | "u128" | "isize") => {
                " (SQL integers are signed: use i16, i32 or i64)".to_owned()
            }
            Some("str") => " (a model owns its data: use String)".to_owned(),
            Some("Vec") => " (a `Vec` is a column only as the user's roles: `#[user(roles)] roles: Vec<Role>` of a #[derive(Roles)] enum)".to_owned(),
            Some(word) => closest(word, &SCALARS)
                .map(|c| format!(" (did you mean `{c}`?)"))
                .unwrap_or_default(),
            None => String::new(),
        };
        Error::custom(format!(
            "unsupported field type: a user model field is String, bool, i16, i32, i64, f32 or f64, or an Option of one{hint}"
        ))
        .with_span(ty)
    })
}

fn option_inner(ty: &Type) -> Option<&Type> {
    generic_inner(ty, "Option")
}

/// The `T` of `wrapper<T>` (`Option<T>`, `Vec<T>`).
fn generic_inner<'a>(ty: &'a Type, wrapper: &str) -> Option<&'a Type> {
    let Type::Path(path) = ty else { return None };
    let last = path.path.segments.last()?;
    if last.ident != wrapper {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    match args.args.first() {
        Some(GenericArgument::Type(inner)) if args.args.len() == 1 => Some(inner),
        _ => None,
    }
}

fn check_default(default: &Lit, scalar: Scalar) -> Option<Error> {
    let fits = matches!(
        (default, scalar),
        (Lit::Str(_), Scalar::Text)
            | (Lit::Bool(_), Scalar::Bool)
            | (Lit::Int(_), Scalar::Int)
            | (Lit::Float(_) | Lit::Int(_), Scalar::Float)
    );
    if fits {
        return None;
    }
    let expected = match scalar {
        Scalar::Text => "a string, e.g. `default = \"free\"`",
        Scalar::Bool => "`true` or `false`",
        Scalar::Int => "an integer, e.g. `default = 0`",
        Scalar::Float => "a number, e.g. `default = 0.0`",
        Scalar::Roles => "nothing: a roles field takes no default",
    };
    Some(
        Error::custom(format!(
            "this default does not fit the field's type: expected {expected}"
        ))
        .with_span(default),
    )
}

/// The struct without `#[user(...)]` attributes, for the fallback output.
pub(crate) fn strip_user_attributes(mut item: syn::ItemStruct) -> syn::ItemStruct {
    for field in &mut item.fields {
        field.attrs.retain(|attr| !attr.path().is_ident("user"));
    }
    item
}

/// The span of a field's type, for spanning generated code at it.
pub(crate) fn type_span(field: &ModelField) -> Span {
    field.ty.span()
}
