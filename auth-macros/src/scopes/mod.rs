//! `#[derive(Scopes)]`: an enum of unit variants, each named with
//! `#[scope("reports:read")]`, becomes the application's set of scopes. Read and
//! validated here (every problem spanned and accumulated), then expanded to an
//! impl of `warden::__private::Scopes`.

use darling::Error;
use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::spanned::Spanned;

/// The checked enum: its name and each variant's scope name.
struct Model {
    ident: syn::Ident,
    variants: Vec<(syn::Ident, String)>,
}

/// RFC 6749 §3.3's scope-token: `%x21 / %x23-5B / %x5D-7E` (printable ASCII but
/// space, `"` and `\`), and at most 64 characters here.
fn valid(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b == 0x21 || (0x23..=0x5b).contains(&b) || (0x5d..=0x7e).contains(&b))
}

/// A name to suggest for a variant: `ReportsRead` → `reports:read`.
fn suggested(variant: &syn::Ident) -> String {
    let mut words: Vec<String> = Vec::new();
    for c in variant.to_string().chars() {
        if c.is_uppercase() || words.is_empty() {
            words.push(String::new());
        }
        if let Some(word) = words.last_mut() {
            word.extend(c.to_lowercase());
        }
    }
    match words.split_first() {
        Some((first, rest)) if !rest.is_empty() => format!("{first}:{}", rest.join("_")),
        _ => words.concat(),
    }
}

/// The name in `#[scope("...")]`, spanned at the literal.
fn scope_name(attr: &syn::Attribute) -> Result<(String, Span), Error> {
    const HINT: &str =
        "write the scope's name as one string literal, e.g. #[scope(\"reports:read\")]";
    let syn::Meta::List(list) = &attr.meta else {
        return Err(Error::custom(HINT).with_span(attr));
    };
    match syn::parse2::<syn::LitStr>(list.tokens.clone()) {
        Ok(lit) => Ok((lit.value(), lit.span())),
        Err(_) => Err(Error::custom(HINT).with_span(&list.tokens)),
    }
}

fn validate(input: &syn::DeriveInput) -> darling::Result<Model> {
    let syn::Data::Enum(data) = &input.data else {
        return Err(Error::custom(
            "#[derive(Scopes)] goes on an enum of unit variants, e.g. `enum Scope { #[scope(\"reports:read\")] ReportsRead }`",
        )
        .with_span(&input.ident));
    };
    let mut errors = Error::accumulator();
    if !input.generics.params.is_empty() {
        errors.push(Error::custom("a set of scopes cannot be generic").with_span(&input.generics));
    }
    if data.variants.is_empty() {
        errors.push(
            Error::custom(
                "declare at least one scope, e.g. `#[scope(\"reports:read\")] ReportsRead`",
            )
            .with_span(&input.ident),
        );
    }
    let mut variants: Vec<(syn::Ident, String)> = Vec::new();
    let mut seen: Vec<(String, syn::Ident)> = Vec::new();
    for variant in &data.variants {
        if !matches!(variant.fields, syn::Fields::Unit) {
            errors.push(
                Error::custom(format!(
                    "a scope is a unit variant: write `{}` with no fields",
                    variant.ident
                ))
                .with_span(&variant.fields),
            );
        }
        if let Some((_, discriminant)) = &variant.discriminant {
            errors.push(
                Error::custom(
                    "a scope takes no discriminant: its place in the enum is its index; remove `= ...`",
                )
                .with_span(discriminant),
            );
        }
        let attrs: Vec<&syn::Attribute> = variant
            .attrs
            .iter()
            .filter(|attr| attr.path().is_ident("scope"))
            .collect();
        let name = match attrs.as_slice() {
            [] => {
                errors.push(
                    Error::custom(format!(
                        "missing scope name: add #[scope(\"{}\")] above `{}`",
                        suggested(&variant.ident),
                        variant.ident
                    ))
                    .with_span(&variant.ident),
                );
                continue;
            }
            [attr] => match scope_name(attr) {
                Ok(name) => name,
                Err(error) => {
                    errors.push(error);
                    continue;
                }
            },
            [_, second, ..] => {
                errors.push(
                    Error::custom(format!(
                        "`{}` has two #[scope] names: keep one",
                        variant.ident
                    ))
                    .with_span(&second.span()),
                );
                continue;
            }
        };
        let (name, span) = name;
        if !valid(&name) {
            errors.push(
                Error::custom(format!(
                    "`{name}` is not a scope name: 1 to 64 printable ASCII characters without spaces, `\"` or `\\` (RFC 6749 §3.3), e.g. \"reports:read\""
                ))
                .with_span(&span),
            );
        }
        if let Some((_, first)) = seen.iter().find(|(known, _)| *known == name) {
            errors.push(
                Error::custom(format!(
                    "scope \"{name}\" is declared twice, also by `{first}`: give each variant its own name"
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

fn expand(model: &Model) -> TokenStream {
    let ident = &model.ident;
    let names = model.variants.iter().map(|(_, name)| name);
    let arms = model
        .variants
        .iter()
        .map(|(variant, name)| quote!(Self::#variant => #name));
    quote! {
        #[automatically_derived]
        impl ::warden::__private::Scopes for #ident {
            const NAMES: &'static [&'static str] = &[#(#names),*];
            fn name(&self) -> &'static str {
                match self {
                    #(#arms,)*
                }
            }
        }
    }
}

pub(crate) fn run(input: TokenStream) -> TokenStream {
    let input: syn::DeriveInput = match syn::parse2(input) {
        Ok(input) => input,
        Err(error) => return error.to_compile_error(),
    };
    match validate(&input) {
        Ok(model) => expand(&model),
        Err(errors) => errors.write_errors(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(item: &str) -> Vec<String> {
        let input: syn::DeriveInput = syn::parse_str(item).unwrap();
        match validate(&input) {
            Ok(_) => Vec::new(),
            Err(error) => error.into_iter().map(|e| e.to_string()).collect(),
        }
    }

    #[test]
    fn a_valid_set_expands() {
        assert!(
            errors(
                "enum Scope { #[scope(\"reports:read\")] ReportsRead, #[scope(\"admin\")] Admin }"
            )
            .is_empty()
        );
    }

    #[test]
    fn every_mistake_is_reported() {
        let found = errors(
            "enum Scope { ReportsRead, #[scope(\"a b\")] B, #[scope(\"x\")] C(u8), #[scope(\"x\")] D = 4 }",
        );
        assert_eq!(found.len(), 5, "{found:?}");
        assert!(found[0].starts_with("missing scope name: add #[scope(\"reports:read\")]"));
    }

    #[test]
    fn a_struct_is_refused() {
        assert_eq!(errors("struct Scope { name: String }").len(), 1);
    }

    #[test]
    fn names_are_suggested_from_variants() {
        let ident = |s: &str| syn::Ident::new(s, Span::call_site());
        assert_eq!(suggested(&ident("ReportsRead")), "reports:read");
        assert_eq!(suggested(&ident("Admin")), "admin");
        assert_eq!(
            suggested(&ident("BillingInvoicesWrite")),
            "billing:invoices_write"
        );
    }
}
