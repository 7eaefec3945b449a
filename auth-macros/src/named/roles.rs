//! `#[derive(Roles)]`: each variant is a role, named by its identifier in snake
//! case (`ContentEditor` → `content_editor`) or by `#[role("...")]`.

use proc_macro2::TokenStream;
use quote::quote;

use super::{Kind, Model, words};

pub(crate) const ROLES: Kind = Kind {
    derive: "Roles",
    attribute: "role",
    noun: "role",
    example: "#[role(\"editor\")] Editor",
    required: false,
    // The guards' masks are 64-bit.
    max: 64,
    default_name: snake_case,
    valid,
    rule: "1 to 64 characters: a lower-case ASCII letter or digit, then those, `_`, `-`, `.` or `:` (stored space-separated), e.g. \"editor\"",
    expand,
};

/// The runtime's `role::valid_name`, at compile time.
fn valid(name: &str) -> bool {
    let bytes = name.as_bytes();
    matches!(bytes.first(), Some(b'a'..=b'z' | b'0'..=b'9'))
        && bytes.len() <= 64
        && bytes
            .iter()
            .all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'_' | b'-' | b'.' | b':'))
}

/// `ContentEditor` → `content_editor`.
fn snake_case(variant: &syn::Ident) -> String {
    words(variant).join("_")
}

fn expand(model: &Model) -> TokenStream {
    let ident = &model.ident;
    let tables = model.tables();
    let to_name = model
        .variants
        .iter()
        .map(|(variant, name)| quote!(Self::#variant => #name));
    let from_name = model
        .variants
        .iter()
        .map(|(variant, name)| quote!(#name => ::core::option::Option::Some(Self::#variant)));
    quote! {
        #[automatically_derived]
        impl ::warden::__private::Roles for #ident {
            #tables
            fn name(self) -> &'static str {
                match self {
                    #(#to_name,)*
                }
            }
            fn from_name(name: &str) -> ::core::option::Option<Self> {
                match name {
                    #(#from_name,)*
                    _ => ::core::option::Option::None,
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

    fn names(item: &str) -> Result<Vec<String>, Vec<String>> {
        let input: syn::DeriveInput = syn::parse_str(item).unwrap();
        match validate(&ROLES, &input) {
            Ok(model) => Ok(model.variants.into_iter().map(|(_, name)| name).collect()),
            Err(error) => Err(error.into_iter().map(|e| e.to_string()).collect()),
        }
    }

    #[test]
    fn variants_are_named_in_snake_case_unless_written() {
        assert_eq!(
            names("enum Role { Admin, ContentEditor, #[role(\"billing:viewer\")] Billing }"),
            Ok(vec![
                "admin".to_owned(),
                "content_editor".to_owned(),
                "billing:viewer".to_owned()
            ])
        );
        let ident = |s: &str| syn::Ident::new(s, Span::call_site());
        assert_eq!(snake_case(&ident("Admin")), "admin");
    }

    #[test]
    fn every_mistake_is_reported() {
        let Err(found) = names(
            "enum Role { #[role(\"Editor\")] A, #[role(\"admin\")] Root, Admin, B(u8), #[role(\"a b\")] C }",
        ) else {
            panic!("accepted");
        };
        assert_eq!(found.len(), 4, "{found:?}");
        assert!(found[0].starts_with("`Editor` is not a role name"));
        assert!(found[1].starts_with("role \"admin\" is declared twice"));
    }

    #[test]
    fn at_most_64_roles() {
        let variants: Vec<String> = (0..65).map(|i| format!("R{i}")).collect();
        let Err(found) = names(&format!("enum Role {{ {} }}", variants.join(", "))) else {
            panic!("accepted");
        };
        assert_eq!(
            found,
            ["a set of roles has at most 64 of them; this one has 65"]
        );
    }
}
