//! [`ActionFuture`]: what the hot actions return.

use crate::future::BoxFuture;
use std::fmt;
use std::future::Future;
use std::mem::ManuallyDrop;
use std::pin::Pin;
use std::task::{Context, Poll};

/// The future of an action: ready at once when the action already ran to its end (a data
/// layer that never waits, no hooks), otherwise the running pipeline, boxed (its state
/// then lives on the heap, where a server round trip dwarfs the allocation).
#[must_use = "an action does nothing unless its future is awaited"]
pub struct ActionFuture<'a, T> {
    // Dropped by hand (see `Drop`): a future whose output was taken then costs one inlined
    // compare instead of a call to the whole drop glue.
    inner: ManuallyDrop<Inner<'a, T>>,
}

enum Inner<'a, T> {
    Done(Option<T>),
    Running(BoxFuture<'a, T>),
}

impl<'a, T> ActionFuture<'a, T> {
    /// A future that is ready with `value`.
    #[inline(always)]
    pub fn ready(value: T) -> Self {
        ActionFuture {
            inner: ManuallyDrop::new(Inner::Done(Some(value))),
        }
    }

    /// A future running `future`.
    #[inline]
    pub fn running(future: impl Future<Output = T> + Send + 'a) -> Self {
        ActionFuture {
            inner: ManuallyDrop::new(Inner::Running(Box::pin(future))),
        }
    }

    /// The state, taken out (leaving a spent future).
    #[inline(always)]
    fn take(mut self) -> Inner<'a, T> {
        ManuallyDrop::into_inner(std::mem::replace(
            &mut self.inner,
            ManuallyDrop::new(Inner::Done(None)),
        ))
    }

    /// A future giving `f` of this one's output (on a ready one, `f` runs now).
    pub fn map<U>(self, f: impl FnOnce(T) -> U + Send + 'a) -> ActionFuture<'a, U>
    where
        T: Send + 'a,
    {
        match self.take() {
            Inner::Done(Some(value)) => ActionFuture::ready(f(value)),
            Inner::Done(None) => ActionFuture {
                inner: ManuallyDrop::new(Inner::Done(None)),
            },
            Inner::Running(future) => ActionFuture::running(async move { f(future.await) }),
        }
    }

    /// The output, when the action already ran to its end.
    #[inline(always)]
    pub fn into_ready(self) -> Option<T> {
        match self.take() {
            Inner::Done(value) => value,
            Inner::Running(_) => None,
        }
    }

    /// Whether the action already ran to its end.
    pub fn is_ready(&self) -> bool {
        matches!(*self.inner, Inner::Done(_))
    }
}

impl<'a, X> ActionFuture<'a, Result<X, crate::error::Error>> {
    /// The future of `future`, an action whose every data-layer call completes at once
    /// when `immediate` (it is then run to its end here, in one poll), else boxed.
    /// A future that suspends although `immediate` is a data-layer bug: `deferred` is the
    /// error then.
    #[inline]
    pub(crate) fn settle(
        future: impl Future<Output = Result<X, crate::error::Error>> + Send + 'a,
        immediate: bool,
        deferred: fn() -> crate::error::Error,
    ) -> Self {
        if !immediate {
            return ActionFuture::running(future);
        }
        let mut future = std::pin::pin!(future);
        let mut cx = Context::from_waker(std::task::Waker::noop());
        match future.as_mut().poll(&mut cx) {
            Poll::Ready(value) => ActionFuture::ready(value),
            Poll::Pending => ActionFuture::ready(Err(deferred())),
        }
    }
}

impl<T> Drop for ActionFuture<'_, T> {
    // Inlined: a future whose output was taken (every awaited one) owns nothing, and the
    // compiler usually sees that and drops nothing at all.
    #[inline(always)]
    fn drop(&mut self) {
        if !matches!(*self.inner, Inner::Done(None)) {
            drop_state(&mut self.inner);
        }
    }
}

/// Drops a future's state: its output never taken, or its pipeline still running.
#[inline(never)]
fn drop_state<T>(inner: &mut ManuallyDrop<Inner<'_, T>>) {
    drop(ManuallyDrop::into_inner(std::mem::replace(
        inner,
        ManuallyDrop::new(Inner::Done(None)),
    )));
}

// Nothing inside is pinned in place: the value is moved out, the running future is boxed.
impl<T> Unpin for ActionFuture<'_, T> {}

impl<T> Future for ActionFuture<'_, T> {
    type Output = T;

    #[inline(always)]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        match &mut *self.get_mut().inner {
            Inner::Done(value) => match value.take() {
                Some(value) => Poll::Ready(value),
                // Polled again after completion: a caller bug; never ready again.
                None => Poll::Pending,
            },
            Inner::Running(future) => future.as_mut().poll(cx),
        }
    }
}

impl<T> fmt::Debug for ActionFuture<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match *self.inner {
            Inner::Done(Some(_)) => "ActionFuture(ready)",
            Inner::Done(None) => "ActionFuture(taken)",
            Inner::Running(_) => "ActionFuture(running)",
        })
    }
}
