//! Keys naming an attribute, action or input of a resource at the type level, shared by
//! `#[resource]` and the code interface.
//!
//! The domain's code interface names a type through the resource when the type as written
//! only resolves in the resource's module: the resource implements `HasAttribute<K>` with
//! `K` the attribute's position, and the interface projects `<Address as
//! HasAttribute<K>>::Type`. Both sides read the same tokens into the same model, so they
//! agree on positions; a small number keeps the projection readable in docs and errors.

use crate::resource::ast::{Action, Resource};
use proc_macro2::Literal;
use syn::Ident;

/// 128-bit FNV-1a of `name`, for names that must be unique (the companion macro's).
pub fn name_key(name: &str) -> u128 {
    const OFFSET: u128 = 0x6c62272e07bb014262b821756295c58d;
    const PRIME: u128 = 0x0000000001000000000000000000013B;
    let mut hash = OFFSET;
    for byte in name.bytes() {
        hash ^= u128::from(byte);
        hash = hash.wrapping_mul(PRIME);
    }
    hash
}

/// A position as a key.
pub fn key(index: usize) -> Literal {
    Literal::usize_unsuffixed(index)
}

/// The key of the attribute called `name`.
pub fn attribute_key(res: &Resource, name: &Ident) -> Option<Literal> {
    let name = crate::name::unraw(name);
    res.attributes.iter().position(|a| a.name == name).map(key)
}

/// The key of `action`.
pub fn action_key(res: &Resource, action: &Action) -> Literal {
    key(res
        .actions
        .iter()
        .position(|a| std::ptr::eq(a, action))
        .unwrap_or_default())
}

/// The key of the input `name` of `action` (its accepted attributes, then its arguments).
pub fn input_key(res: &Resource, action: &Action, name: &Ident) -> Option<Literal> {
    let name = crate::name::unraw(name);
    action
        .inputs(res)
        .iter()
        .position(|(_, n, _)| *n == name)
        .map(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distinct_names_give_distinct_keys() {
        let names = [
            "id", "version", "state", "county", "create", "update", "read", "destroy",
        ];
        for (i, a) in names.iter().enumerate() {
            for b in &names[i + 1..] {
                assert_ne!(name_key(a), name_key(b), "{a} vs {b}");
            }
        }
        assert_eq!(name_key("state"), name_key("state"));
    }
}
