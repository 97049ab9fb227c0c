//! The resource DSL, parsed: a small model that keeps the user's tokens for spans.

use proc_macro2::Span;
use syn::{Expr, Ident, Path, Type};

/// A `#[resource]` struct.
pub struct Resource {
    /// The user's struct, with the DSL's helper attributes removed.
    pub item: syn::ItemStruct,
    /// Whether the struct derives `Clone` itself; if not, the macro derives it (every
    /// resource is cloned in and out of its data layer).
    pub derives_clone: bool,
    /// The struct's `#[cfg(..)]` attributes, repeated on every generated item.
    pub cfg: Vec<syn::Attribute>,
    pub domain: Option<Path>,
    pub data_layer: Option<DataLayerRef>,
    pub attributes: Vec<Attribute>,
    pub actions: Vec<Action>,
    /// Entries of `#[changes(...)]`, in declaration order.
    pub global_changes: Vec<ChangeRef>,
    /// Entries of `#[validations(...)]`, in declaration order.
    pub global_validations: Vec<ValidateRef>,
    /// Entries of `#[identities(...)]`, in declaration order.
    pub identities: Vec<IdentityDef>,
    /// Entries of `#[relationships(...)]`, in declaration order.
    pub relationships: Vec<RelationshipDef>,
    /// `#[policies(...)]`, if any.
    pub policies: Option<super::policies::PoliciesDef>,
    /// Entries of `#[aggregates(...)]`, in declaration order.
    pub aggregates: Vec<super::aggregates::AggregateDef>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum RelKind {
    BelongsTo,
    HasOne,
    HasMany,
    ManyToMany,
}

impl RelKind {
    pub fn from_name(name: &str) -> Option<RelKind> {
        Some(match name {
            "belongs_to" => RelKind::BelongsTo,
            "has_one" => RelKind::HasOne,
            "has_many" => RelKind::HasMany,
            "many_to_many" => RelKind::ManyToMany,
            _ => return None,
        })
    }
    pub fn to_one(self) -> bool {
        matches!(self, RelKind::BelongsTo | RelKind::HasOne)
    }
}

/// `has_many(comments, Comment, destination_attribute = post_id)` and the like.
pub struct RelationshipDef {
    pub kind: RelKind,
    pub name: Ident,
    pub name_str: String,
    /// Its typed handle, `Post::COMMENTS`.
    pub konst: Ident,
    pub destination: Path,
    /// Resolved (defaults applied).
    pub source_attribute: Ident,
    pub destination_attribute: Ident,
    pub through: Option<Path>,
    pub source_on_join: Ident,
    pub destination_on_join: Ident,
    pub allow_nil: bool,
    /// `restrict`, `cascade` or `nilify`.
    pub on_delete: Ident,
    /// `filter = <Filter<Destination>>`: limits the related records every load, `exists`
    /// and path sees.
    pub filter: Option<syn::Expr>,
    /// `sort = [Destination::FIELD.desc(), ...]`: a load's order when its query gives none.
    pub sort: Option<syn::ExprArray>,
    /// `writable = false` (belongs_to): its foreign key attribute is not writable, so no
    /// action may accept it.
    pub writable: Option<syn::LitBool>,
}

/// `identity(name, [fields], nils_distinct = false, message = "...")`.
pub struct IdentityDef {
    pub name: Ident,
    /// Its name without `r#`.
    pub name_str: String,
    /// Its typed handle, `User::UNIQUE_EMAIL`.
    pub konst: Ident,
    /// Its variant in the `IdentityKey` enum.
    pub variant: Ident,
    pub fields: Vec<Ident>,
    pub nils_distinct: bool,
    pub message: Option<syn::LitStr>,
}

impl Resource {
    pub fn ident(&self) -> &Ident {
        &self.item.ident
    }

    /// The attribute called `name` (`type` and `r#type` are one name).
    pub fn attribute(&self, name: &Ident) -> Option<&Attribute> {
        let name = crate::name::unraw(name);
        self.attributes.iter().find(|a| a.name == name)
    }

    /// The action called `name` (without `r#`).
    pub fn action(&self, name: &str) -> Option<&Action> {
        let name = name.strip_prefix("r#").unwrap_or(name);
        self.actions.iter().find(|a| a.name_str == name)
    }

