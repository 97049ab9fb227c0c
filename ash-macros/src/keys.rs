//! Stable keys for names, shared by `#[resource]` and the code interface.
//!
//! The domain's code interface must name an attribute's type from the domain's module,
//! where the resource's field types may not be in scope. The resource implements
//! `HasAttribute<K>` with `K` the hash of the attribute's name; the interface projects
//! `<Address as HasAttribute<K>>::Type`. Both sides compute `K` with this function.

/// 128-bit FNV-1a of `name`. Collisions among the few names of one resource are not a
/// practical concern at 128 bits (and would surface as conflicting impls, not silently).
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

/// The key as a literal token.
pub fn key_lit(name: &str) -> proc_macro2::Literal {
    proc_macro2::Literal::u128_suffixed(name_key(name))
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
