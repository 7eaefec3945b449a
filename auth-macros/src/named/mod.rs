//! `#[derive(Scopes)]` and `#[derive(Roles)]`: an enum of unit variants, each with
//! a name (`#[scope("reports:read")]`, `#[role("editor")]`), becomes the
//! application's set of scopes or roles. Both are read and validated here, by one
//! reader that a [`Kind`] configures (every problem spanned and accumulated), then
//! expanded to an impl of `warden::__private::Scopes` or `Roles`.

mod roles;
mod scopes;

pub(crate) use roles::ROLES;
pub(crate) use scopes::SCOPES;

use darling::Error;
use proc_macro2::{Span, TokenStream};
use syn::spanned::Spanned;

/// What differs between the derives.
pub(crate) struct Kind {
    /// The derive's name: `Scopes`.
    pub derive: &'static str,
    /// The attribute naming a variant: `scope`.
    pub attribute: &'static str,
    /// What one variant is, in words: `scope`.
    pub noun: &'static str,
    /// A variant written right: `#[scope("reports:read")] ReportsRead`.
    pub example: &'static str,
    /// Whether a variant must be named; else its name comes from
    /// [`default_name`](Self::default_name).
    pub required: bool,
    /// The most variants a set may have.
    pub max: usize,
    /// The name a variant gets, or is suggested, from its identifier.
    pub default_name: fn(&syn::Ident) -> String,
    /// Whether a name is valid.
    pub valid: fn(&str) -> bool,
    /// The rule, for the error of an invalid name.
    pub rule: &'static str,
    /// The impl of the checked enum.
    pub expand: fn(&Model) -> TokenStream,
}

/// The checked enum: its name and each variant's name.
pub(crate) struct Model {
    pub ident: syn::Ident,
    pub variants: Vec<(syn::Ident, String)>,
}

impl Model {
    /// The trait's `NAMES` and `VARIANTS` (each variant's identifier, for the
    /// OpenAPI document), in declaration order.
    pub(crate) fn tables(&self) -> TokenStream {
        let names = self.variants.iter().map(|(_, name)| name);
        let variants = self.variants.iter().map(|(variant, _)| variant.to_string());
        quote::quote! {
            const NAMES: &'static [&'static str] = &[#(#names),*];
            const VARIANTS: &'static [&'static str] = &[#(#variants),*];
        }
    }
}

/// The words of a variant's identifier, lower case: `ReportsRead` → `reports`, `read`.
pub(crate) fn words(variant: &syn::Ident) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    for c in variant.to_string().chars() {
        if c.is_uppercase() || words.is_empty() {
            words.push(String::new());
        }
        if let Some(word) = words.last_mut() {
            word.extend(c.to_lowercase());
        }
    }
    words
}

/// The name in `#[scope("...")]`, spanned at the literal.
fn written_name(kind: &Kind, attr: &syn::Attribute) -> Result<(String, Span), Error> {
    let hint = || {
        format!(
            "write the {}'s name as one string literal, e.g. {}",
            kind.noun,
            kind.example.split(' ').next().unwrap_or(kind.example)
        )
    };
    let syn::Meta::List(list) = &attr.meta else {
        return Err(Error::custom(hint()).with_span(attr));
    };
    match syn::parse2::<syn::LitStr>(list.tokens.clone()) {
        Ok(lit) => Ok((lit.value(), lit.span())),
        Err(_) => Err(Error::custom(hint()).with_span(&list.tokens)),
    }
}

pub(crate) fn validate(kind: &Kind, input: &syn::DeriveInput) -> darling::Result<Model> {
    let syn::Data::Enum(data) = &input.data else {
        return Err(Error::custom(format!(
            "#[derive({})] goes on an enum of unit variants, e.g. `enum {} {{ {} }}`",
            kind.derive,
            kind.derive.trim_end_matches('s'),
            kind.example
        ))
        .with_span(&input.ident));
    };
    let mut errors = Error::accumulator();
    if !input.generics.params.is_empty() {
        errors.push(
            Error::custom(format!("a set of {}s cannot be generic", kind.noun))
                .with_span(&input.generics),
        );
    }
    if data.variants.is_empty() {
        errors.push(
            Error::custom(format!(
                "declare at least one {}, e.g. `{}`",
                kind.noun, kind.example
            ))
            .with_span(&input.ident),
        );
    }
    if data.variants.len() > kind.max {
        errors.push(
            Error::custom(format!(
                "a set of {}s has at most {} of them; this one has {}",
                kind.noun,
                kind.max,
                data.variants.len()
            ))
            .with_span(&input.ident),
        );
    }
    let mut variants: Vec<(syn::Ident, String)> = Vec::new();
    let mut seen: Vec<(String, syn::Ident)> = Vec::new();
    for variant in &data.variants {
        if !matches!(variant.fields, syn::Fields::Unit) {
            errors.push(
                Error::custom(format!(
                    "a {} is a unit variant: write `{}` with no fields",
                    kind.noun, variant.ident
                ))
                .with_span(&variant.fields),
            );
        }
        if let Some((_, discriminant)) = &variant.discriminant {
            errors.push(
                Error::custom(format!(
                    "a {} takes no discriminant: its place in the enum is its index; remove `= ...`",
                    kind.noun
                ))
                .with_span(discriminant),
            );
        }
        let attrs: Vec<&syn::Attribute> = variant
            .attrs
            .iter()
            .filter(|attr| attr.path().is_ident(kind.attribute))
            .collect();
        let (name, span) = match attrs.as_slice() {
            [] if kind.required => {
                errors.push(
                    Error::custom(format!(
                        "missing {noun} name: add #[{attribute}(\"{}\")] above `{}`",
                        (kind.default_name)(&variant.ident),
                        variant.ident,
                        noun = kind.noun,
                        attribute = kind.attribute,
                    ))
                    .with_span(&variant.ident),
                );
                continue;
            }
            [] => ((kind.default_name)(&variant.ident), variant.ident.span()),
            [attr] => match written_name(kind, attr) {
                Ok(name) => name,
                Err(error) => {
                    errors.push(error);
                    continue;
                }
            },
            [_, second, ..] => {
                errors.push(
                    Error::custom(format!(
                        "`{}` has two #[{}] names: keep one",
                        variant.ident, kind.attribute
                    ))
                    .with_span(&second.span()),
                );
                continue;
            }
        };
        if !(kind.valid)(&name) {
            errors.push(
                Error::custom(format!(
                    "`{name}` is not a {} name: {}",
                    kind.noun, kind.rule
                ))
                .with_span(&span),
            );
        }
        if let Some((_, first)) = seen.iter().find(|(known, _)| *known == name) {
            errors.push(
                Error::custom(format!(
                    "{} \"{name}\" is declared twice, also by `{first}`: give each variant its own name",
                    kind.noun
                ))
                .with_span(&span),
            );
        }
        seen.push((name.clone(), variant.ident.clone()));
        variants.push((variant.ident.clone(), name));
    }
    errors.finish_with(Model {
        ident: input.ident.clone(),
        variants,
    })
}

pub(crate) fn run(kind: &Kind, input: TokenStream) -> TokenStream {
    let input: syn::DeriveInput = match syn::parse2(input) {
        Ok(input) => input,
        Err(error) => return error.to_compile_error(),
    };
    match validate(kind, &input) {
        Ok(model) => (kind.expand)(&model),
        Err(errors) => errors.write_errors(),
    }
}
