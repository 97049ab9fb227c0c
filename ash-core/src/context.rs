//! The call context: what one action call carries besides its input (Ash's `actor:`,
//! `tenant:` and the open transaction).
//!
//! A domain value holds a [`Context`]; `domain.with_actor(&user)` gives a copy of the domain
//! whose calls carry that actor. The pipeline hands the context to changes and validations
//! (through [`Changeset::context`](crate::changeset::Changeset::context)), to hooks and to
//! the data layer, explicitly: nothing lives in a thread-local, so a context survives
//! `.await` on any executor.
//!
//! ```
//! use ash_core::context::Context;
//!
//! #[derive(Clone, Debug, PartialEq)]
//! struct User { id: u32 }
//!
//! let ctx = Context::new().with_actor(&User { id: 7 }).with_tenant("acme");
//! assert_eq!(ctx.actor::<User>(), Some(&User { id: 7 }));
//! assert_eq!(ctx.tenant(), Some("acme"));
//! assert!(ctx.transaction().is_none());
//! ```

use crate::relationship::Tables;
use crate::transaction::Transaction;
use std::any::{Any, TypeId};
use std::fmt;
use std::sync::Arc;

/// Who performs an action: any `Send + Sync` value, shared. Read it back with
/// [`Context::actor`], naming its type.
#[derive(Clone)]
pub struct Actor {
    value: Arc<dyn Any + Send + Sync>,
    type_name: &'static str,
}

impl Actor {
    /// Wraps an actor value.
    pub fn new<T: Any + Send + Sync>(actor: T) -> Self {
        Actor {
            value: Arc::new(actor),
            type_name: std::any::type_name::<T>(),
        }
    }

    /// Wraps an actor that is already shared.
    pub fn from_arc<T: Any + Send + Sync>(actor: Arc<T>) -> Self {
        Actor {
            value: actor,
            type_name: std::any::type_name::<T>(),
        }
    }

    /// The actor, if it is a `T`.
    pub fn downcast_ref<T: Any>(&self) -> Option<&T> {
        self.value.downcast_ref::<T>()
    }

    /// The actor's type name, for messages.
    pub fn type_name(&self) -> &'static str {
        self.type_name
    }
}

impl fmt::Debug for Actor {
    // The actor's contents may be private (a user record): only its type is shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Actor({})", self.type_name)
    }
}

/// A data layer, type-erased (what [`Tables::table_any`] gives).
type AnyLayer = dyn Any + Send + Sync;

/// The data layers of the domain value a call runs through, shared: what a policy filter
/// through a relationship is resolved against on a data layer that does not render
/// relationship filters (ETS). Set by `#[domain]` on the context its values carry.
#[derive(Clone)]
pub struct DomainTables {
    tables: Arc<AnyLayer>,
    lookup: fn(&AnyLayer, TypeId) -> Option<&AnyLayer>,
}

impl DomainTables {
    /// The domain's `tables` and how to find the data layer of a resource (by its
    /// `TypeId`) in them (generated code).
    pub fn new(tables: Arc<AnyLayer>, lookup: fn(&AnyLayer, TypeId) -> Option<&AnyLayer>) -> Self {
        DomainTables { tables, lookup }
    }
}

/// The domain's tables seen with a call's context: relationship filters resolved through
/// them read the related resources with that context.
struct CallTables<'a> {
    tables: &'a DomainTables,
    ctx: &'a Context,
}

impl Tables for CallTables<'_> {
    fn table_any(&self, resource: TypeId) -> Option<&AnyLayer> {
        (self.tables.lookup)(&*self.tables.tables, resource)
    }

    fn tables_context(&self) -> &Context {
        self.ctx
    }
}

/// The context of an action call: actor, tenant and open transaction, each optional, and
/// the data layers of the domain it runs through.
///
/// Cheap to clone (shared pointers). An empty context costs nothing to pass.
#[derive(Clone, Default)]
pub struct Context {
    actor: Option<Actor>,
    tenant: Option<Arc<str>>,
    transaction: Option<Transaction>,
    tables: Option<DomainTables>,
    /// The domain's tables and relationships, for data layers that check foreign keys
    /// themselves (ETS); see [`crate::reference`].
    references: Option<Arc<dyn crate::reference::Links>>,
}

