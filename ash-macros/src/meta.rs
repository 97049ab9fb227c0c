//! The shape every DSL list shares: comma-separated entries, each a flag (`read`), a
//! key-value (`accept = [a, b]`) or a call (`update(update, accept = [..])`).
//!
//! Entries are split first and parsed one by one, so one malformed entry is one error and
//! the others are still checked.

use proc_macro2::{Delimiter, Span, TokenStream, TokenTree};
use syn::parse::{Parse, ParseStream, Parser};
use syn::{Ident, Token};

/// One entry of a DSL list.
pub enum Entry {
    /// `name`
    Flag(Ident),
    /// `name = value`
    KeyValue(Ident, TokenStream),
    /// `name(args)`
    Call(Ident, TokenStream),
}

impl Entry {
    pub fn name(&self) -> &Ident {
        match self {
            Entry::Flag(i) | Entry::KeyValue(i, _) | Entry::Call(i, _) => i,
        }
    }
}

/// Splits `tokens` at top-level commas; empty entries (trailing commas) are dropped.
pub fn split_commas(tokens: TokenStream) -> Vec<TokenStream> {
    let mut entries = Vec::new();
    let mut current = TokenStream::new();
    for tt in tokens {
        match &tt {
            TokenTree::Punct(p) if p.as_char() == ',' => {
                if !current.is_empty() {
                    entries.push(std::mem::take(&mut current));
                }
            }
            _ => current.extend([tt]),
        }
    }
    if !current.is_empty() {
        entries.push(current);
    }
    entries
}

/// Parses one entry.
pub fn parse_entry(tokens: TokenStream) -> syn::Result<Entry> {
    (|input: ParseStream| {
        let name = input.call(Ident::parse_any_keyword)?;
        if input.is_empty() {
            return Ok(Entry::Flag(name));
        }
        if input.peek(Token![=]) && !input.peek(Token![==]) {
            input.parse::<Token![=]>()?;
            let value: TokenStream = input.parse()?;
            if value.is_empty() {
                return Err(syn::Error::new(
                    name.span(),
                    format!("`{name} =` needs a value"),
                ));
            }
            return Ok(Entry::KeyValue(name, value));
        }
        if input.peek(syn::token::Paren) {
            let content;
            syn::parenthesized!(content in input);
            let args: TokenStream = content.parse()?;
            if !input.is_empty() {
                return Err(input.error("unexpected tokens after `)`; separate entries with `,`"));
            }
            return Ok(Entry::Call(name, args));
        }
        Err(input.error(format!("expected `,`, `= value` or `(...)` after `{name}`")))
    })
    .parse2(tokens)
}

/// Parses every entry of a list, reporting malformed ones to `cx`.
pub fn parse_entries(cx: &crate::ctxt::Ctxt, tokens: TokenStream) -> Vec<Entry> {
    split_commas(tokens)
        .into_iter()
        .filter_map(|t| match parse_entry(t) {
            Ok(e) => Some(e),
            Err(e) => {
                cx.syn_error(e);
                None
            }
        })
        .collect()
}

/// `[a, b, c]` or a single `a`: a list of identifiers.
pub fn parse_ident_list(value: TokenStream) -> syn::Result<Vec<Ident>> {
    let mut iter = value.clone().into_iter();
    match (iter.next(), iter.next()) {
        (Some(TokenTree::Group(g)), None) if g.delimiter() == Delimiter::Bracket => {
            let parser = syn::punctuated::Punctuated::<Ident, Token![,]>::parse_terminated;
            Ok(parser.parse2(g.stream())?.into_iter().collect())
        }
        (Some(TokenTree::Ident(i)), None) => Ok(vec![i]),
        _ => Err(syn::Error::new_spanned(
            value,
            "expected a list of names, like `[state, county]`",
        )),
    }
}

/// `true` or `false`.
pub fn parse_bool(value: TokenStream) -> syn::Result<bool> {
    match syn::parse2::<syn::LitBool>(value.clone()) {
        Ok(lit) => Ok(lit.value),
        Err(_) => Err(syn::Error::new_spanned(value, "expected `true` or `false`")),
    }
}

/// Reads the identifier of a keyword too (`where`, `in`), for DSL keys.
trait ParseAnyKeyword {
    fn parse_any_keyword(input: ParseStream) -> syn::Result<Ident>;
}

impl ParseAnyKeyword for Ident {
    fn parse_any_keyword(input: ParseStream) -> syn::Result<Ident> {
        use syn::ext::IdentExt;
        Ident::parse_any(input)
    }
}

/// The span of a token stream's first token, or the call site.
pub fn first_span(tokens: &TokenStream) -> Span {
    tokens
        .clone()
        .into_iter()
        .next()
        .map(|t| t.span())
        .unwrap_or_else(Span::call_site)
}

/// Parses anything `Parse` from a token stream.
pub fn parse<T: Parse>(tokens: TokenStream) -> syn::Result<T> {
    syn::parse2(tokens)
}
