//! Parsing `#[resource(...)]`, its helper attributes and its fields into the [`ast`] model.
//!
//! Parsing never stops at the first problem: each malformed piece records an error in the
//! context and is skipped, so every error of a resource shows in one build.

use super::ast::{Entry as ActionEntry, *};
use super::builtins;
use crate::ctxt::Ctxt;
use crate::meta::{self, Entry};
use crate::suggest;
use proc_macro2::{Delimiter, Span, TokenStream, TokenTree};
use syn::spanned::Spanned;
use syn::{Expr, Ident, Path};

const RESOURCE_OPTIONS: [&str; 2] = ["domain", "data_layer"];
const HELPER_ATTRIBUTES: [&str; 7] = [
    "actions",
    "changes",
    "validations",
    "identities",
    "relationships",
    "aggregates",
    "policies",
];
const RELATIONSHIP_KINDS: [&str; 4] = ["belongs_to", "has_one", "has_many", "many_to_many"];
const RELATIONSHIP_OPTIONS: [&str; 10] = [
    "source_attribute",
    "destination_attribute",
    "through",
    "source_attribute_on_join_resource",
    "destination_attribute_on_join_resource",
    "allow_nil",
    "on_delete",
    "filter",
    "sort",
    "writable",
];
const IDENTITY_OPTIONS: [&str; 2] = ["nils_distinct", "message"];
const ATTRIBUTE_OPTIONS: [&str; 3] = ["default", "writable", "primary_key"];
const ACTION_ENTRIES: [&str; 5] = ["defaults", "create", "read", "update", "destroy"];
const ACTION_OPTIONS: [&str; 12] = [
    "accept",
    "argument",
    "change",
    "validate",
    "primary",
    "filter",
    "get",
    "pagination",
    "upsert",
    "upsert_identity",
    "upsert_fields",
    "upsert_condition",
];
const PAGINATION_OPTIONS: [&str; 5] = [
    "offset",
    "keyset",
    "default_limit",
    "max_page_size",
    "countable",
];
const ARGUMENT_OPTIONS: [&str; 2] = ["allow_nil", "default"];

/// Parses the whole resource. `None` only when the item is not a struct at all.
pub fn parse(cx: &Ctxt, args: TokenStream, item: TokenStream) -> Option<Resource> {
    let mut item: syn::ItemStruct = match syn::parse2(item) {
        Ok(item) => item,
        Err(e) => {
            cx.syn_error(syn::Error::new(
                e.span(),
                "`#[resource]` goes on a struct whose fields are the resource's attributes",
            ));
            return None;
        }
    };
    let (domain, data_layer) = parse_resource_options(cx, args);
    let ident = item.ident.clone();

    let mut actions = Vec::new();
    let mut global_changes = Vec::new();
    let mut global_validations = Vec::new();
    let mut identities = Vec::new();
    let mut relationships = Vec::new();
    let mut policies = None;
    let mut aggregates = Vec::new();
    let mut kept = Vec::new();
    for attr in std::mem::take(&mut item.attrs) {
        let name = attr.path().get_ident().map(Ident::to_string);
        match name.as_deref() {
            Some("actions") => match list_tokens(&attr) {
                Ok(t) => parse_actions(cx, &ident, t, &mut actions),
                Err(e) => cx.syn_error(e),
            },
            Some("changes") => {
                global_changes.extend(parse_global(cx, &attr, builtins::parse_change))
            }
            Some("validations") => {
                global_validations.extend(parse_global(cx, &attr, builtins::parse_validation))
            }
            Some("identities") => match list_tokens(&attr) {
                Ok(t) => parse_identities(cx, &ident, t, &mut identities),
                Err(e) => cx.syn_error(e),
            },
            Some("relationships") => match list_tokens(&attr) {
                Ok(t) => parse_relationships(cx, &ident, t, &mut relationships),
                Err(e) => cx.syn_error(e),
            },
            Some("aggregates") => match list_tokens(&attr) {
                Ok(t) => super::aggregates::parse::parse_aggregates(cx, t, &mut aggregates),
                Err(e) => cx.syn_error(e),
            },
            Some("policies") => match list_tokens(&attr) {
                Ok(t) => {
                    super::policies::parse::parse_policies(cx, attr.path().span(), t, &mut policies)
                }
                Err(e) => cx.syn_error(e),
            },
            _ => kept.push(attr),
        }
    }
    item.attrs = kept;
    let derives_clone = item.attrs.iter().any(derives_clone);
    let cfg = item
        .attrs
        .iter()
        .filter(|a| a.path().is_ident("cfg"))
        .cloned()
        .collect();

    add_belongs_to_attributes(&mut item, &relationships);
    let mut attributes = parse_fields(cx, &mut item);
    mark_unwritable_foreign_keys(&relationships, &mut attributes);
    Some(Resource {
        aggregates,
        relationships,
        derives_clone,
        cfg,
        item,
        domain,
        data_layer,
        attributes,
        actions,
        global_changes,
        global_validations,
        identities,
        policies,
    })
}

