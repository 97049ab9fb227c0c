//! Transactions as explicit handles.
//!
//! A [`Transaction`] is a value: the pipeline opens one around an action that has hooks,
//! puts it in the [`Context`](crate::context::Context) it hands the hooks and the data
//! layer, and commits or rolls it back at the end. Your code can do the same around
//! several actions:
//!
//! ```ignore
//! let tx = domain.begin().await?;
//! let d = domain.with_transaction(&tx);
//! let post = d.create_post("hello").await?;
//! d.create_comment(post.id, "first").await?;
//! tx.commit().await?;
//! ```
//!
//! A data layer without transactions (ETS) hands out a transaction that does nothing:
//! `commit` and `rollback` succeed, and each write inside stays as it was made.
//!
//! A transaction dropped without `commit` or `rollback` (an error path, a cancelled
//! future) is rolled back by its data layer.

use crate::error::{Error, ErrorKind, FrameworkError};
use crate::future::BoxFuture;
use std::any::Any;
use std::fmt;
use std::sync::Arc;

/// What a data layer implements to give out transactions.
pub trait TransactionDriver: Any + Send + Sync {
    /// Makes the transaction's writes permanent.
    fn commit(&self) -> BoxFuture<'_, Result<(), ErrorKind>>;
    /// Undoes the transaction's writes.
    fn rollback(&self) -> BoxFuture<'_, Result<(), ErrorKind>>;
    /// The driver, for the data layer to recognise its own transactions.
    fn as_any(&self) -> &dyn Any;
    /// A short description, for `Debug` (never a connection string).
    fn describe(&self) -> String;
}

/// An open transaction, or the no-op transaction of a data layer without them. Clones
/// refer to the same transaction.
#[derive(Clone, Default)]
pub struct Transaction {
    driver: Option<Arc<dyn TransactionDriver>>,
}

impl fmt::Debug for Transaction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.driver {
            Some(driver) => write!(f, "Transaction({})", driver.describe()),
            None => f.write_str("Transaction(none)"),
        }
    }
}

impl Transaction {
    /// The transaction of a data layer without transactions: commit and rollback do
    /// nothing.
    pub const fn none() -> Self {
        Transaction { driver: None }
    }

    /// A transaction run by `driver`.
    pub fn new<D: TransactionDriver>(driver: D) -> Self {
        Transaction {
            driver: Some(Arc::new(driver)),
        }
    }

    /// Whether this is a real transaction (not the no-op one).
    pub fn is_real(&self) -> bool {
        self.driver.is_some()
    }

    /// The driver, if it is a `D`: how a data layer finds its own open transaction in a
    /// context.
    pub fn driver<D: TransactionDriver>(&self) -> Option<&D> {
        self.driver.as_ref()?.as_any().downcast_ref::<D>()
    }

    /// Commits the transaction.
    pub async fn commit(&self) -> Result<(), Error> {
        match &self.driver {
            Some(driver) => driver.commit().await.map_err(Error::from),
            None => Ok(()),
        }
    }

    /// Rolls the transaction back.
    pub async fn rollback(&self) -> Result<(), Error> {
        match &self.driver {
            Some(driver) => driver.rollback().await.map_err(Error::from),
            None => Ok(()),
        }
    }

    /// Commits when `result` is `Ok`, rolls back otherwise, and returns `result` (or the
    /// commit's error). The end of every transaction the pipeline opens.
    pub async fn finish<T>(&self, result: Result<T, Error>) -> Result<T, Error> {
        match result {
            Ok(value) => {
                self.commit().await?;
                Ok(value)
            }
            Err(error) => {
                // The action's error is the one to report; a failed rollback leaves the
                // connection to be discarded by its data layer.
                let _ = self.rollback().await;
                Err(error)
            }
        }
    }
}

/// The error a data layer gives for a statement on a transaction that has ended.
pub fn finished_error() -> ErrorKind {
    ErrorKind::Framework(FrameworkError {
        message: "the transaction has already been committed or rolled back".into(),
    })
}
