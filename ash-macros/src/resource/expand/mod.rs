//! Expansion of a checked resource, one file per generated concern.

mod actions;
mod aggregates;
mod changes;
mod identities;
mod manage;
mod model;
mod policies;
mod query;
mod registry;
mod relationships;
mod validations;

pub use actions::is_primary;
pub use registry::companion;

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

/// `value` converted into `ty` with `Into`, spanned at `span`: a value of the wrong type
/// is one error there (at the user's value, not at the attribute's type).
pub fn convert(
    ty: &impl quote::ToTokens,
    value: TokenStream,
    span: proc_macro2::Span,
) -> TokenStream {
    quote::quote_spanned! {span=>
        {
            let __ash_value: #ty = ::std::convert::Into::into(#value);
            __ash_value
        }
    }
}

/// How much of a resource is generated.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The resource passed every check.
    Valid,
    /// It has errors (reported with it); what they concern was removed from the model, and
    /// the rest is generated, so the domain and every use of the resource compile quietly.
    Fallback,
    /// Its shape is unusable (generic, no named fields, not a struct): only a `Resource`
    /// impl with stub bodies (never run: the crate does not compile) and the companion.
    Stub,
}

pub fn expand(res: &Resource, args: TokenStream, original: TokenStream, mode: Mode) -> TokenStream {
    let item = item(res);
    let registry = registry::expand(res, args, original, mode);
    let generated = if mode == Mode::Stub {
        // A generic resource cannot be named without its parameters: no impl.
        let stub = res
            .item
            .generics
            .params
            .is_empty()
            .then(|| stub_impl(&res.item.ident, &res.item.generics));
        quote! {
            #stub
            #registry
        }
    } else {
        let names = Names::new(res);
        let model = model::expand(res, &names);
        let actions = actions::expand(res, &names);
        let query = query::expand(res, &names);
        let identities = identities::items(res);
        let relationships = relationships::items(res);
        let aggregates = aggregates::items(res);
        let field_module = aggregates::field_module(res, &names);
        let has_field = relationships::has_field(res, &names);
        let action_names = manage::action_names(res);
        quote! {
            #action_names
            #model
            #identities
            #relationships
            #aggregates
            #field_module
            #has_field
            #actions
            #query
            #registry
        }
    };
    let generated = super::fallback::with_cfg(&res.cfg, generated);
    quote! {
        #item
        #generated
    }
}

/// The user's struct, deriving `Clone` if it does not: every record is cloned in and out of
/// its data layer, and without it each use of the resource would report it again.
fn item(res: &Resource) -> TokenStream {
    let mut owned;
    let mut item = &res.item;
    if !res.relationships.is_empty() || !res.aggregates.is_empty() {
        owned = res.item.clone();
        if let syn::Fields::Named(named) = &mut owned.fields {
            named.named.extend(relationships::fields(res));
            named.named.extend(aggregates::fields(res));
        }
        item = &owned;
    }
    if res.derives_clone {
        quote!(#item)
    } else {
        quote! {
            #[derive(::std::clone::Clone)]
            #item
        }
    }
}

/// A `Resource` impl whose types are `()` and whose bodies never run: for a resource whose
/// shape the macro cannot use, so that the domain listing it and the code using it report
/// nothing more.
pub fn stub_impl(ident: &Ident, generics: &syn::Generics) -> TokenStream {
    let krate = krate();
    if !generics.params.is_empty() {
        return TokenStream::new();
    }
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
    let name = crate::name::unraw(ident);
    let value = quote!(#krate::value::Value);
    let error = quote!(#krate::error::ErrorKind);
    quote! {
        #[allow(unused_variables)]
        impl #impl_generics #krate::resource::Resource for #ident #ty_generics #where_clause {
            const NAME: &'static str = #name;
            const ATTRIBUTES: &'static [#krate::attribute::AttributeInfo] = &[];
            const PRIMARY_KEY: () = ();
            const DATA_LAYER_OPTIONS: &'static [(&'static str, &'static str)] = &[];
            type PrimaryKey = ();
            type Field = ();
            type Value = ();
            type Changes = ();
            type DataLayer = <#krate::ets::Ets as #krate::data_layer::DataLayerKind>::Layer<Self>;
            type IdentityKey = ();
            fn identity_key(&self, identity: usize) -> ::std::option::Option<()> { ::std::option::Option::None }
            fn identity_of_key(key: &()) -> usize { 0 }
            fn identity_key_is_indexed(key: &()) -> bool { false }
            fn identity_filter(key: &()) -> #krate::filter::Filter<Self> { ::std::unreachable!() }
            fn changes_touch_identity(changes: &(), identity: usize) -> bool { false }
            fn changes_primary_key(changes: &()) -> bool { false }
            fn primary_key(&self) -> &() { &() }
            fn primary_key_value(key: &()) {}
            fn primary_key_of(value: &()) -> ::std::option::Option<&()> { ::std::option::Option::None }
            fn field_name(field: ()) -> &'static str { #name }
            fn value_field(value: &()) {}
            fn value_to_dynamic(value: &()) -> #value { ::std::unreachable!() }
            fn get(&self, field: ()) {}
            fn set(&mut self, value: ()) {}
            fn compare(&self, value: &()) -> ::std::option::Option<::std::cmp::Ordering> { ::std::option::Option::None }
            fn equals(&self, value: &()) -> bool { false }
            fn compare_field(&self, other: &Self, field: ()) -> ::std::option::Option<::std::cmp::Ordering> { ::std::option::Option::None }
            fn is_nil(&self, field: ()) -> bool { false }
            fn contains(&self, value: &()) -> bool { false }
            fn to_values(&self) -> ::std::vec::Vec<#value> { ::std::vec::Vec::new() }
            fn from_source<S: #krate::attribute::FieldSource + ?::std::marker::Sized>(source: &mut S) -> ::std::result::Result<Self, #error> { ::std::unreachable!() }
            fn changes_to_values(changes: &()) -> ::std::vec::Vec<((), #value)> { ::std::vec::Vec::new() }
            fn eval_atomic(&self, atomic: &#krate::data_layer::Atomic<Self>) -> ::std::result::Result<(), #error> { ::std::result::Result::Ok(()) }
            fn apply_changes(&mut self, changes: &mut ()) {}
            fn apply_create_defaults(changes: &mut ()) {}
            fn apply_update_defaults(changes: &mut ()) {}
            fn from_changes(changes: &mut ()) -> ::std::result::Result<Self, ::std::vec::Vec<#error>> { ::std::unreachable!() }
        }
    }
}
