//! `#[domain]`: the list of resources, a value holding their data layers, and (through
//! each resource's companion macro) the code interface of every `define`.
//!
//! The user's struct keeps its attributes and derives; it gets two private fields, the
//! data layers (a tuple, which is `Clone`, `Debug` and `Default` when they are) and the
//! call context, and `Clone` and `Debug` impls unless it derives them. A listed resource is
//! named only through its companion macro, so the domain compiles against a resource in
//! another module or crate, and a listed struct that is no resource is reported once.

use crate::ctxt::Ctxt;
use crate::meta;
use proc_macro2::{Delimiter, TokenStream, TokenTree};
use quote::{quote, quote_spanned};
use std::collections::HashSet;
use syn::spanned::Spanned;
use syn::{Ident, Path};

mod resources;

/// One entry of `#[resources(...)]`.
struct ResourceRef {
    path: Path,
    /// The tokens inside `Address( ... )`: its `define`s.
    defines: TokenStream,
}

pub fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    let cx = Ctxt::new();
    if !args.is_empty() {
        cx.error_spanned_by(
            &args,
            "`#[domain]` takes no options; list resources in `#[resources(...)]`",
        );
    }
    let mut item: syn::ItemStruct = match syn::parse2(item) {
        Ok(i) => i,
        Err(e) => {
            cx.syn_error(syn::Error::new(
                e.span(),
                "`#[domain]` goes on a unit struct: `pub struct Domain;`",
            ));
            return cx.check().err().unwrap_or_default();
        }
    };
    let mut resources = Vec::new();
    let mut kept = Vec::new();
    for attr in std::mem::take(&mut item.attrs) {
        if attr.path().is_ident("resources") {
            match attr.meta.require_list() {
                Ok(list) => resources.extend(parse_resources(&cx, list.tokens.clone())),
                Err(e) => cx.syn_error(e),
            }
        } else {
            kept.push(attr);
        }
    }
    item.attrs = kept;
    check_unit(&cx, &item);
    check_unique_resources(&cx, &mut resources);
    check_unique_defines(&cx, &mut resources);
    let errors = match cx.check() {
        Ok(()) => TokenStream::new(),
        Err(errors) => errors,
    };
    // `#[cfg(..)]` on the struct (written after `#[domain]`) applies to all of it.
    let cfg: Vec<syn::Attribute> = item
        .attrs
        .iter()
        .filter(|a| a.path().is_ident("cfg"))
        .cloned()
        .collect();
    let mut out = crate::resource::with_cfg(&cfg, generate(&item, &resources));
    out.extend(errors);
    out
}

fn parse_resources(cx: &Ctxt, tokens: TokenStream) -> Vec<ResourceRef> {
    let mut out = Vec::new();
    for entry in meta::split_commas(tokens) {
        let entry = match meta::take_docs(entry) {
            Ok((_, rest)) => rest,
            Err(e) => {
                cx.syn_error(e);
                continue;
            }
        };
        let mut toks: Vec<TokenTree> = entry.clone().into_iter().collect();
        let defines = match toks.last() {
            Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Parenthesis => {
                let s = g.stream();
                toks.pop();
                s
            }
            _ => TokenStream::new(),
        };
        match syn::parse2::<Path>(toks.into_iter().collect()) {
            Ok(path) => out.push(ResourceRef { path, defines }),
            Err(_) => cx.error_spanned_by(
                entry,
                "expected a resource, optionally with its code interface: `Address(define(create_address, action = create))`",
            ),
        }
    }
    out
}

/// The domain value holds its tables; a struct with fields of its own would be shadowed.
fn check_unit(cx: &Ctxt, item: &syn::ItemStruct) {
    if !item.fields.is_empty() {
        cx.error_spanned_by(
            &item.fields,
            "a domain struct has no fields of its own: write `pub struct Domain;`",
        );
    }
    if !item.generics.params.is_empty() {
        cx.error_spanned_by(&item.generics, "a domain cannot have generic parameters");
    }
}

