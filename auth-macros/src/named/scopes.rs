//! `#[derive(Scopes)]`: every variant named with `#[scope("reports:read")]`.

use proc_macro2::TokenStream;
use quote::quote;

use super::{Kind, Model, words};

pub(crate) const SCOPES: Kind = Kind {
    derive: "Scopes",
    attribute: "scope",
    noun: "scope",
    example: "#[scope(\"reports:read\")] ReportsRead",
    required: true,
    max: usize::MAX,
    default_name: suggested,
    valid,
    rule: "1 to 64 printable ASCII characters without spaces, `\"` or `\\` (RFC 6749 §3.3), e.g. \"reports:read\"",
    expand,
};

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
    let words = words(variant);
    match words.split_first() {
        Some((first, rest)) if !rest.is_empty() => format!("{first}:{}", rest.join("_")),
        _ => words.concat(),
    }
}

fn expand(model: &Model) -> TokenStream {
    let ident = &model.ident;
    let tables = model.tables();
    let arms = model
        .variants
        .iter()
        .map(|(variant, name)| quote!(Self::#variant => #name));
    quote! {
        #[automatically_derived]
        impl ::warden::__private::Scopes for #ident {
            #tables
            fn name(&self) -> &'static str {
                match self {
                    #(#arms,)*
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use proc_macro2::Span;

    use super::*;
    use crate::named::validate;

    fn errors(item: &str) -> Vec<String> {
        let input: syn::DeriveInput = syn::parse_str(item).unwrap();
        match validate(&SCOPES, &input) {
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
