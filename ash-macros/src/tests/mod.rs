//! The macros without a compiler: parsing and checks through `proc_macro2`, expansion
//! snapshots (prettyplease + insta) a reviewer can read, and a fuzz of the DSL parser.

mod expansion;
mod fuzz;
mod rules;

use proc_macro2::TokenStream;

/// The `compile_error!` messages in an expansion, in order.
pub fn errors(output: &TokenStream) -> Vec<String> {
    let text = output.to_string();
    let mut out = Vec::new();
    let mut rest = text.as_str();
    while let Some(start) = rest.find("compile_error !") {
        rest = &rest[start..];
        let Some(open) = rest.find('"') else { break };
        let after = &rest[open + 1..];
        let mut end = 0;
        let bytes = after.as_bytes();
        while end < bytes.len() {
            if bytes[end] == b'\\' {
                end += 2;
                continue;
            }
            if bytes[end] == b'"' {
                break;
            }
            end += 1;
        }
        out.push(
            after[..end.min(after.len())]
                .replace("\\\"", "\"")
                .replace("\\\\", "\\"),
        );
        rest = &after[end.min(after.len())..];
    }
    out
}

/// Pretty-printed Rust of an expansion.
pub fn pretty(output: TokenStream) -> String {
    match syn::parse2::<syn::File>(output.clone()) {
        Ok(file) => prettyplease::unparse(&file),
        Err(e) => format!("// does not parse as a file: {e}\n{output}"),
    }
}
