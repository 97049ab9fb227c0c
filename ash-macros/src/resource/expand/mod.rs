//! Expansion of a checked resource, one file per generated concern.

mod actions;
mod changes;
mod model;
mod query;
mod registry;
mod validations;

pub use actions::is_primary;

use super::ast::Resource;
use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

/// The path generated code uses for the runtime.
pub fn krate() -> TokenStream {
    quote!(::ash_rs)
}

/// Generated type names, derived from the resource's name.
pub struct Names {
    pub field: Ident,
    pub value: Ident,
    pub changes: Ident,
}

impl Names {
    pub fn new(res: &Resource) -> Names {
        let ident = res.ident();
        Names {
            field: format_ident!("{}Field", ident),
            value: format_ident!("{}Value", ident),
            changes: format_ident!("{}Changes", ident),
        }
    }
}

/// `UpdateAddress` style: the input type of an action.
pub fn input_ident(res: &Resource, action: &Ident) -> Ident {
    format_ident!("{}{}Input", res.ident(), pascal(&action.to_string()))
}

/// `snake_case` -> `PascalCase`.
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

pub fn expand(res: &Resource, args: TokenStream, original: TokenStream) -> TokenStream {
    let names = Names::new(res);
    let item = &res.item;
    let model = model::expand(res, &names);
    let actions = actions::expand(res, &names);
    let query = query::expand(res, &names);
    let registry = registry::expand(res, args, original, true);
    quote! {
        #item
        #model
        #actions
        #query
        #registry
    }
}

/// On errors: the user's struct (helper attributes stripped) so code using it does not
/// fail in a cascade, the errors, and a companion macro that generates nothing.
pub fn fallback(res: &Resource, errors: TokenStream) -> TokenStream {
    let item = &res.item;
    let registry = registry::expand(res, TokenStream::new(), TokenStream::new(), false);
    quote! {
        #item
        #errors
        #registry
    }
}
