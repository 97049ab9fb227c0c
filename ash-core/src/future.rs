//! Futures: the boxed future of hooks and transactions, and [`block_on`] for sync callers.

use std::future::Future;
use std::pin::{pin, Pin};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};

/// A boxed, `Send` future: what hooks and transaction drivers return.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Runs a future to completion on the calling thread, with no runtime: the one-line way in
/// for sync code (a CLI, a script, a plain `#[test]`) on the ETS data layer, whose futures
/// complete without ever suspending.
///
/// ```
/// let answer = ash_core::future::block_on(async { 40 + 2 });
/// assert_eq!(answer, 42);
/// ```
///
/// A future that does suspend parks the thread until it is woken, so `block_on` also works
/// for futures that need no reactor. It does not drive a tokio reactor: PostgreSQL calls
/// need a tokio runtime (`runtime.block_on(...)` from sync code). Do not call it inside an
/// async task: it blocks the executor's thread.
// Always: the output is moved out by value, and a call would copy it once more.
#[inline(always)]
pub fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    // A future that is ready at once (every ETS call) needs no waker that works. One that
    // suspends is polled again below with one that does: a future registers the waker of
    // its latest poll, so nothing is missed.
    if let Poll::Ready(output) = future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        return output;
    }
    park_until_ready(future)
}

#[cold]
fn park_until_ready<F: Future>(mut future: Pin<&mut F>) -> F::Output {
    THREAD_WAKER.with(|waker| {
        let mut cx = Context::from_waker(waker);
        loop {
            if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
                return output;
            }
            thread::park();
        }
    })
}

struct ThreadWaker(Thread);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

thread_local! {
    // One waker per thread, made once: a call that completes at once allocates nothing.
    // (Executor plumbing only; no action state lives here.)
    static THREAD_WAKER: Waker = Waker::from(Arc::new(ThreadWaker(thread::current())));
}

#[cfg(test)]
mod tests {
    use super::block_on;
    use std::time::Duration;

    #[test]
    fn waits_for_a_future_woken_from_another_thread() {
        let (tx, rx) = std::sync::mpsc::channel::<std::task::Waker>();
        let mut sent = false;
        let handle = std::thread::spawn(move || {
            let waker = rx.recv().expect("waker");
            std::thread::sleep(Duration::from_millis(20));
            waker.wake();
        });
        let mut tx = Some(tx);
        let value = block_on(std::future::poll_fn(|cx| {
            if sent {
                std::task::Poll::Ready(7)
            } else {
                sent = true;
                if let Some(tx) = tx.take() {
                    tx.send(cx.waker().clone()).expect("send");
                }
                std::task::Poll::Pending
            }
        }));
        assert_eq!(value, 7);
        handle.join().expect("join");
    }
}