    /// The identity called `name` (without `r#`).
    pub fn identity(&self, name: &Ident) -> Option<&IdentityDef> {
        let name = crate::name::unraw(name);
        self.identities.iter().find(|i| i.name_str == name)
    }

    /// The relationship called `name` (without `r#`).
    pub fn relationship(&self, name: &Ident) -> Option<&RelationshipDef> {
        let name = crate::name::unraw(name);
        self.relationships.iter().find(|r| r.name_str == name)
    }

    pub fn primary_key(&self) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.primary_key.is_some())
    }

    /// What `name` refers to in `action` (an argument first, then an attribute), or among
    /// the attributes only for global entries.
    pub fn resolve<'r>(&'r self, action: Option<&'r Action>, name: &Ident) -> Option<Target<'r>> {
        if let Some(argument) = action.and_then(|a| a.argument(name)) {
            return Some(Target::Argument(argument));
        }
        self.attribute(name).map(Target::Attribute)
    }

    /// The names `resolve` knows, for "did you mean".
    pub fn known_names(&self, action: Option<&Action>) -> Vec<String> {
        let mut names: Vec<String> = self.attributes.iter().map(|a| a.name.clone()).collect();
        if let Some(action) = action {
            names.extend(action.arguments.iter().map(|a| a.name.clone()));
        }
        names
    }
}

/// An attribute or an argument, as a builtin names it.
#[derive(Clone, Copy)]
pub enum Target<'r> {
    Attribute(&'r Attribute),
    Argument(&'r Argument),
}

impl Target<'_> {
    pub fn ty(&self) -> &Type {
        match self {
            Target::Attribute(a) => &a.ty,
            Target::Argument(a) => &a.ty,
        }
    }
}

/// `data_layer = Path` or `data_layer = Path(key = "value", ...)`.
pub struct DataLayerRef {
    pub path: Path,
    pub options: Vec<(Ident, syn::LitStr)>,
}

/// A field of the struct: an attribute.
pub struct Attribute {
    /// The field, in canonical form (`r#type`).
    pub ident: Ident,
    /// Its name without `r#` (`type`): in errors, JSON and SQL.
    pub name: String,
    /// Its variant in the `Field` and `Value` enums (`Type`).
    pub variant: Ident,
    /// Its typed handle, `Address::TYPE`.
    pub konst: Ident,
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
    /// The action's name, in canonical form.
    pub name: Ident,
    /// Its name without `r#`.
    pub name_str: String,
    /// Its input type, `AddressUpdateInput`.
    pub input: Ident,
    /// Doc comments written before the action, for its input type.
    pub docs: Vec<syn::Attribute>,
    pub accept: Vec<Ident>,
    pub arguments: Vec<Argument>,
    /// `change = ...` and `validate = ...`, in declaration order.
    pub entries: Vec<Entry>,
    pub primary: Option<bool>,
    /// Read actions: `filter = <expr>` (a `Filter<R>`).
    pub filter: Option<Expr>,
    /// Read actions: `get = true`, at most one record.
    pub get: bool,
    /// Read actions: `pagination(...)`.
    pub pagination: Option<PaginationDef>,
    /// Create actions: `upsert = true`, `upsert_identity = ..`, `upsert_fields = [..]`,
    /// `upsert_condition = <Filter>`.
    pub upsert: UpsertDef,
}

/// A create action's upsert options.
#[derive(Default)]
pub struct UpsertDef {
    pub upsert: bool,
    pub identity: Option<Ident>,
    pub fields: Option<Vec<Ident>>,
    pub condition: Option<Expr>,
}

/// `pagination(offset = true, keyset = true, default_limit = 20, max_page_size = 100, countable = true)`.
#[derive(Default)]
pub struct PaginationDef {
    pub offset: bool,
    pub keyset: bool,
    pub default_limit: Option<syn::LitInt>,
    pub max_page_size: Option<syn::LitInt>,
    pub countable: bool,
}

impl Action {
    pub fn argument(&self, name: &Ident) -> Option<&Argument> {
        let name = crate::name::unraw(name);
        self.arguments.iter().find(|a| a.name == name)
    }

