//! Policies: the `Resource` items listing them (`POLICIES`) and deciding the checks that
//! need typed code (`policy_check`). A resource without `#[policies]` gets neither: the
//! trait's defaults (no policies) keep it on the code path it had before.

use super::krate;
use crate::resource::ast::{RelKind, Resource};
use crate::resource::policies::{self, CheckDef, CheckKindDef, CheckOpDef, PoliciesDef};
use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

/// The items inside `impl Resource`.
pub fn resource_items(res: &Resource) -> TokenStream {
    let Some(def) = &res.policies else {
        return TokenStream::new();
    };
    if def.policies.is_empty() {
        return TokenStream::new();
    }
    let krate = krate();
    let mut next = 0u16;
    let infos = def.policies.iter().map(|policy| {
        let conditions: Vec<TokenStream> = policy
            .conditions
            .iter()
            .map(|c| check_info(c, &c.text, &mut next))
            .collect();
        let checks: Vec<TokenStream> = policy
            .checks
            .iter()
            .map(|e| {
                let op = match e.op {
                    CheckOpDef::AuthorizeIf => quote!(AuthorizeIf),
                    CheckOpDef::ForbidIf => quote!(ForbidIf),
                    CheckOpDef::AuthorizeUnless => quote!(AuthorizeUnless),
                    CheckOpDef::ForbidUnless => quote!(ForbidUnless),
                };
                let text = format!("{}({})", e.op.name(), e.check.text);
                let info = check_info(&e.check, &text, &mut next);
                quote!((#krate::policy::CheckOp::#op, #info))
            })
            .collect();
        let texts: Vec<&str> = policy.conditions.iter().map(|c| c.text.as_str()).collect();
        let description = if texts.is_empty() {
            format!("{}(always())", policy.kw)
        } else {
            format!("{}({})", policy.kw, texts.join(", "))
        };
        let bypass = policy.bypass;
        quote! {
            #krate::policy::PolicyInfo {
                description: #description,
                bypass: #bypass,
                conditions: &[ #( #conditions ),* ],
                checks: &[ #( #checks ),* ],
            }
        }
    });
    let arms = policies::generated_checks(def)
        .into_iter()
        .enumerate()
        .map(|(i, check)| {
            let i = i as u16;
            let body = generated_body(res, def, check);
            quote!(#i => #body,)
        });
    let related = policies::generated_checks(def)
        .into_iter()
        .any(|check| may_relate(res, check));
    let related = related.then(|| {
        quote!(
            const POLICY_RELATED_FILTERS: bool = true;
        )
    });
    quote! {
        const POLICIES: &'static [#krate::policy::PolicyInfo] = &[ #( #infos ),* ];
        #related

        #[allow(unused_variables, clippy::match_single_binding)]
        fn policy_check(
            check: u16,
            request: &#krate::policy::Request<'_>,
        ) -> #krate::policy::Decision<Self> {
            match check {
                #( #arms )*
                _ => #krate::policy::Decision::False,
            }
        }
    }
}

/// Whether a check may give a filter through a relationship: a `relates_to_actor_via`
/// other than one belongs_to, an `expr(...)`, a custom check.
fn may_relate(res: &Resource, check: &CheckDef) -> bool {
    match &check.kind {
        CheckKindDef::RelatesToActorVia(path) => {
            let single_belongs_to = path.len() == 1
                && res
                    .relationship(&path[0])
                    .is_some_and(|r| r.kind == RelKind::BelongsTo);
            !single_belongs_to
        }
        CheckKindDef::Expr { .. } | CheckKindDef::Custom(_) => true,
        _ => false,
    }
}

/// A `CheckInfo` for one check; generated checks take the next number.
fn check_info(check: &CheckDef, text: &str, next: &mut u16) -> TokenStream {
    let krate = krate();
    let kind = match &check.kind {
        CheckKindDef::Always => quote!(Always),
        CheckKindDef::Never => quote!(Never),
        CheckKindDef::ActorPresent => quote!(ActorPresent),
        CheckKindDef::ActorAbsent => quote!(ActorAbsent),
        CheckKindDef::Action(names) => {
            let names = names.iter().map(crate::name::unraw);
            quote!(Action(&[ #( #names ),* ]))
        }
        CheckKindDef::ActionType(types) => {
            let types = types.iter().map(|t| match crate::name::unraw(t).as_str() {
                "create" => quote!(#krate::action::ActionType::Create),
                "read" => quote!(#krate::action::ActionType::Read),
                "update" => quote!(#krate::action::ActionType::Update),
                _ => quote!(#krate::action::ActionType::Destroy),
            });
            quote!(ActionType(&[ #( #types ),* ]))
        }
        _ => {
            let id = *next;
            *next += 1;
            quote!(Generated(#id))
        }
    };
    quote! {
        #krate::policy::CheckInfo {
            description: #text,
            kind: #krate::policy::CheckKind::#kind,
        }
    }
}

/// The code deciding one generated check.
fn generated_body(res: &Resource, def: &PoliciesDef, check: &CheckDef) -> TokenStream {
    let krate = krate();
    let ident = res.ident();
    let decision = quote!(#krate::policy::Decision);
    let actor_ty = match &def.actor {
        Some(ty) => quote!(#ty),
        None => quote!(()),
    };
    // The typed actor, or the check is false (Ash: a check on a nil actor is false).
    let with_actor = |body: TokenStream| {
        quote! {
            match request.context.actor::<#actor_ty>() {
                ::std::option::Option::Some(actor) => #body,
                ::std::option::Option::None => #decision::False,
            }
        }
    };
    match &check.kind {
        CheckKindDef::ActorAttributeEquals { attribute, value } => {
            // Spanned at the user's tokens: an actor without the attribute is reported at
            // `role`, a value of the wrong type at the value.
            let field = quote_spanned!(attribute.span()=> &actor.#attribute);
            let value = quote_spanned!(value.span()=> &(#value));
            with_actor(quote! {
                #decision::from_bool(::std::cmp::PartialEq::eq(#field, #value))
            })
        }
        CheckKindDef::AttributeEqualsActor {
            attribute,
            actor_attribute,
        } => {
            let konst = match res.attribute(attribute) {
                Some(a) => &a.konst,
                None => return quote!(#decision::False),
            };
            let handle = quote_spanned!(attribute.span()=> #ident::#konst);
            let actor_value = quote_spanned!(actor_attribute.span()=> ::std::clone::Clone::clone(&actor.#actor_attribute));
            with_actor(quote! {
                #decision::Filter(#handle.eq(#actor_value))
            })
        }
        CheckKindDef::Expr { filter, uses_actor } => {
            let filter = quote_spanned!(filter.span()=> {
                let filter: #krate::filter::Filter<#ident> = #filter;
                filter
            });
            let body = quote!(#decision::Filter(#filter));
            if *uses_actor {
                with_actor(body)
            } else {
                body
            }
        }
        CheckKindDef::RelatesToActorVia(path) => relates_to_actor_via(res, path, &with_actor),
        CheckKindDef::Custom(expr) => quote_spanned! {expr.span()=>
            #krate::policy::run_check::<#ident, _>(&(#expr), request)
        },
        _ => quote!(#decision::False),
    }
}

/// `relates_to_actor_via(path)`: a single belongs_to compares its attribute with the
/// actor's field of the destination attribute (`author_id == actor.id`); anything else is
/// `exists` through the path, ending at the actor's primary key (the actor must be a
/// record of the last resource), on a data layer that renders relationship filters.
fn relates_to_actor_via(
    res: &Resource,
    path: &[syn::Ident],
    with_actor: &dyn Fn(TokenStream) -> TokenStream,
) -> TokenStream {
    let krate = krate();
    let ident = res.ident();
    let decision = quote!(#krate::policy::Decision);
    // The first hop is checked to exist; without it the check has already failed.
    let Some(first) = path.first().and_then(|f| res.relationship(f)) else {
        return quote!(#decision::False);
    };
    if path.len() == 1 && first.kind == RelKind::BelongsTo {
        if let Some(attr) = res.attribute(&first.source_attribute) {
            let konst = &attr.konst;
            let dest = &first.destination_attribute;
            let span = path[0].span();
            let actor_value = quote_spanned!(span=> ::std::clone::Clone::clone(&actor.#dest));
            return with_actor(quote! {
                #decision::Filter(#ident::#konst.eq(#actor_value))
            });
        }
    }
    let hf = quote!(#krate::relationship::HasRelationship);
    let rel = quote!(#krate::relationship::Relationship);
    // The handle of each hop and the resource it starts from.
    let mut handles = Vec::with_capacity(path.len());
    let first_konst = &first.konst;
    handles.push(quote!(#ident::#first_konst));
    let k0 = key(&path[0]);
    let mut source = quote!(<<#ident as #hf<#k0>>::Handle as #rel>::Destination);
    for hop in &path[1..] {
        let k = key(hop);
        handles.push(quote_spanned!(hop.span()=> <#source as #hf<#k>>::HANDLE));
        source = quote_spanned!(hop.span()=> <<#source as #hf<#k>>::Handle as #rel>::Destination);
    }
    let mut handles = handles.into_iter().rev();
    let Some(last) = handles.next() else {
        return quote!(#decision::False);
    };
    let span = path[path.len() - 1].span();
    let mut filter = quote_spanned!(span=> #krate::policy::relates_to_actor(#last, actor));
    for handle in handles {
        filter = quote!(#krate::relationship::exists(#handle, #filter));
    }
    with_actor(quote!(#decision::Filter(#filter)))
}

/// The `HasRelationship` key of a relationship name.
fn key(name: &syn::Ident) -> proc_macro2::Literal {
    proc_macro2::Literal::u128_suffixed(crate::keys::name_key(&crate::name::unraw(name)))
}
