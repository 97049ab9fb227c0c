//! What the macros generate for the seed, pretty-printed and pinned with insta. Review a
//! change to generated code by reading the `.snap` diff.

use super::pretty;
use quote::quote;

fn seed_resource() -> (proc_macro2::TokenStream, proc_macro2::TokenStream) {
    (
        quote!(domain = Domain, data_layer = Ets),
        quote! {
            #[actions(
                defaults(read, create = [state, county]),
                update(update, accept = [state, county], change = optimistic_lock(version)),
            )]
            #[derive(Debug, Clone, PartialEq)]
            pub struct Address {
                #[uuid_primary_key]
                pub id: Uuid,
                #[attribute(default = 1)]
                pub version: i64,
                pub state: String,
                pub county: String,
            }
        },
    )
}

#[test]
fn seed_resource_expansion() {
    let (args, item) = seed_resource();
    insta::assert_snapshot!(pretty(crate::resource::expand(args, item)));
}

#[test]
fn seed_domain_expansion() {
    let out = crate::domain::expand(
        quote!(),
        quote! {
            #[resources(Address(
                define(get_address, action = read, get_by = [id]),
                define(create_address, action = create, args = [state, county]),
                define(update_address, action = update),
            ))]
            pub struct Domain;
        },
    );
    insta::assert_snapshot!(pretty(out));
}

#[test]
fn seed_code_interface_expansion() {
    let (args, item) = seed_resource();
    let out = crate::interface::expand(quote! {
        { crate } { #args } { #item } { Domain } { Address } { 0 } {
            define(get_address, action = read, get_by = [id]),
            define(create_address, action = create, args = [state, county]),
            define(update_address, action = update),
        }
    });
    insta::assert_snapshot!(pretty(out));
}