/// `#[identities(identity(name, [a, b], nils_distinct = false, message = "..."), ...)]`.
fn parse_identities(cx: &Ctxt, resource: &Ident, tokens: TokenStream, out: &mut Vec<IdentityDef>) {
    for entry in meta::parse_entries(cx, tokens) {
        match entry {
            Entry::Call(kw, args) if kw == "identity" => {
                if let Some(identity) = parse_identity(cx, resource, &kw, args) {
                    out.push(identity);
                }
            }
            other => {
                let n = other.name().to_string();
                cx.error_at(
                    other.name().span(),
                    format!(
                        "unknown entry `{n}` in `#[identities(...)]`{}; write `identity(name, [attributes])`",
                        suggest::hint(&n, ["identity"])
                    ),
                );
            }
        }
    }
}

fn parse_identity(
    cx: &Ctxt,
    resource: &Ident,
    kw: &Ident,
    args: TokenStream,
) -> Option<IdentityDef> {
    let usage = "write `identity(name, [attributes])`, like `identity(unique_email, [email])`";
    let mut entries = meta::split_commas(args).into_iter();
    let (Some(first), Some(second)) = (entries.next(), entries.next()) else {
        cx.error_at(
            kw.span(),
            format!("an identity needs a name and attributes: {usage}"),
        );
        return None;
    };
    let Ok(name) = meta::name(first.clone()) else {
        cx.error_spanned_by(
            first,
            format!("expected the identity's name first: {usage}"),
        );
        return None;
    };
    let fields = match meta::parse_ident_list(second) {
        Ok(fields) => fields,
        Err(e) => {
            cx.syn_error(e);
            return None;
        }
    };
    let name_str = crate::name::unraw(&name);
    let fallback = format!("Identity{}", name_str.len());
    let variant = crate::name::variant(&name_str, name.span(), &fallback);
    let konst = crate::name::constant(&name_str, name.span(), &fallback.to_uppercase());
    let _ = resource;
    let mut identity = IdentityDef {
        name,
        name_str,
        konst,
        variant,
        fields,
        nils_distinct: true,
        message: None,
    };
    for tokens in entries {
        match meta::parse_entry(tokens) {
            Ok(Entry::KeyValue(k, v)) if k == "nils_distinct" => match meta::parse_bool(v) {
                Ok(b) => identity.nils_distinct = b,
                Err(e) => cx.syn_error(e),
            },
            Ok(Entry::KeyValue(k, v)) if k == "message" => match meta::parse::<syn::LitStr>(v) {
                Ok(m) => identity.message = Some(m),
                Err(e) => cx.syn_error(e),
            },
            Ok(other) => unknown(cx, other.name(), "identity option", &IDENTITY_OPTIONS),
            Err(e) => cx.syn_error(e),
        }
    }
    Some(identity)
}

/// `#[relationships(belongs_to(author, User), has_many(comments, Comment), ...)]`.
fn parse_relationships(
    cx: &Ctxt,
    resource: &Ident,
    tokens: TokenStream,
    out: &mut Vec<RelationshipDef>,
) {
    for entry in meta::parse_entries(cx, tokens) {
        let kind_name = entry.name().to_string();
        match (RelKind::from_name(&kind_name), entry) {
            (Some(kind), Entry::Call(kw, args)) => {
                if let Some(rel) = parse_relationship(cx, resource, kind, &kw, args) {
                    out.push(rel);
                }
            }
            (_, other) => {
                let n = other.name().to_string();
                cx.error_at(
                    other.name().span(),
                    format!(
                        "unknown entry `{n}` in `#[relationships(...)]`{}; write `belongs_to(name, Resource)`, `has_one`, `has_many` or `many_to_many`",
                        suggest::hint(&n, RELATIONSHIP_KINDS)
                    ),
                );
            }
        }
    }
}