impl fmt::Debug for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Context")
            .field("actor", &self.actor)
            .field("tenant", &self.tenant)
            .field("transaction", &self.transaction)
            .field("references", &self.references.is_some())
            .finish()
    }
}

impl Context {
    /// An empty context: no actor, no tenant, no transaction.
    #[inline]
    pub const fn new() -> Self {
        Context {
            actor: None,
            tenant: None,
            transaction: None,
            tables: None,
            references: None,
        }
    }

    /// This context running through the domain whose data layers are `tables` (set by
    /// `#[domain]` on every context its values carry).
    #[must_use]
    pub fn with_domain_tables(mut self, tables: DomainTables) -> Self {
        self.tables = Some(tables);
        self
    }

    /// The data layers of the domain the call runs through, with this context, if known:
    /// what relationship filters are resolved against on an in-memory data layer.
    pub fn tables(&self) -> Option<impl Tables + '_> {
        let tables = self.tables.as_ref()?;
        Some(CallTables { tables, ctx: self })
    }

    /// This context with `actor` (cloned) as the actor.
    #[must_use]
    pub fn with_actor<T: Any + Clone + Send + Sync>(self, actor: &T) -> Self {
        self.with_actor_value(Actor::new(actor.clone()))
    }

    /// This context with an already wrapped actor.
    #[must_use]
    pub fn with_actor_value(mut self, actor: Actor) -> Self {
        self.actor = Some(actor);
        self
    }

    /// This context without an actor.
    #[must_use]
    pub fn without_actor(mut self) -> Self {
        self.actor = None;
        self
    }

    /// This context with `tenant`.
    #[must_use]
    pub fn with_tenant(mut self, tenant: impl Into<Arc<str>>) -> Self {
        self.tenant = Some(tenant.into());
        self
    }

    /// This context inside `transaction`: every action called with it runs its statements
    /// in that transaction (where the data layer has transactions).
    #[must_use]
    pub fn with_transaction(mut self, transaction: &Transaction) -> Self {
        self.transaction = Some(transaction.clone());
        self
    }

    /// This context outside any transaction.
    #[must_use]
    pub fn without_transaction(mut self) -> Self {
        self.transaction = None;
        self
    }

    /// The actor, if there is one and it is a `T`.
    #[inline]
    pub fn actor<T: Any>(&self) -> Option<&T> {
        self.actor.as_ref()?.downcast_ref()
    }

    /// The actor, whatever its type.
    #[inline]
    pub fn actor_value(&self) -> Option<&Actor> {
        self.actor.as_ref()
    }

    /// Whether an actor is set.
    #[inline]
    pub fn has_actor(&self) -> bool {
        self.actor.is_some()
    }

    /// The tenant, if one is set.
    #[inline]
    pub fn tenant(&self) -> Option<&str> {
        self.tenant.as_deref()
    }

    /// The open transaction, if any.
    #[inline]
    pub fn transaction(&self) -> Option<&Transaction> {
        self.transaction.as_ref()
    }

    /// This context carrying the domain's [`Links`](crate::reference::Links): what
    /// `ash_rs::api` gives the data layer of a write that involves a belongs_to, so that a
    /// layer without foreign keys (ETS) can check and apply them.
    #[must_use]
    pub fn with_references(mut self, links: Arc<dyn crate::reference::Links>) -> Self {
        self.references = Some(links);
        self
    }

    /// This context without the domain's links (the inner writes of a referential action).
    #[must_use]
    pub fn without_references(mut self) -> Self {
        self.references = None;
        self
    }

    /// The domain's links, when the call came through a domain and involves a belongs_to.
    #[inline]
    pub fn references(&self) -> Option<&dyn crate::reference::Links> {
        self.references.as_deref()
    }
}
