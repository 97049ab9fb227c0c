//! Names: the user's identifiers (raw ones too) and the identifiers generated from them.
//!
//! A field `r#type` is the attribute `type`: that is its name in errors, JSON keys and SQL.
//! Every identifier the DSL names is kept in one canonical form (raw exactly when the name
//! is a keyword), so `accept = [type]`, `accept = [r#type]` and the field `r#type` are one
//! name. Generated identifiers (`AddressField::Type`, `Address::TYPE`, `AddressTypeInput`)
//! are built from the name without `r#` and checked, so no name can make the macro build an
//! invalid identifier (which would panic).

use proc_macro2::{Ident, Span};
use syn::ext::IdentExt;

/// The name of an identifier, without `r#`.
pub fn unraw(ident: &Ident) -> String {
    ident.unraw().to_string()
}

/// Names that cannot be raw identifiers (`r#self` is not valid Rust).
const NOT_RAW: [&str; 5] = ["self", "Self", "super", "crate", "_"];

/// Keywords `syn` lets through as identifiers in some editions but that are reserved in
/// the newest; written raw, they are valid in every edition.
const ALWAYS_RAW: [&str; 1] = ["gen"];

/// Whether `name` can be written as a plain identifier.
fn is_plain(name: &str) -> bool {
    !ALWAYS_RAW.contains(&name) && syn::parse_str::<syn::Ident>(name).is_ok()
}

/// The canonical form of a name: raw exactly when it is a keyword (`type` -> `r#type`,
/// `r#state` -> `state`), with the user's span.
pub fn canonical(ident: &Ident) -> Ident {
    let name = unraw(ident);
    if is_plain(&name) {
        Ident::new(&name, ident.span())
    } else if NOT_RAW.contains(&name.as_str()) || !is_identifier_like(&name) {
        ident.clone()
    } else {
        Ident::new_raw(&name, ident.span())
    }
}

/// Whether `name` has the characters of an identifier (so `Ident::new_raw` accepts it).
fn is_identifier_like(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c == '_' || c.is_alphabetic())
        && chars.all(|c| c == '_' || c.is_alphanumeric())
}

/// An identifier for generated code, `name` itself when it is a valid plain identifier.
/// `None` when it is not one (a keyword such as `Self`, or it starts with a digit).
pub fn generated(name: &str, span: Span) -> Option<Ident> {
    is_plain(name).then(|| Ident::new(name, span))
}

/// `snake_case` -> `PascalCase`, from a name without `r#`.
pub fn pascal(name: &str) -> String {
    name.split('_')
        .filter(|s| !s.is_empty())
        .map(|s| {
            let mut chars = s.chars();
            match chars.next() {
                Some(first) => first.to_uppercase().chain(chars).collect(),
                None => String::new(),
            }
        })
        .collect()
}

/// The enum variant for an attribute (`type` -> `Type`), or `fallback` when the PascalCase
/// name is not a valid identifier (`self_` -> `Self`, `_1` -> `1`).
pub fn variant(name: &str, span: Span, fallback: &str) -> Ident {
    generated(&pascal(name), span).unwrap_or_else(|| Ident::new(fallback, span))
}

/// The associated constant for an attribute (`type` -> `TYPE`).
pub fn constant(name: &str, span: Span, fallback: &str) -> Ident {
    generated(&name.to_uppercase(), span).unwrap_or_else(|| Ident::new(fallback, span))
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::format_ident;

    #[test]
    fn canonical_forms() {
        let span = Span::call_site();
        assert_eq!(canonical(&Ident::new("type", span)).to_string(), "r#type");
        assert_eq!(
            canonical(&Ident::new_raw("type", span)).to_string(),
            "r#type"
        );
        assert_eq!(
            canonical(&Ident::new_raw("state", span)).to_string(),
            "state"
        );
        assert_eq!(canonical(&Ident::new("gen", span)).to_string(), "r#gen");
        assert_eq!(canonical(&Ident::new("self", span)).to_string(), "self");
        assert_eq!(unraw(&format_ident!("r#type")), "type");
    }

    #[test]
    fn generated_names_are_valid() {
        let span = Span::call_site();
        assert_eq!(variant("type", span, "A0").to_string(), "Type");
        assert_eq!(variant("self_", span, "A0").to_string(), "A0");
        assert_eq!(variant("_1", span, "A0").to_string(), "A0");
        assert_eq!(variant("a_1", span, "A0").to_string(), "A1");
        assert_eq!(constant("type", span, "A0").to_string(), "TYPE");
        assert_eq!(constant("_1", span, "A0").to_string(), "_1");
    }
}
