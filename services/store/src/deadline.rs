//! The deadline of the call a write belongs to, carried beside the call's
//! future (a task-local) so the write path need not take it as an argument:
//! a write whose deadline passed while it waited for the writer is not begun.

use std::future::Future;
use std::time::Instant;

tokio::task_local! {
    static DEADLINE: Instant;
}

/// Runs `fut` with `deadline` as the deadline of every write it makes.
pub async fn within<F: Future>(deadline: Instant, fut: F) -> F::Output {
    DEADLINE.scope(deadline, fut).await
}

/// Whether the current call's deadline, if it has one, has passed.
pub(crate) fn passed() -> bool {
    DEADLINE.try_with(|d| Instant::now() >= *d).unwrap_or(false)
}
