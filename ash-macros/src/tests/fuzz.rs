//! The macros never panic on user input: random token streams built from the DSL's own
//! vocabulary (so they get past the first token) go through every entry point.

use proc_macro2::{Delimiter, Group, Ident, Literal, Punct, Spacing, Span, TokenStream, TokenTree};
use proptest::prelude::*;

const WORDS: &[&str] = &[
    "actions",
    "changes",
    "validations",
    "defaults",
    "create",
    "read",
    "update",
    "destroy",
    "accept",
    "change",
    "validate",
    "argument",
    "primary",
    "filter",
    "get",
    "pagination",
    "offset",
    "keyset",
    "optimistic_lock",
    "set_attribute",
    "increment",
    "present",
    "compare",
    "match",
    "one_of",
    "arg",
    "on",
    "where",
    "action_is",
    "define",
    "action",
    "args",
    "get_by",
    "domain",
    "data_layer",
    "attribute",
    "default",
    "writable",
    "uuid_primary_key",
    "primary_key",
    "resources",
    "version",
    "state",
    "id",
    "pub",
    "struct",
    "Address",
    "Option",
    "String",
    "i64",
    "Uuid",
    "true",
    "false",
];

fn tree(depth: u32) -> BoxedStrategy<TokenTree> {
    let leaf = prop_oneof![
        prop::sample::select(WORDS)
            .prop_map(|w| TokenTree::Ident(Ident::new(w, Span::call_site()))),
        prop::sample::select(&[',', '=', ':', '#', '<', '>', '!', '&', '.', ';'][..])
            .prop_map(|c| TokenTree::Punct(Punct::new(c, Spacing::Alone))),
        (-3i64..300).prop_map(|n| TokenTree::Literal(Literal::i64_unsuffixed(n))),
        "[a-z\\[(]{0,4}".prop_map(|s| TokenTree::Literal(Literal::string(&s))),
    ];
    if depth == 0 {
        return leaf.boxed();
    }
    let group = (
        prop::sample::select(&[Delimiter::Parenthesis, Delimiter::Bracket, Delimiter::Brace][..]),
        prop::collection::vec(tree(depth - 1), 0..6),
    )
        .prop_map(|(d, inner)| TokenTree::Group(Group::new(d, inner.into_iter().collect())));
    prop_oneof![3 => leaf, 2 => group].boxed()
}

fn stream() -> impl Strategy<Value = TokenStream> {
    prop::collection::vec(tree(3), 0..12).prop_map(|v| v.into_iter().collect())
}

/// A struct carrying random DSL attributes and field attributes.
fn resource_item() -> impl Strategy<Value = (TokenStream, TokenStream)> {
    (stream(), stream(), stream(), stream()).prop_map(|(args, actions, changes, field_attr)| {
        let item = quote::quote! {
            #[actions(#actions)]
            #[changes(#changes)]
            pub struct Address {
                #[uuid_primary_key]
                pub id: Uuid,
                #[attribute(#field_attr)]
                pub version: i64,
                pub state: String,
            }
        };
        (args, item)
    })
}

fn cases() -> u32 {
    std::env::var("ASH_FUZZ_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2_000)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn resource_macro_never_panics((args, item) in resource_item()) {
        let _ = crate::resource::expand(args, item);
    }

    #[test]
    fn resource_macro_never_panics_on_any_item(args in stream(), item in stream()) {
        let _ = crate::resource::expand(args, item);
    }

    #[test]
    fn domain_and_interface_never_panic(resources in stream(), defines in stream()) {
        let domain = quote::quote! {
            #[resources(#resources)]
            pub struct Domain;
        };
        let _ = crate::domain::expand(proc_macro2::TokenStream::new(), domain);
        let interface = quote::quote! {
            {} {
                #[actions(defaults(read, create = [state]), update(update, accept = [state]))]
                pub struct Address {
                    #[uuid_primary_key]
                    pub id: Uuid,
                    pub state: String,
                }
            } { Domain } { Address } { #defines }
        };
        let _ = crate::interface::expand(interface);
    }
}
