//! The macros never panic on user input: random token streams built from the DSL's own
//! vocabulary (so they get past the first token) go through every entry point, together
//! with raw identifiers and keywords, generics and turbofish, closures, nested groups of
//! every delimiter, doc comments and `cfg` attributes, on the struct, its fields and inside
//! the DSL lists.

use proc_macro2::{Delimiter, Group, Ident, Literal, Punct, Spacing, Span, TokenStream, TokenTree};
use proptest::prelude::*;
use quote::quote;

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
    "one_of",
    "string_length",
    "attribute_equals",
    "changing",
    "confirm",
    "arg",
    "on",
    "action_is",
    "only_when_valid",
    "message",
    "define",
    "action",
    "args",
    "get_by",
    "not_found_error",
    "domain",
    "data_layer",
    "attribute",
    "default",
    "writable",
    "uuid_primary_key",
    "primary_key",
    "create_timestamp",
    "resources",
    "version",
    "state",
    "id",
    "a_b",
    "a__b",
    "self_",
    "_1",
    "pub",
    "Address",
    "Option",
    "String",
    "Vec",
    "i64",
    "u8",
    "Uuid",
    "Changeset",
    "true",
    "false",
    "doc",
    "cfg",
    "cfg_attr",
    "derive",
    "Clone",
];

/// Keywords, as plain identifiers (what a user writes in a DSL list) and as raw ones.
const KEYWORDS: &[&str] = &[
    "type", "match", "where", "fn", "struct", "move", "ref", "in", "loop", "use", "gen", "async",
    "dyn", "Self", "self", "crate", "super",
];

/// Names written raw although they are no keywords (`r#state`).
const RAW: &[&str] = &[
    "state", "version", "id", "a_b", "Address", "create", "read", "action",
];

fn ident() -> BoxedStrategy<TokenTree> {
    prop_oneof![
        4 => prop::sample::select(WORDS).prop_map(|w| Ident::new(w, Span::call_site())),
        1 => prop::sample::select(KEYWORDS).prop_map(|w| Ident::new(w, Span::call_site())),
        // `r#self` and friends are not identifiers; every other keyword can be raw.
        1 => prop::sample::select(&KEYWORDS[..13]).prop_map(|w| Ident::new_raw(w, Span::call_site())),
        1 => prop::sample::select(RAW).prop_map(|w| Ident::new_raw(w, Span::call_site())),
    ]
    .prop_map(TokenTree::Ident)
    .boxed()
}

fn punct() -> BoxedStrategy<TokenStream> {
    prop_oneof![
        prop::sample::select(
            &[',', '=', ':', '#', '<', '>', '!', '&', '.', ';', '|', '-', '+', '*', '?', '@'][..]
        )
        .prop_map(|c| TokenTree::Punct(Punct::new(c, Spacing::Alone)).into()),
        // `::` (turbofish, paths), `->`, `=>`, `==`, `'a`.
        prop::sample::select(&[":::", "-->", "=>>", "===", "'a"][..]).prop_map(|s| {
            let mut chars = s.chars();
            let (first, second) = (chars.next().unwrap_or(':'), chars.next().unwrap_or(':'));
            if first == '\'' {
                let mut out = TokenStream::new();
                out.extend([
                    TokenTree::Punct(Punct::new('\'', Spacing::Joint)),
                    TokenTree::Ident(Ident::new("a", Span::call_site())),
                ]);
                out
            } else {
                [
                    TokenTree::Punct(Punct::new(first, Spacing::Joint)),
                    TokenTree::Punct(Punct::new(second, Spacing::Alone)),
                ]
                .into_iter()
                .collect()
            }
        }),
    ]
    .boxed()
}

fn literal() -> BoxedStrategy<TokenTree> {
    prop_oneof![
        (-3i64..300).prop_map(Literal::i64_unsuffixed),
        (0u8..10).prop_map(Literal::u8_suffixed),
        (0.0f64..10.0).prop_map(Literal::f64_unsuffixed),
        "[a-z\\[(^$]{0,4}".prop_map(|s| Literal::string(&s)),
        prop::char::range('a', 'z').prop_map(Literal::character),
    ]
    .prop_map(TokenTree::Literal)
    .boxed()
}

