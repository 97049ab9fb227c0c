//! What a resource with errors still generates, so that one mistake is one error: the
//! errors, plus everything the mistakes do not concern, so the domain listing the resource
//! and every use of it compile quietly (as thiserror's `fallback.rs` implements the traits
//! anyway on error).

use super::ast::{Entry, Resource};
use super::check;
use super::expand::{self, Mode};
use crate::ctxt::Ctxt;
use proc_macro2::TokenStream;
use quote::quote;

/// Whether checking something alone reports no error.
fn passes(check: impl FnOnce(&Ctxt)) -> bool {
    let cx = Ctxt::new();
    check(&cx);
    let ok = !cx.has_errors();
    drop(cx.into_errors());
    ok
}

/// Removes from a resource with errors everything the checks rejected, and tells how much
/// of it can be generated. What stays expands without an error of its own.
pub fn sanitize(res: &mut Resource) -> Mode {
    let named = matches!(res.item.fields, syn::Fields::Named(_));
    if !res.item.generics.params.is_empty() || !named || res.attributes.is_empty() {
        return Mode::Stub;
    }
    // A repeated action (or one whose input type clashes): the first is kept.
    let unique: Vec<bool> = (0..res.actions.len())
        .map(|i| check::is_unique_action(res, i))
        .collect();
    let mut keep = unique.into_iter();
    res.actions.retain(|_| keep.next().unwrap_or(false));
    let rels: Vec<bool> = (0..res.relationships.len())
        .map(|i| check::relationship_ok(res, i))
        .collect();
    let mut keep = rels.into_iter();
    res.relationships.retain(|_| keep.next().unwrap_or(false));
    let aggs: Vec<bool> = (0..res.aggregates.len())
        .map(|i| super::aggregates::check::aggregate_ok(res, i))
        .collect();
    let mut keep = aggs.into_iter();
    res.aggregates.retain(|_| keep.next().unwrap_or(false));

    for i in 0..res.actions.len() {
        // Accepted names: attributes, each once, for actions that take attributes.
        let action = &res.actions[i];
        let takes_input = action.kind.accepts_input();
        let mut seen = Vec::new();
        let accept: Vec<bool> = action
            .accept
            .iter()
            .map(|name| {
                let n = crate::name::unraw(name);
                let first = !seen.contains(&n);
                seen.push(n);
                takes_input && first && res.attribute(name).is_some()
            })
            .collect();
        let mut keep = accept.into_iter();
        res.actions[i]
            .accept
            .retain(|_| keep.next().unwrap_or(false));

        // Arguments: each name once, none named like an accepted attribute.
        let action = &res.actions[i];
        let arguments: Vec<bool> = action
            .arguments
            .iter()
            .enumerate()
            .map(|(j, arg)| {
                !action.arguments[..j].iter().any(|a| a.name == arg.name)
                    && !action.accepts(&arg.ident)
            })
            .collect();
        let mut keep = arguments.into_iter();
        res.actions[i]
            .arguments
            .retain(|_| keep.next().unwrap_or(false));

        // Changes and validations that pass their checks.
        let action = &res.actions[i];
        let entries: Vec<bool> = action
            .entries
            .iter()
            .map(|entry| {
                passes(|cx| match entry {
                    Entry::Change(c) => check::check_change(cx, res, Some(action), c),
                    Entry::Validate(v) => check::check_validation(cx, res, Some(action), v),
                })
            })
            .collect();
        let mut keep = entries.into_iter();
        res.actions[i]
            .entries
            .retain(|_| keep.next().unwrap_or(false));
    }

    // Identities that pass their checks, each name once; upsert options naming them.
    let identities: Vec<bool> = res
        .identities
        .iter()
        .enumerate()
        .map(|(i, id)| {
            !res.identities[..i].iter().any(|o| {
                o.name_str == id.name_str || o.variant == id.variant || o.konst == id.konst
            }) && !res.attributes.iter().any(|a| a.konst == id.konst)
                && passes(|cx| check::check_identity_fields(cx, res, id))
        })
        .collect();
    let mut keep = identities.into_iter();
    res.identities.retain(|_| keep.next().unwrap_or(false));
    for i in 0..res.actions.len() {
        let known = res.actions[i]
            .upsert
            .identity
            .as_ref()
            .is_some_and(|id| res.identity(id).is_some());
        if !known {
            res.actions[i].upsert.identity = None;
        }
        let action = &res.actions[i];
        let accepted: Vec<bool> = action
            .upsert
            .fields
            .iter()
            .flatten()
            .map(|f| action.accepts(f))
            .collect();
        let mut keep = accepted.into_iter();
        if let Some(fields) = &mut res.actions[i].upsert.fields {
            fields.retain(|_| keep.next().unwrap_or(false));
        }
    }

    let changes: Vec<bool> = res
        .global_changes
        .iter()
        .map(|c| passes(|cx| check::check_change(cx, res, None, c)))
        .collect();
    let mut keep = changes.into_iter();
    res.global_changes.retain(|_| keep.next().unwrap_or(false));
    let validations: Vec<bool> = res
        .global_validations
        .iter()
        .map(|v| passes(|cx| check::check_validation(cx, res, None, v)))
        .collect();
    let mut keep = validations.into_iter();
    res.global_validations
        .retain(|_| keep.next().unwrap_or(false));
    // Policies with an error of their own are left out whole: a resource without them
    // still compiles, and adds no error.
    if !passes(|cx| super::policies::check::check(cx, res)) {
        res.policies = None;
    }
    Mode::Fallback
}

