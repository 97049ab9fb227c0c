//! Checks, run on token streams: every error of a resource in one pass, each at its token.

use super::errors;
use crate::resource;
use quote::quote;

#[test]
fn a_valid_resource_has_no_errors() {
    let out = resource::expand(
        quote!(domain = Domain),
        quote! {
            #[actions(defaults(read, create = [state]), update(update, accept = [state], change = optimistic_lock(version)))]
            pub struct Address {
                #[uuid_primary_key]
                pub id: Uuid,
                #[attribute(default = 1)]
                pub version: i64,
                pub state: String,
            }
        },
    );
    assert_eq!(errors(&out), Vec::<String>::new());
}

#[test]
fn every_error_is_reported_at_once_and_the_struct_is_kept() {
    let out = resource::expand(
        quote!(domian = Domain),
        quote! {
            #[actions(defaults(read, create = [stat]), update(update, change = optimistic_lock(verison)), update(update))]
            #[changes(optimistic_lock(version, on = [read]))]
            pub struct Address {
                #[uuid_primary_key]
                pub id: Option<Uuid>,
                #[attribute(default = 1)]
                pub version: i64,
                pub state: String,
            }
        },
    );
    let errors = errors(&out);
    assert_eq!(errors.len(), 6, "{errors:#?}");
    assert!(errors[0].starts_with("unknown `#[resource]` option `domian` (did you mean `domain`?)"));
    assert!(errors
        .iter()
        .any(|e| e.contains("primary keys must not be allowed to be nil")));
    assert!(errors
        .iter()
        .any(|e| e.contains("duplicate action `update`")));
    assert!(errors
        .iter()
        .any(|e| e.contains("cannot accept `stat`") && e.contains("did you mean `state`?")));
    assert!(errors
        .iter()
        .any(|e| e.contains("no attribute `verison` (did you mean `version`?)")));
    assert!(errors.iter().any(|e| e.contains("`read` is not one")));
    // The struct is still emitted, without the DSL's helper attributes.
    let file: syn::File = syn::parse2(out).unwrap();
    let item = file
        .items
        .iter()
        .find_map(|i| match i {
            syn::Item::Struct(s) if s.ident == "Address" => Some(quote!(#s).to_string()),
            _ => None,
        })
        .unwrap();
    assert!(!item.contains("uuid_primary_key"));
    assert!(!item.contains("# [actions"));
}

#[test]
fn errors_point_at_the_offending_token() {
    let source = "
#[actions(defaults(read, create = [countyy]))]
pub struct Address {
    #[uuid_primary_key]
    pub id: Uuid,
}";
    let item: proc_macro2::TokenStream = source.parse().unwrap();
    let cx = crate::ctxt::Ctxt::new();
    let parsed = resource::parse::parse(&cx, quote!(), item).unwrap();
    resource::check::check(&cx, &parsed);
    let errors = cx.into_errors();
    assert_eq!(errors.len(), 1);
    let start = errors[0].span().start();
    // line 2 (the source starts with a newline), at `countyy`.
    assert_eq!((start.line, start.column), (2, 35));
    assert_eq!(&source.lines().nth(1).unwrap()[35..42], "countyy");
}

#[test]
fn the_domain_reports_duplicates_once() {
    let out = crate::domain::expand(
        quote!(),
        quote! {
            #[resources(Address(define(a, action = read), define(a, action = create)), Address)]
            pub struct Domain;
        },
    );
    let errors = errors(&out);
    assert_eq!(errors.len(), 2, "{errors:#?}");
    assert!(errors[0].contains("listed twice"));
    assert!(errors[1].contains("duplicate define `a`"));
}

#[test]
fn not_a_struct() {
    let out = resource::expand(
        quote!(),
        quote!(
            enum Address {
                A,
            }
        ),
    );
    assert_eq!(
        errors(&out),
        ["`#[resource]` goes on a struct whose fields are the resource's attributes"]
    );
}

#[test]
fn raw_identifiers_are_names() {
    let out = resource::expand(
        quote!(),
        quote! {
            #[actions(defaults(read, create = [type]), update(r#move, accept = [r#type]))]
            pub struct Address {
                #[uuid_primary_key]
                pub id: Uuid,
                pub r#type: String,
            }
        },
    );
    assert_eq!(errors(&out), Vec::<String>::new());
    let text = out.to_string();
    // The name is `type` in data (`ATTRIBUTES`, JSON keys); generated names are valid.
    assert!(text.contains("name : \"type\""), "{text}");
    assert!(text.contains("AddressMoveInput"));
    assert!(text.contains("pub const TYPE"));
    assert!(text.contains("self . r#type"));
}

#[test]
fn dsl_values_are_rust_expressions() {
    let out = resource::expand(
        quote!(),
        quote! {
            #[actions(defaults(read), create(create, accept = [score], change = |c: &mut Changeset<'_, Address>| { let _ = (1, 2); }))]
            pub struct Address {
                #[uuid_primary_key]
                pub id: Uuid,
                #[attribute(default = pick::<i64, u8>(3, 4), writable = true)]
                pub score: i64,
            }
        },
    );
    assert_eq!(errors(&out), Vec::<String>::new());
    assert!(out.to_string().contains("pick :: < i64 , u8 > (3 , 4)"));
}

#[test]
fn a_resource_with_errors_still_generates_what_they_do_not_concern() {
    let out = resource::expand(
        quote!(),
        quote! {
            #[actions(defaults(read, create = [stat]), update(update, accept = [state], change = optimistic_lock(versoin)))]
            pub struct Address {
                #[uuid_primary_key]
                pub id: Uuid,
                pub state: String,
            }
        },
    );
    assert_eq!(errors(&out).len(), 2);
    let text = out.to_string();
    assert!(text.contains("impl :: ash_rs :: resource :: Resource for Address"));
    assert!(text.contains("pub struct AddressUpdateInput"));
    assert!(!text.contains("OptimisticLock"));
}