/// `#[doc = ".."]` (a doc comment), `#[cfg(..)]`, `#[cfg_attr(.., ..)]` or `#[derive(..)]`.
fn attribute() -> BoxedStrategy<TokenStream> {
    prop_oneof![
        "[ a-z]{0,6}".prop_map(|s| quote!(#[doc = #s])),
        Just(quote!(#[cfg(feature = "x")])),
        Just(quote!(#[cfg(all())])),
        Just(quote!(#[cfg_attr(all(), doc = "x")])),
        Just(quote!(#[derive(Clone)])),
        Just(quote!(#[allow(dead_code)])),
    ]
    .boxed()
}

fn tree(depth: u32) -> BoxedStrategy<TokenStream> {
    let leaf = prop_oneof![
        6 => ident().prop_map(TokenStream::from),
        3 => punct(),
        2 => literal().prop_map(TokenStream::from),
        1 => attribute(),
    ];
    if depth == 0 {
        return leaf.boxed();
    }
    let group = (
        prop::sample::select(
            &[
                Delimiter::Parenthesis,
                Delimiter::Bracket,
                Delimiter::Brace,
                Delimiter::None,
            ][..],
        ),
        prop::collection::vec(tree(depth - 1), 0..6),
    )
        .prop_map(|(d, inner)| TokenTree::Group(Group::new(d, inner.into_iter().collect())).into());
    prop_oneof![3 => leaf, 2 => group].boxed()
}

fn stream() -> impl Strategy<Value = TokenStream> {
    prop::collection::vec(tree(3), 0..12).prop_map(|v| v.into_iter().collect())
}

/// A field type: plain, generic, nested, or random tokens.
fn field_type() -> BoxedStrategy<TokenStream> {
    prop_oneof![
        Just(quote!(i64)),
        Just(quote!(Option<i64>)),
        Just(quote!(Vec<(u8, std::collections::HashMap<String, i64>)>)),
        Just(quote!(crate::money::Cents)),
        Just(quote!(<T as Trait>::Assoc)),
        Just(quote!([u8; 4])),
        stream().boxed(),
    ]
    .boxed()
}

/// A struct carrying random DSL attributes, field names (raw and keywords too), field
/// types and field attributes.
fn resource_item() -> impl Strategy<Value = (TokenStream, TokenStream)> {
    (
        stream(),
        stream(),
        stream(),
        stream(),
        prop::collection::vec(attribute(), 0..3),
        prop::collection::vec((ident(), field_type(), attribute()), 0..4),
    )
        .prop_map(|(args, actions, changes, field_attr, attrs, fields)| {
            let fields = fields
                .into_iter()
                .map(|(name, ty, attr)| quote!(#attr pub #name: #ty,));
            let item = quote! {
                #( #attrs )*
                #[actions(#actions)]
                #[changes(#changes)]
                pub struct Address {
                    #[uuid_primary_key]
                    pub id: Uuid,
                    #[attribute(#field_attr)]
                    pub version: i64,
                    pub state: String,
                    #( #fields )*
                }
            };
            (args, item)
        })
}

/// A resource whose DSL is well formed, with names picked at random: valid resources and
/// near misses, deep into the checks and the expansion.
fn shaped_resource() -> impl Strategy<Value = TokenStream> {
    let name = || ident().prop_map(TokenStream::from);
    (
        prop::collection::vec(name(), 0..3),
        name(),
        name(),
        stream(),
        name(),
        prop::collection::vec(attribute(), 0..2),
    )
        .prop_map(|(accept, action, lock, change, arg, docs)| {
            quote! {
                #[actions(
                    #( #docs )*
                    defaults(read, create = [#( #accept ),*]),
                    update(#action, accept = [#( #accept ),*], change = optimistic_lock(#lock), argument(#arg: Vec<(u8, i64)>)),
                    destroy(destroy, change = #change),
                )]
                #[changes(set_attribute(state, pick::<String, u8>(1, 2), on = [update, destroy], where = action_is([#action, destroy])))]
                pub struct Address {
                    #[uuid_primary_key]
                    pub id: Uuid,
                    #[attribute(default = pick::<i64, u8>(3, 4))]
                    pub version: i64,
                    pub state: String,
                    pub r#type: String,
                }
            }
        })
}

fn cases() -> u32 {
    std::env::var("ASH_FUZZ_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2_000)
}

/// The code interface of `item` for a random list of defines.
fn interface(item: &TokenStream, defines: &TokenStream) {
    let interface = quote! {
        { crate } {} { #item } { Domain } { Address } { 0 } { #defines }
    };
    let _ = crate::interface::expand(interface);
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
    fn shaped_resources_never_panic(item in shaped_resource(), defines in stream()) {
        let _ = crate::resource::expand(quote!(domain = Domain), item.clone());
        interface(&item, &defines);
    }

    #[test]
    fn domain_and_interface_never_panic(
        resources in stream(),
        defines in stream(),
        attrs in prop::collection::vec(attribute(), 0..3),
        (_, item) in resource_item(),
    ) {
        let domain = quote! {
            #( #attrs )*
            #[resources(#resources)]
            pub struct Domain;
        };
        let _ = crate::domain::expand(TokenStream::new(), domain);
        let listed = quote! {
            #[resources(Address(#defines), Other)]
            pub struct Domain;
        };
        let _ = crate::domain::expand(TokenStream::new(), listed);
        interface(&item, &defines);
        interface(
            &quote! {
                #[actions(defaults(read, create = [state]), update(update, accept = [state]))]
                pub struct Address {
                    #[uuid_primary_key]
                    pub id: Uuid,
                    pub state: String,
                }
            },
            &defines,
        );
    }
}