/// `#[resource]` on something that is not a struct: the item as written (so code naming it
/// reports nothing more) and the error; an enum also gets a stub `Resource` impl and a
/// companion, so a domain listing it compiles quietly.
pub fn not_a_struct(item: TokenStream, errors: TokenStream) -> TokenStream {
    let Ok(item) = syn::parse2::<syn::Item>(item) else {
        return errors;
    };
    let syn::Item::Enum(mut item) = item else {
        return quote!(#item #errors);
    };
    if !item.attrs.iter().any(super::parse::derives_clone) {
        item.attrs
            .push(syn::parse_quote!(#[derive(::std::clone::Clone)]));
    }
    let stub = expand::stub_impl(&item.ident, &item.generics);
    let companion = expand::companion(&item.ident, &item.vis, &TokenStream::new(), &quote!(#item));
    let krate = expand::krate();
    let ident = &item.ident;
    let in_domain = item
        .generics
        .params
        .is_empty()
        .then(|| quote!(impl<__AshDomain> #krate::domain::InDomain<__AshDomain> for #ident {}));
    quote! {
        #item
        #errors
        #stub
        #in_domain
        #companion
    }
}

/// Puts the resource's `#[cfg(..)]` on every generated item, so they come and go with the
/// struct.
pub fn with_cfg(cfg: &[syn::Attribute], generated: TokenStream) -> TokenStream {
    if cfg.is_empty() {
        return generated;
    }
    let Ok(mut file) = syn::parse2::<syn::File>(generated.clone()) else {
        return generated;
    };
    for item in &mut file.items {
        if let Some(attrs) = attrs_mut(item) {
            attrs.splice(0..0, cfg.iter().cloned());
        }
    }
    quote!(#file)
}

fn attrs_mut(item: &mut syn::Item) -> Option<&mut Vec<syn::Attribute>> {
    use syn::Item;
    Some(match item {
        Item::Const(i) => &mut i.attrs,
        Item::Enum(i) => &mut i.attrs,
        Item::ExternCrate(i) => &mut i.attrs,
        Item::Fn(i) => &mut i.attrs,
        Item::ForeignMod(i) => &mut i.attrs,
        Item::Impl(i) => &mut i.attrs,
        Item::Macro(i) => &mut i.attrs,
        Item::Mod(i) => &mut i.attrs,
        Item::Static(i) => &mut i.attrs,
        Item::Struct(i) => &mut i.attrs,
        Item::Trait(i) => &mut i.attrs,
        Item::TraitAlias(i) => &mut i.attrs,
        Item::Type(i) => &mut i.attrs,
        Item::Union(i) => &mut i.attrs,
        Item::Use(i) => &mut i.attrs,
        _ => return None,
    })
}