fn snake(ident: &Ident) -> String {
    let name = crate::name::unraw(ident);
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

fn parse_relationship(
    cx: &Ctxt,
    resource: &Ident,
    kind: RelKind,
    kw: &Ident,
    args: TokenStream,
) -> Option<RelationshipDef> {
    let usage = format!("write `{kw}(name, Resource, ...)`, like `{kw}(comments, Comment)`");
    let mut entries = meta::split_commas(args).into_iter();
    let (Some(first), Some(second)) = (entries.next(), entries.next()) else {
        cx.error_at(
            kw.span(),
            format!("a relationship needs a name and a destination resource: {usage}"),
        );
        return None;
    };
    let Ok(name) = meta::name(first.clone()) else {
        cx.error_spanned_by(
            first,
            format!("expected the relationship's name first: {usage}"),
        );
        return None;
    };
    let destination: Path = match meta::parse(second) {
        Ok(p) => p,
        Err(e) => {
            cx.syn_error(e);
            return None;
        }
    };
    let name_str = crate::name::unraw(&name);
    let konst = crate::name::constant(&name_str, name.span(), "RELATIONSHIP");
    let mut source_attribute = None;
    let mut destination_attribute = None;
    let mut through = None;
    let mut source_on_join = None;
    let mut destination_on_join = None;
    let mut allow_nil = true;
    let mut on_delete = Ident::new("restrict", name.span());
    let mut filter = None;
    let mut sort = None;
    let mut writable = None;
    for tokens in entries {
        match meta::parse_entry(tokens) {
            Ok(Entry::KeyValue(k, v)) => {
                let key = k.to_string();
                let ident = || meta::name(v.clone());
                let result = match key.as_str() {
                    "source_attribute" => ident().map(|i| source_attribute = Some(i)),
                    "destination_attribute" => ident().map(|i| destination_attribute = Some(i)),
                    "source_attribute_on_join_resource" => {
                        ident().map(|i| source_on_join = Some(i))
                    }
                    "destination_attribute_on_join_resource" => {
                        ident().map(|i| destination_on_join = Some(i))
                    }
                    "through" if kind == RelKind::ManyToMany => {
                        meta::parse::<Path>(v.clone()).map(|p| through = Some(p))
                    }
                    "allow_nil" if kind == RelKind::BelongsTo => {
                        meta::parse_bool(v.clone()).map(|b| allow_nil = b)
                    }
                    "filter" => meta::parse::<Expr>(v.clone()).map(|e| filter = Some(e)),
                    "sort" => meta::parse::<syn::ExprArray>(v.clone())
                        .map(|a| sort = Some(a))
                        .map_err(|e| {
                            syn::Error::new(
                                e.span(),
                                "`sort` is a list of sort keys, like `sort = [Comment::SCORE.desc()]`",
                            )
                        }),
                    "writable" if kind == RelKind::BelongsTo => {
                        meta::parse_bool(v.clone())
                            .and_then(|_| meta::parse::<syn::LitBool>(v.clone()))
                            .map(|b| writable = Some(b))
                    }
                    "on_delete" if kind == RelKind::BelongsTo => ident().and_then(|i| {
                        if ["restrict", "cascade", "nilify"].contains(&i.to_string().as_str()) {
                            on_delete = i;
                            Ok(())
                        } else {
                            Err(syn::Error::new(
                                i.span(),
                                "`on_delete` is `restrict`, `cascade` or `nilify`",
                            ))
                        }
                    }),
                    _ if RELATIONSHIP_OPTIONS.contains(&key.as_str()) => Err(syn::Error::new(
                        k.span(),
                        format!("`{key}` does not apply to `{kw}`"),
                    )),
                    _ => {
                        unknown(cx, &k, "relationship option", &RELATIONSHIP_OPTIONS);
                        Ok(())
                    }
                };
                if let Err(e) = result {
                    cx.syn_error(e);
                }
            }
            Ok(other) => unknown(
                cx,
                other.name(),
                "relationship option",
                &RELATIONSHIP_OPTIONS,
            ),
            Err(e) => cx.syn_error(e),
        }
    }
    let span = name.span();
    let id = || Ident::new("id", span);
    let source_snake = format!("{}_id", snake(resource));
    let dest_last = destination
        .segments
        .last()
        .map(|s| s.ident.clone())
        .unwrap_or_else(id);
    let (source_attribute, destination_attribute) = match kind {
        RelKind::BelongsTo => (
            source_attribute
                .unwrap_or_else(|| quote::format_ident!("{}_id", name_str, span = span)),
            destination_attribute.unwrap_or_else(id),
        ),
        RelKind::HasOne | RelKind::HasMany => (
            source_attribute.unwrap_or_else(id),
            destination_attribute.unwrap_or_else(|| Ident::new(&source_snake, span)),
        ),
        RelKind::ManyToMany => (
            source_attribute.unwrap_or_else(id),
            destination_attribute.unwrap_or_else(id),
        ),
    };
    if kind == RelKind::ManyToMany && through.is_none() {
        cx.error_at(
            kw.span(),
            format!("a many_to_many needs its join resource: `through = JoinResource` ({usage})"),
        );
        return None;
    }
    Some(RelationshipDef {
        kind,
        konst,
        name,
        name_str,
        destination,
        source_attribute,
        destination_attribute,
        through,
        source_on_join: source_on_join.unwrap_or_else(|| Ident::new(&source_snake, span)),
        destination_on_join: destination_on_join
            .unwrap_or_else(|| Ident::new(&format!("{}_id", snake(&dest_last)), span)),
        allow_nil,
        on_delete,
        filter,
        sort,
        writable,
    })
}

/// A belongs_to defines its foreign key attribute (of the destination's primary-key type,
/// an `Option` unless `allow_nil = false`) unless the struct declares it (R1.4).
fn add_belongs_to_attributes(item: &mut syn::ItemStruct, relationships: &[RelationshipDef]) {
    let syn::Fields::Named(named) = &mut item.fields else {
        return;
    };
    for rel in relationships
        .iter()
        .filter(|r| r.kind == RelKind::BelongsTo)
    {
        let name = crate::name::unraw(&rel.source_attribute);
        let declared = named.named.iter().any(|f| {
            f.ident
                .as_ref()
                .is_some_and(|i| crate::name::unraw(i) == name)
        });
        if declared {
            continue;
        }
        let ident = &rel.source_attribute;
        let dest = &rel.destination;
        let pk = quote::quote_spanned!(dest.span()=> <#dest as ::ash_rs::resource::Resource>::PrimaryKey);
        let doc = format!(
            "The foreign key of `{}` (defined by the belongs_to).",
            rel.name_str
        );
        let tokens = if rel.allow_nil {
            quote::quote!(#[doc = #doc] pub #ident: ::std::option::Option<#pk>)
        } else {
            quote::quote!(#[doc = #doc] pub #ident: #pk)
        };
        if let Ok(field) = syn::parse::Parser::parse2(syn::Field::parse_named, tokens) {
            named.named.push(field);
        }
    }
}

/// A belongs_to with `writable = false` makes its foreign key attribute not writable
/// (Ash's `attribute_writable?`, defaulting to the relationship's `writable?`), whether the
/// belongs_to defined it or the struct declares it: no action may then accept it.
fn mark_unwritable_foreign_keys(relationships: &[RelationshipDef], attributes: &mut [Attribute]) {
    for rel in relationships {
        if rel.writable.as_ref().is_some_and(|w| !w.value) {
            let name = crate::name::unraw(&rel.source_attribute);
            if let Some(attr) = attributes.iter_mut().find(|a| a.name == name) {
                attr.writable = false;
            }
        }
    }
}

/// `#[derive(.., Clone, ..)]` (also `std::clone::Clone`).
pub fn derives_clone(attr: &syn::Attribute) -> bool {
    if !attr.path().is_ident("derive") {
        return false;
    }
    let Ok(paths) =
        attr.parse_args_with(syn::punctuated::Punctuated::<Path, syn::Token![,]>::parse_terminated)
    else {
        return false;
    };
    paths
        .iter()
        .any(|p| p.segments.last().is_some_and(|s| s.ident == "Clone"))
}

/// The entries of `#[changes(...)]` or `#[validations(...)]`, each parsed by `parse`.
fn parse_global<T>(
    cx: &Ctxt,
    attr: &syn::Attribute,
    parse: fn(&Ctxt, TokenStream, bool) -> Option<T>,
) -> Vec<T> {
    match list_tokens(attr) {
        Ok(tokens) => meta::split_commas(tokens)
            .into_iter()
            .filter_map(|entry| parse(cx, entry, true))
            .collect(),
        Err(e) => {
            cx.syn_error(e);
            Vec::new()
        }
    }
}

fn list_tokens(attr: &syn::Attribute) -> syn::Result<TokenStream> {
    Ok(attr.meta.require_list()?.tokens.clone())
}

fn parse_resource_options(cx: &Ctxt, args: TokenStream) -> (Option<Path>, Option<DataLayerRef>) {
    let mut domain = None;
    let mut data_layer = None;
    for entry in meta::parse_entries(cx, args) {
        let name = entry.name().to_string();
        match (name.as_str(), entry) {
            ("domain", Entry::KeyValue(_, v)) => {
                set_once(cx, &mut domain, meta::parse::<Path>(v), "domain")
            }
            ("data_layer", Entry::KeyValue(_, v)) => match parse_data_layer(v) {
                Ok(dl) if data_layer.is_some() => {
                    cx.error_spanned_by(&dl.path, "duplicate `data_layer` option")
                }
                Ok(dl) => data_layer = Some(dl),
                Err(e) => cx.syn_error(e),
            },
            (_, entry) => unknown(cx, entry.name(), "`#[resource]` option", &RESOURCE_OPTIONS),
        }
    }
    (domain, data_layer)
}

/// `Ets`, or `Postgres(table = "addresses")`: a path and string options for the layer.
fn parse_data_layer(tokens: TokenStream) -> syn::Result<DataLayerRef> {
    let mut toks: Vec<TokenTree> = tokens.into_iter().collect();
    let options_group = match toks.last() {
        Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Parenthesis => {
            let g = g.clone();
            toks.pop();
            Some(g)
        }
        _ => None,
    };
    let path: Path = syn::parse2(toks.into_iter().collect())?;
    let mut options = Vec::new();
    if let Some(group) = options_group {
        for entry in meta::split_commas(group.stream()) {
            match meta::parse_entry(entry.clone())? {
                Entry::KeyValue(key, value) => {
                    let lit: syn::LitStr = syn::parse2(value).map_err(|e| {
                        syn::Error::new(e.span(), format!("data layer option `{key}` takes a string, like `{key} = \"...\"`"))
                    })?;
                    options.push((key, lit));
                }
                _ => {
                    return Err(syn::Error::new_spanned(
                        entry,
                        "data layer options are written `key = \"value\"`, like `Postgres(table = \"addresses\")`",
                    ))
                }
            }
        }
    }
    Ok(DataLayerRef { path, options })
}

fn set_once<T: quote::ToTokens>(
    cx: &Ctxt,
    slot: &mut Option<T>,
    value: syn::Result<T>,
    name: &str,
) {
    match value {
        Ok(v) if slot.is_some() => cx.error_spanned_by(&v, format!("duplicate `{name}` option")),
        Ok(v) => *slot = Some(v),
        Err(e) => cx.syn_error(e),
    }
}

fn unknown(cx: &Ctxt, name: &Ident, what: &str, valid: &[&str]) {
    let n = name.to_string();
    cx.error_at(
        name.span(),
        format!(
            "unknown {what} `{n}`{}; expected one of {}",
            suggest::hint(&n, valid.iter().copied()),
            suggest::list(valid.iter().copied())
        ),
    );
}

fn parse_fields(cx: &Ctxt, item: &mut syn::ItemStruct) -> Vec<Attribute> {
    let fields = match &mut item.fields {
        syn::Fields::Named(named) => &mut named.named,
        other => {
            cx.error_spanned_by(
                &*other,
                "a resource struct needs named fields: each field is an attribute",
            );
            return Vec::new();
        }
    };
    let mut attributes: Vec<Attribute> = Vec::new();
    for (index, field) in fields.iter_mut().enumerate() {
        let Some(ident) = field.ident.as_ref().map(crate::name::canonical) else {
            continue;
        };
        let name = crate::name::unraw(&ident);
        let fallback = format!("Attribute{index}");
        let mut variant = crate::name::variant(&name, ident.span(), &fallback);
        let mut konst = crate::name::constant(&name, ident.span(), &fallback.to_uppercase());
        // Two names may give one generated identifier (`a_b` and `a__b` are both `AB`).
        let clash = attributes.iter().find_map(|a| {
            if a.variant == variant {
                Some(format!("the variant `{}Field::{variant}`", item.ident))
            } else if a.konst == konst {
                Some(format!("the constant `{}::{konst}`", item.ident))
            } else {
                None
            }
            .map(|what| (a.name.clone(), what))
        });
        if let Some((other, what)) = clash {
            cx.error_spanned_by(
                &ident,
                format!("attributes `{other}` and `{name}` would both be {what}; rename one"),
            );
            variant = quote::format_ident!("{}", fallback, span = ident.span());
            konst = quote::format_ident!("{}", fallback.to_uppercase(), span = ident.span());
        }
        let mut attribute = Attribute {
            nilable: is_option(&field.ty),
            ident,
            name,
            variant,
            konst,
            ty: field.ty.clone(),
            primary_key: None,
            uuid_primary_key: false,
            default: None,
            writable: true,
            timestamp: None,
        };
        let mut kept = Vec::new();
        for attr in std::mem::take(&mut field.attrs) {
            let name = attr.path().get_ident().map(Ident::to_string);
            match name.as_deref() {
                Some("uuid_primary_key") => {
                    require_word(cx, &attr);
                    attribute.primary_key = Some(attr.path().span());
                    attribute.uuid_primary_key = true;
                    attribute.writable = false;
                }
                Some("primary_key") => {
                    require_word(cx, &attr);
                    attribute.primary_key = Some(attr.path().span());
                }
                Some("create_timestamp") | Some("update_timestamp") => {
                    require_word(cx, &attr);
                    attribute.writable = false;
                    attribute.timestamp = Some(if name.as_deref() == Some("create_timestamp") {
                        Timestamp::Create
                    } else {
                        Timestamp::Update
                    });
                }
                Some("attribute") => match list_tokens(&attr) {
                    Ok(t) => parse_attribute_options(cx, t, &mut attribute),
                    Err(e) => cx.syn_error(e),
                },
                Some(other) if HELPER_ATTRIBUTES.contains(&other) => cx.error_spanned_by(
                    attr.path(),
                    format!("`#[{other}(...)]` goes on the struct, not on a field"),
                ),
                // Generated code reads and writes every attribute; one that may be compiled
                // out cannot be.
                Some("cfg") => {
                    cx.error_spanned_by(
                        attr.path(),
                        "a resource attribute cannot be conditional: `#[cfg]` on a field is not supported (put `#[cfg]` on the whole struct)",
                    );
                }
                _ => kept.push(attr),
            }
        }
        field.attrs = kept;
        attributes.push(attribute);
    }
    attributes
}

fn require_word(cx: &Ctxt, attr: &syn::Attribute) {
    if let Err(e) = attr.meta.require_path_only() {
        cx.syn_error(e);
    }
}

fn parse_attribute_options(cx: &Ctxt, tokens: TokenStream, attribute: &mut Attribute) {
    for entry in meta::parse_entries(cx, tokens) {
        let name = entry.name().to_string();
        match (name.as_str(), entry) {
            ("default", Entry::KeyValue(_, v)) => match meta::parse::<Expr>(v) {
                Ok(e) => attribute.default = Some(e),
                Err(e) => cx.syn_error(e),
            },
            ("writable", Entry::KeyValue(_, v)) => match meta::parse_bool(v) {
                Ok(b) => attribute.writable = b,
                Err(e) => cx.syn_error(e),
            },
            ("primary_key", Entry::Flag(i)) => attribute.primary_key = Some(i.span()),
            (_, entry) => {
                if !ATTRIBUTE_OPTIONS.contains(&name.as_str()) {
                    unknown(cx, entry.name(), "attribute option", &ATTRIBUTE_OPTIONS);
                } else {
                    cx.error_at(
                        entry.name().span(),
                        format!("`{name}` is written `{}`", attribute_option_usage(&name)),
                    );
                }
            }
        }
    }
}

fn attribute_option_usage(name: &str) -> &'static str {
    match name {
        "default" => "default = <expression>",
        "writable" => "writable = false",
        _ => "primary_key",
    }
}

/// `Option<_>` (also `std::option::Option<_>`): nilable, `allow_nil? true`.
fn is_option(ty: &syn::Type) -> bool {
    match ty {
        syn::Type::Path(p) if p.qself.is_none() => p.path.segments.last().is_some_and(|s| {
            s.ident == "Option" && matches!(s.arguments, syn::PathArguments::AngleBracketed(_))
        }),
        _ => false,
    }
}

fn parse_actions(cx: &Ctxt, resource: &Ident, tokens: TokenStream, actions: &mut Vec<Action>) {
    for tokens in meta::split_commas(tokens) {
        let (docs, entry) = match meta::parse_documented_entry(tokens) {
            Ok(e) => e,
            Err(e) => {
                cx.syn_error(e);
                continue;
            }
        };
        let name = entry.name().to_string();
        match (name.as_str(), entry) {
            ("defaults", Entry::Call(_, args)) => parse_defaults(cx, resource, args, actions),
            (kind, Entry::Call(kw, args)) if ActionKind::from_name(kind).is_some() => {
                if let Some(kind) = ActionKind::from_name(kind) {
                    if let Some(mut action) = parse_action(cx, resource, kind, kw.span(), args) {
                        action.docs = docs;
                        actions.push(action);
                    }
                }
            }
            (_, entry) => {
                if ACTION_ENTRIES.contains(&name.as_str()) {
                    cx.error_at(
                        entry.name().span(),
                        format!("write `{name}(name, ...)`, e.g. `{name}({name})`"),
                    );
                } else {
                    unknown(cx, entry.name(), "action type", &ACTION_ENTRIES);
                }
            }
        }
    }
}

/// An action with nothing set but its type and name.
fn new_action(resource: &Ident, kind: ActionKind, name: Ident) -> Action {
    let name_str = crate::name::unraw(&name);
    let input = crate::name::generated(
        &format!(
            "{}{}Input",
            crate::name::unraw(resource),
            crate::name::pascal(&name_str)
        ),
        name.span(),
    )
    .unwrap_or_else(|| quote::format_ident!("{}Input", resource, span = name.span()));
    Action {
        kind,
        name,
        name_str,
        input,
        docs: Vec::new(),
        accept: Vec::new(),
        arguments: Vec::new(),
        entries: Vec::new(),
        primary: None,
        filter: None,
        get: false,
        pagination: None,
        upsert: UpsertDef::default(),
    }
}

fn parse_defaults(cx: &Ctxt, resource: &Ident, args: TokenStream, actions: &mut Vec<Action>) {
    for entry in meta::parse_entries(cx, args) {
        let name = entry.name().to_string();
        let Some(kind) = ActionKind::from_name(&name) else {
            unknown(cx, entry.name(), "default action", &ActionKind::ALL);
            continue;
        };
        let (ident, accept) = match entry {
            Entry::Flag(i) => (i, Vec::new()),
            Entry::KeyValue(i, v) => match meta::parse_ident_list(v) {
                Ok(list) => (i, list),
                Err(e) => {
                    cx.syn_error(e);
                    continue;
                }
            },
            Entry::Call(i, _) => {
                cx.error_at(
                    i.span(),
                    format!("in `defaults`, write `{name}` or `{name} = [attributes]`"),
                );
                continue;
            }
        };
        if !accept.is_empty() && !kind.accepts_input() {
            cx.error_at(
                ident.span(),
                format!(
                    "do not give an accept list to the default `{name}` action: {name} actions take no attributes"
                ),
            );
        }
        let mut action = new_action(resource, kind, ident);
        action.accept = accept;
        actions.push(action);
    }
}

fn parse_action(
    cx: &Ctxt,
    resource: &Ident,
    kind: ActionKind,
    kind_span: Span,
    args: TokenStream,
) -> Option<Action> {
    let mut entries = meta::split_commas(args).into_iter();
    let Some(first) = entries.next() else {
        cx.error_at(
            kind_span,
            format!("an action needs a name: `{}(name, ...)`", kind.name()),
        );
        return None;
    };
    let name: Ident = match meta::name(first.clone()) {
        Ok(i) => i,
        Err(_) => {
            cx.error_spanned_by(
                first,
                format!(
                    "expected the action's name first: `{}(name, ...)`",
                    kind.name()
                ),
            );
            return None;
        }
    };
    let mut action = new_action(resource, kind, name);
    for tokens in entries {
        // `change = <change>` holds its own parenthesized arguments; parse it separately so
        // its options (`where = ...`) are read as change options.
        let entry = match meta::parse_entry(tokens) {
            Ok(e) => e,
            Err(e) => {
                cx.syn_error(e);
                continue;
            }
        };
        let key = entry.name().to_string();
        match (key.as_str(), entry) {
            ("accept", Entry::KeyValue(i, v)) => {
                if !kind.accepts_input() {
                    cx.error_at(
                        i.span(),
                        format!("{} actions take no attributes; remove `accept`", kind.name()),
                    );
                }
                match meta::parse_ident_list(v) {
                    Ok(list) => action.accept.extend(list),
                    Err(e) => cx.syn_error(e),
                }
            }
            ("change", Entry::KeyValue(_, v)) => {
                if let Some(change) = builtins::parse_change(cx, v, false) {
                    action.entries.push(ActionEntry::Change(change));
                }
            }
            ("validate", Entry::KeyValue(_, v)) => {
                if let Some(validation) = builtins::parse_validation(cx, v, false) {
                    action.entries.push(ActionEntry::Validate(validation));
                }
            }
            ("argument", Entry::Call(kw, args)) => {
                if let Some(argument) = parse_argument(cx, &kw, args) {
                    action.arguments.push(argument);
                }
            }
            ("primary", Entry::KeyValue(_, v)) => match meta::parse_bool(v) {
                Ok(b) => action.primary = Some(b),
                Err(e) => cx.syn_error(e),
            },
            ("upsert" | "upsert_identity" | "upsert_fields" | "upsert_condition", entry)
                if kind != ActionKind::Create =>
            {
                cx.error_at(
                    entry.name().span(),
                    format!("`{key}` applies to create actions only"),
                )
            }
            ("upsert", Entry::KeyValue(_, v)) => match meta::parse_bool(v) {
                Ok(b) => action.upsert.upsert = b,
                Err(e) => cx.syn_error(e),
            },
            ("upsert_identity", Entry::KeyValue(_, v)) => match meta::name(v) {
                Ok(i) => action.upsert.identity = Some(i),
                Err(e) => cx.syn_error(e),
            },
            ("upsert_fields", Entry::KeyValue(_, v)) => match meta::parse_ident_list(v) {
                Ok(list) => action.upsert.fields = Some(list),
                Err(e) => cx.syn_error(e),
            },
            ("upsert_condition", Entry::KeyValue(_, v)) => match meta::parse::<Expr>(v) {
                Ok(e) => action.upsert.condition = Some(e),
                Err(e) => cx.syn_error(e),
            },
            ("filter" | "get" | "pagination", entry) if kind != ActionKind::Read => cx.error_at(
                entry.name().span(),
                format!("`{key}` applies to read actions only"),
            ),
            ("filter", Entry::KeyValue(_, v)) => match meta::parse::<Expr>(v) {
                Ok(e) => action.filter = Some(e),
                Err(e) => cx.syn_error(e),
            },
            ("get", Entry::KeyValue(_, v)) => match meta::parse_bool(v) {
                Ok(b) => action.get = b,
                Err(e) => cx.syn_error(e),
            },
            ("pagination", Entry::Call(_, args)) => action.pagination = Some(parse_pagination(cx, args)),
            ("on", Entry::KeyValue(i, _)) => cx.error_at(
                i.span(),
                "`on` is only allowed in the global `#[changes(...)]`: a change inside an action applies to that action",
            ),
            (_, entry) => unknown(cx, entry.name(), "action option", &ACTION_OPTIONS),
        }
    }
    Some(action)
}

/// `argument(name: Type, allow_nil = true, default = expr)`. Nilability follows the type,
/// as for attributes, unless `allow_nil` says otherwise.
fn parse_argument(cx: &Ctxt, kw: &Ident, args: TokenStream) -> Option<Argument> {
    if args.is_empty() {
        cx.error_at(
            kw.span(),
            "an argument needs a name and a type: `argument(title: String)`",
        );
        return None;
    }
    // `name: Type` first: a type may hold commas (`HashMap<String, i64>`), so it is read
    // with `syn` rather than split.
    let head = |input: syn::parse::ParseStream| {
        let ident = meta::parse_name(input)?;
        input.parse::<syn::Token![:]>()?;
        let ty: syn::Type = input.parse()?;
        if !input.is_empty() {
            input.parse::<syn::Token![,]>()?;
        }
        let rest: TokenStream = input.parse()?;
        Ok((ident, ty, rest))
    };
    let (ident, ty, rest) = match syn::parse::Parser::parse2(head, args.clone()) {
        Ok(v) => v,
        Err(_) => {
            let first = meta::split_commas(args)
                .into_iter()
                .next()
                .unwrap_or_default();
            cx.error_spanned_by(
                first,
                "expected `name: Type`, like `argument(title: String)`",
            );
            return None;
        }
    };
    let entries = meta::split_commas(rest);
    let mut argument = Argument {
        allow_nil: is_option(&ty),
        name: crate::name::unraw(&ident),
        ident,
        ty,
        default: None,
    };
    for tokens in entries {
        match meta::parse_entry(tokens) {
            Ok(Entry::KeyValue(k, v)) if k == "allow_nil" => match meta::parse_bool(v) {
                Ok(b) => argument.allow_nil = b,
                Err(e) => cx.syn_error(e),
            },
            Ok(Entry::KeyValue(k, v)) if k == "default" => match meta::parse::<Expr>(v) {
                Ok(e) => argument.default = Some(e),
                Err(e) => cx.syn_error(e),
            },
            Ok(other) => unknown(cx, other.name(), "argument option", &ARGUMENT_OPTIONS),
            Err(e) => cx.syn_error(e),
        }
    }
    Some(argument)
}

/// `pagination(offset = true, keyset = true, default_limit = 20, max_page_size = 100,
/// countable = true)`; a bare `offset` or `keyset` means `= true`.
fn parse_pagination(cx: &Ctxt, args: TokenStream) -> PaginationDef {
    let mut def = PaginationDef::default();
    for entry in meta::parse_entries(cx, args) {
        let key = entry.name().to_string();
        let flag = |v: Option<TokenStream>| match v {
            None => Ok(true),
            Some(v) => meta::parse_bool(v),
        };
        let result = match (key.as_str(), entry) {
            ("offset", Entry::Flag(_)) => flag(None).map(|b| def.offset = b),
            ("offset", Entry::KeyValue(_, v)) => flag(Some(v)).map(|b| def.offset = b),
            ("keyset", Entry::Flag(_)) => flag(None).map(|b| def.keyset = b),
            ("keyset", Entry::KeyValue(_, v)) => flag(Some(v)).map(|b| def.keyset = b),
            ("countable", Entry::Flag(_)) => flag(None).map(|b| def.countable = b),
            ("countable", Entry::KeyValue(_, v)) => flag(Some(v)).map(|b| def.countable = b),
            ("default_limit", Entry::KeyValue(_, v)) => {
                meta::parse::<syn::LitInt>(v).map(|n| def.default_limit = Some(n))
            }
            ("max_page_size", Entry::KeyValue(_, v)) => {
                meta::parse::<syn::LitInt>(v).map(|n| def.max_page_size = Some(n))
            }
            (_, entry) => {
                unknown(cx, entry.name(), "pagination option", &PAGINATION_OPTIONS);
                Ok(())
            }
        };
        if let Err(e) = result {
            cx.syn_error(e);
        }
    }
    if !def.offset && !def.keyset {
        def.offset = true;
        def.keyset = true;
    }
    def
}