/// Each resource has one table per domain value; listing it twice would give two. The
/// repeat is dropped after the error so it causes no second wave of errors.
fn check_unique_resources(cx: &Ctxt, resources: &mut Vec<ResourceRef>) {
    let mut seen: HashSet<String> = HashSet::new();
    resources.retain(|r| {
        let path = &r.path;
        let key = quote!(#path).to_string().replace(' ', "");
        let first = seen.insert(key.clone());
        if !first {
            cx.error_spanned_by(
                path,
                format!("`{key}` is listed twice; list each resource once"),
            );
        }
        first
    });
}

/// Every `define` becomes a method of the domain, so names must be unique across
/// resources. Repeats are dropped after the error.
fn check_unique_defines(cx: &Ctxt, resources: &mut [ResourceRef]) {
    let mut seen: HashSet<String> = HashSet::new();
    for r in resources {
        let mut kept = TokenStream::new();
        for entry in meta::split_commas(r.defines.clone()) {
            if let Some(ident) = define_name(entry.clone()) {
                let name = crate::name::unraw(&ident);
                if !seen.insert(name.clone()) {
                    cx.error_spanned_by(
                        &ident,
                        format!(
                            "duplicate define `{name}`; each define names one method of the domain"
                        ),
                    );
                    continue;
                }
            }
            kept.extend(entry);
            kept.extend(quote!(,));
        }
        r.defines = kept;
    }
}

fn define_name(entry: TokenStream) -> Option<Ident> {
    let Ok(meta::Entry::Call(kw, args)) = meta::parse_entry(entry) else {
        return None;
    };
    if kw != "define" {
        return None;
    }
    let first = meta::split_commas(args).into_iter().next()?;
    meta::name(first).ok()
}

/// The most elements a tuple may have and still implement `Debug` and `Default`.
const TUPLE_MAX: usize = 12;

/// `items` as nested tuples of at most [`TUPLE_MAX`] elements (types or values), so a
/// user's `#[derive(Debug, Default)]` on the domain works for any number of resources.
fn nest(items: &[TokenStream]) -> TokenStream {
    if items.len() <= TUPLE_MAX {
        return quote!(( #( #items, )* ));
    }
    let groups: Vec<TokenStream> = items.chunks(chunk(items.len())).map(nest).collect();
    quote!(( #( #groups, )* ))
}

/// The size of the groups [`nest`] makes of `n > TUPLE_MAX` items.
fn chunk(n: usize) -> usize {
    let mut size = TUPLE_MAX;
    while n.div_ceil(size) > TUPLE_MAX {
        size *= TUPLE_MAX;
    }
    size
}

/// The field path of each of `n` items in [`nest`]'s tuples (`0`, or `1.3`).
fn slots(n: usize) -> Vec<TokenStream> {
    if n <= TUPLE_MAX {
        return (0..n)
            .map(|i| {
                let i = syn::Index::from(i);
                quote!(#i)
            })
            .collect();
    }
    let size = chunk(n);
    let mut out = Vec::new();
    let mut start = 0;
    let mut group = 0;
    while start < n {
        let len = size.min(n - start);
        let g = syn::Index::from(group);
        out.extend(slots(len).into_iter().map(|s| quote!(#g . #s)));
        start += len;
        group += 1;
    }
    out
}

/// Whether the struct's own `#[derive(..)]` lists `name`.
fn derives(item: &syn::ItemStruct, name: &str) -> bool {
    item.attrs.iter().any(|attr| {
        attr.path().is_ident("derive")
            && attr
                .parse_args_with(
                    syn::punctuated::Punctuated::<Path, syn::Token![,]>::parse_terminated,
                )
                .is_ok_and(|paths| {
                    paths
                        .iter()
                        .any(|p| p.segments.last().is_some_and(|s| s.ident == name))
                })
    })
}

fn generate(item: &syn::ItemStruct, resources: &[ResourceRef]) -> TokenStream {
    let krate = quote!(::ash_rs);
    let ident = &item.ident;
    let vis = &item.vis;
    let attrs = &item.attrs;
    let paths: Vec<&Path> = resources.iter().map(|r| &r.path).collect();
    // Every mention of a listed resource goes through its companion macro, spanned at the
    // listed path: a listed plain struct is then one "cannot find macro" error (the same
    // error at the same place is reported once), plus the check below saying what to do.
    let layers: Vec<TokenStream> = paths
        .iter()
        .map(|path| quote_spanned!(path.span()=> #path!(@layer #path)))
        .collect();
    let tables = nest(&layers);
    let slots = slots(paths.len());
    let connects: Vec<TokenStream> = layers
        .iter()
        .map(|layer| quote!(<#layer as #krate::data_layer::Connect<C>>::connect(config).await?))
        .collect();
    let connected = nest(&connects);
    let names: Vec<String> = paths
        .iter()
        .map(|p| quote!(#p).to_string().replace(' ', ""))
        .collect();
    let checks = paths.iter().map(|path| {
        quote_spanned! {path.span()=>
            const _: &str = <#path as #krate::resource::Resource>::NAME;
        }
    });
    let interfaces = resources.iter().zip(&slots).map(|(r, slot)| {
        let path = &r.path;
        let defines = &r.defines;
        quote_spanned! {path.span()=>
            #path! { { #ident } { #path } { #slot } { #defines } }
        }
    });
    let relationship_lists = paths
        .iter()
        .map(|path| quote_spanned!(path.span()=> #path!(@relationships #path)));
    let prepares = paths.iter().zip(&slots).map(|(path, slot)| {
        quote_spanned! {path.span()=>
            #path!(@prepare #path, &mut tables.#slot, all);
        }
    });
    let begins = paths.iter().zip(&slots).map(|(path, slot)| {
        quote_spanned! {path.span()=>
            let tx = #path!(@begin #path, &self.tables.#slot, &self.ctx).await?;
        }
    });
    // The user's own derives win; the domain implements what they leave out (the fields
    // implement `Clone` and `Debug`, and `Default` with data layers that do).
    let clone = (!derives(item, "Clone")).then(|| {
        quote! {
            impl ::std::clone::Clone for #ident {
                #[inline]
                fn clone(&self) -> Self {
                    #ident {
                        tables: ::std::clone::Clone::clone(&self.tables),
                        ctx: ::std::clone::Clone::clone(&self.ctx),
                    }
                }
            }
        }
    });
    let debug = (!derives(item, "Debug")).then(|| {
        quote! {
            impl ::std::fmt::Debug for #ident {
                fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                    f.debug_struct(::std::stringify!(#ident))
                        #( .field(#names, &self.tables.#slots) )*
                        .field("context", &self.ctx)
                        .finish()
                }
            }
        }
    });
    let has_resources = resources::has_resources(&krate, ident, &paths);
    quote! {
        #( #attrs )*
        #vis struct #ident {
            tables: ::std::sync::Arc<#tables>,
            ctx: #krate::context::Context,
        }

        impl #ident {
            /// A fresh domain value with new, empty tables (for data layers that need no
            /// configuration, such as ETS). Clones share the tables.
            #[must_use]
            // The higher-ranked bounds keep `new` compiling for domains whose data layers
            // need a configuration; calling it there is the error.
            pub fn new() -> Self
            where
                #( for<'ash> #layers: ::std::default::Default, )*
            {
                let mut tables: #tables = ::std::default::Default::default();
                Self::__ash_prepare_loads(&mut tables);
                #ident {
                    tables: ::std::sync::Arc::new(tables),
                    ctx: #krate::context::Context::new(),
                }
            }

            /// Prepares each data layer for the loads of the domain's relationships
            /// (ETS: an index by each attribute a load matches on).
            #[doc(hidden)]
            fn __ash_prepare_loads(tables: &mut #tables) {
                let all: &[&'static [#krate::relationship::RelationshipInfo]] = &[ #( #relationship_lists ),* ];
                #( #prepares )*
            }

            /// A domain value whose data layers are built from `config` (for example a
            /// connection pool). Clones share the data layers.
            pub async fn connect<C: ?::std::marker::Sized + ::std::marker::Sync>(config: &C) -> ::std::result::Result<Self, #krate::error::Error>
            where
                #( #layers: #krate::data_layer::Connect<C>, )*
            {
                let mut tables: #tables = #connected;
                Self::__ash_prepare_loads(&mut tables);
                ::std::result::Result::Ok(#ident {
                    tables: ::std::sync::Arc::new(tables),
                    ctx: #krate::context::Context::new(),
                })
            }

            /// This domain value (sharing its data layers) whose calls carry `actor` (Ash's
            /// `actor:` option): `domain.with_actor(&user).create_post(..)`.
            #[must_use]
            pub fn with_actor<T>(&self, actor: &T) -> Self
            where
                T: ::std::any::Any + ::std::clone::Clone + ::std::marker::Send + ::std::marker::Sync,
            {
                self.with_context(self.ctx.clone().with_actor(actor))
            }

            /// This domain value whose calls carry `tenant` (Ash's `tenant:` option).
            #[must_use]
            pub fn with_tenant(&self, tenant: impl ::std::convert::Into<::std::sync::Arc<str>>) -> Self {
                self.with_context(self.ctx.clone().with_tenant(tenant))
            }

            /// This domain value whose calls run inside `transaction` (see
            /// [`begin`](Self::begin)).
            #[must_use]
            pub fn with_transaction(&self, transaction: &#krate::transaction::Transaction) -> Self {
                self.with_context(self.ctx.clone().with_transaction(transaction))
            }

            /// This domain value with another call context (for example the one an
            /// `after_action_async` hook receives, to run actions in its transaction).
            #[must_use]
            pub fn with_context(&self, ctx: #krate::context::Context) -> Self {
                #ident {
                    tables: ::std::clone::Clone::clone(&self.tables),
                    ctx,
                }
            }

            /// The context this value's calls carry.
            pub fn context(&self) -> &#krate::context::Context {
                &self.ctx
            }

            /// Opens a transaction in the first data layer of this domain that has them (a
            /// savepoint inside the transaction this value already carries). Run actions in
            /// it with [`with_transaction`](Self::with_transaction), then `commit` it. With
            /// ETS only, the transaction does nothing: each write stays as it is made.
            pub async fn begin(&self) -> ::std::result::Result<#krate::transaction::Transaction, #krate::error::Error> {
                #(
                    #begins
                    if tx.is_real() {
                        return ::std::result::Result::Ok(tx);
                    }
                )*
                ::std::result::Result::Ok(#krate::transaction::Transaction::none())
            }
        }

        impl #krate::relationship::Tables for #ident {
            fn table_any(
                &self,
                resource: ::std::any::TypeId,
            ) -> ::std::option::Option<&(dyn ::std::any::Any + ::std::marker::Send + ::std::marker::Sync)> {
                #(
                    if resource == ::std::any::TypeId::of::<#paths>() {
                        return ::std::option::Option::Some(&self.tables.#slots);
                    }
                )*
                ::std::option::Option::None
            }

            #[inline]
            fn tables_context(&self) -> &#krate::context::Context {
                &self.ctx
            }
        }

        impl #ident {
            /// Loads a relationship onto records already read (Ash's `Ash.load`), giving
            /// copies with it loaded: `domain.load(&posts, Post::COMMENTS).await?`. One
            /// data-layer operation per level, whatever the number of records.
            pub fn load<'ash, R, L>(
                &'ash self,
                records: &[R],
                load: L,
            ) -> impl ::std::future::Future<Output = ::std::result::Result<::std::vec::Vec<R>, #krate::error::Error>> + ::std::marker::Send + 'ash
            where
                R: #krate::resource::Resource,
                L: #krate::relationship::IntoLoad<R>,
            {
                let load = #krate::relationship::IntoLoad::into_load(load);
                let mut records = records.to_vec();
                async move {
                    #krate::relationship::load_into(self, &mut records, load).await?;
                    ::std::result::Result::Ok(records)
                }
            }

            /// [`load`](Self::load) in place.
            pub fn load_into<'ash, R, L>(
                &'ash self,
                records: &'ash mut [R],
                load: L,
            ) -> impl ::std::future::Future<Output = ::std::result::Result<(), #krate::error::Error>> + ::std::marker::Send + 'ash
            where
                R: #krate::resource::Resource,
                L: #krate::relationship::IntoLoad<R>,
            {
                let load = #krate::relationship::IntoLoad::into_load(load);
                #krate::relationship::load_into(self, records, load)
            }
        }

        impl #krate::domain::Domain for #ident {
            #[inline]
            fn context(&self) -> &#krate::context::Context {
                &self.ctx
            }

            fn with_context(&self, ctx: #krate::context::Context) -> Self {
                #ident::with_context(self, ctx)
            }
        }

        #clone
        #debug
        #has_resources
        #( #checks )*
        #( #interfaces )*
    }
}
