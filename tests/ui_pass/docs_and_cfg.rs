// Doc comments inside the DSL document the generated items; `#[cfg]` on a resource or a
// domain applies to everything generated for it.
#![deny(missing_docs)]
//! A crate with documented items only.

use ash_rs::prelude::*;

/// A document.
#[resource(domain = Library)]
#[actions(
    /// Lists documents.
    defaults(read),
    /// Writes a document.
    create(create, accept = [title]),
    /// Retitles a document.
    update(retitle, accept = [title]),
)]
#[changes(
    /// Every retitled document is a draft again.
    set_attribute(draft, true, on = [update]),
)]
#[derive(Debug, Clone, PartialEq)]
pub struct Doc {
    /// Its key.
    #[uuid_primary_key]
    pub id: Uuid,
    /// Its title.
    pub title: String,
    /// Whether it is a draft.
    #[attribute(default = true)]
    pub draft: bool,
}

/// Never compiled (`#[cfg]` after `#[resource]`: the macro puts it on what it generates).
#[resource(domain = Library)]
#[cfg(any())]
#[actions(defaults(read))]
#[derive(Debug, Clone, PartialEq)]
pub struct Gone {
    /// Its key.
    #[uuid_primary_key]
    pub id: Uuid,
}

/// The library.
#[domain]
#[cfg(all())]
#[resources(
    /// Documents.
    Doc(
        /// Writes a document titled `title`.
        define(write, action = create, args = [title]),
    ),
)]
pub struct Library;

fn main() {
    let doc = ash_rs::block_on(Library::new().write("hi")).unwrap();
    assert_eq!(doc.title, "hi");
}

/// A domain that is compiled out, with all its code.
#[domain]
#[cfg(any())]
#[resources(Doc(define(write_too, action = create, args = [title])))]
pub struct Gone;
