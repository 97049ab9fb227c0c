//! The resource DSL, parsed: a small model that keeps the user's tokens for spans.

use proc_macro2::Span;
use syn::{Expr, Ident, Path, Type};

/// A `#[resource]` struct.
pub struct Resource {
    /// The user's struct, with the DSL's helper attributes removed.
    pub item: syn::ItemStruct,
    pub domain: Option<Path>,
    pub data_layer: Option<DataLayerRef>,
    pub attributes: Vec<Attribute>,
    pub actions: Vec<Action>,
    /// Entries of `#[changes(...)]`, in declaration order.
    pub global_changes: Vec<ChangeRef>,
}

impl Resource {
    pub fn ident(&self) -> &Ident {
        &self.item.ident
    }

    pub fn attribute(&self, name: &Ident) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.ident == *name)
    }

    pub fn action(&self, name: &str) -> Option<&Action> {
        self.actions.iter().find(|a| a.name == name)
    }

    pub fn primary_key(&self) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.primary_key.is_some())
    }
}

/// `data_layer = Path` or `data_layer = Path(key = "value", ...)`.
pub struct DataLayerRef {
    pub path: Path,
    pub options: Vec<(Ident, syn::LitStr)>,
}

/// A field of the struct: an attribute.
pub struct Attribute {
    pub ident: Ident,
    pub ty: Type,
    /// `allow_nil?`: the type is `Option<_>`.
    pub nilable: bool,
    /// `Some(span of the marker)` when the attribute is the primary key.
    pub primary_key: Option<Span>,
    /// `#[uuid_primary_key]`: v4 default, not writable.
    pub uuid_primary_key: bool,
    pub default: Option<Expr>,
    pub writable: bool,
    pub timestamp: Option<Timestamp>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Timestamp {
    Create,
    Update,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ActionKind {
    Create,
    Read,
    Update,
    Destroy,
}

impl ActionKind {
    pub const ALL: [&'static str; 4] = ["create", "read", "update", "destroy"];

    pub fn from_name(name: &str) -> Option<ActionKind> {
        Some(match name {
            "create" => ActionKind::Create,
            "read" => ActionKind::Read,
            "update" => ActionKind::Update,
            "destroy" => ActionKind::Destroy,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            ActionKind::Create => "create",
            ActionKind::Read => "read",
            ActionKind::Update => "update",
            ActionKind::Destroy => "destroy",
        }
    }

    /// Whether actions of this kind take attribute input.
    pub fn accepts_input(self) -> bool {
        matches!(self, ActionKind::Create | ActionKind::Update)
    }
}

/// An action.
pub struct Action {
    pub kind: ActionKind,
    pub name: Ident,
    pub accept: Vec<Ident>,
    pub changes: Vec<ChangeRef>,
    pub primary: Option<bool>,
}

/// A change, in an action or in `#[changes(...)]`.
pub struct ChangeRef {
    pub change: ChangeKind,
    /// `on = [...]` (global changes only).
    pub on: Option<Vec<Ident>>,
    /// `where = ...` conditions.
    pub conditions: Vec<Condition>,
}

pub enum ChangeKind {
    /// `optimistic_lock(attribute)`.
    OptimisticLock { attribute: Ident },
    /// Any expression whose value implements `Change<R>`.
    Custom(Expr),
}

pub enum Condition {
    /// `action_is([a, b])`: decided at compile time.
    ActionIs(Vec<Ident>),
    /// Any expression whose value implements `Validation<R>`: the change runs only if it
    /// passes.
    Validation(Expr),
}