    /// The action's inputs, in order: the accepted attributes, then the arguments, each
    /// with its field, name and type.
    pub fn inputs<'r>(&'r self, res: &'r Resource) -> Vec<(&'r Ident, &'r str, &'r Type)> {
        self.accept
            .iter()
            .filter_map(|n| res.attribute(n))
            .map(|a| (&a.ident, a.name.as_str(), &a.ty))
            .chain(
                self.arguments
                    .iter()
                    .map(|a| (&a.ident, a.name.as_str(), &a.ty)),
            )
            .collect()
    }

    /// Whether the action accepts the attribute `name`.
    pub fn accepts(&self, name: &Ident) -> bool {
        let name = crate::name::unraw(name);
        self.accept.iter().any(|a| crate::name::unraw(a) == name)
    }

    pub fn changes(&self) -> impl Iterator<Item = &ChangeRef> {
        self.entries.iter().filter_map(|e| match e {
            Entry::Change(c) => Some(c),
            Entry::Validate(_) => None,
        })
    }
}

/// `argument(name: Type, allow_nil = .., default = ..)`.
pub struct Argument {
    pub ident: Ident,
    /// Its name without `r#`.
    pub name: String,
    pub ty: Type,
    pub allow_nil: bool,
    pub default: Option<Expr>,
}

pub enum Entry {
    Change(ChangeRef),
    Validate(ValidateRef),
}

/// Options every change and validation takes.
#[derive(Default)]
pub struct EntryOptions {
    /// `on = [...]` (global entries only).
    pub on: Option<Vec<Ident>>,
    /// `where = ...` conditions.
    pub conditions: Vec<Condition>,
    /// `only_when_valid = true`: skipped when the changeset already has errors.
    pub only_when_valid: bool,
    /// `message = "..."`: replaces a validation's message.
    pub message: Option<syn::LitStr>,
}

/// A change, in an action or in `#[changes(...)]`.
pub struct ChangeRef {
    pub change: ChangeKind,
    pub options: EntryOptions,
}

pub enum ChangeKind {
    /// `optimistic_lock(attribute)`.
    OptimisticLock { attribute: Ident },
    /// `set_attribute(attribute, value)`.
    SetAttribute { attribute: Ident, value: ValueRef },
    /// `set_new_attribute(attribute, value)`: only when not already changing.
    SetNewAttribute { attribute: Ident, value: ValueRef },
    /// `increment(attribute)` or `increment(attribute, amount = n)`: atomic.
    Increment { attribute: Ident, amount: Expr },
    /// `prevent_change(attribute)`.
    PreventChange { attribute: Ident },
    /// `manage_relationship(argument, relationship, type = .., on_* = ..)`.
    ManageRelationship(Box<super::manage::ManageDef>),
    /// Any expression whose value implements `Change<R>`.
    Custom(Expr),
}

/// A value in a builtin: `arg(name)` or a Rust expression.
pub enum ValueRef {
    Arg(Ident),
    Expr(Expr),
}

/// A validation, in an action or in `#[validations(...)]`.
pub struct ValidateRef {
    pub validation: ValidationKind,
    pub options: EntryOptions,
}

pub enum ValidationKind {
    Present(Vec<Ident>),
    Absent(Vec<Ident>),
    /// `compare(field, greater_than = x, ...)`: one bound per entry.
    Compare {
        field: Ident,
        bounds: Vec<(Ident, Expr)>,
    },
    OneOf {
        field: Ident,
        values: Expr,
    },
    StringLength {
        field: Ident,
        min: Option<Expr>,
        max: Option<Expr>,
        exact: Option<Expr>,
    },
    Match {
        field: Ident,
        pattern: syn::LitStr,
    },
    AttributeEquals {
        field: Ident,
        value: Expr,
    },
    Changing(Ident),
    Confirm {
        field: Ident,
        confirmation: Ident,
    },
    /// Any expression whose value implements `Validation<R>`.
    Custom(Expr),
}

pub enum Condition {
    /// `action_is([a, b])`: decided at compile time.
    ActionIs(Vec<Ident>),
    /// A validation: the change runs only if it passes.
    Validation(ValidationKind),
}
