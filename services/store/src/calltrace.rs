//! What one gRPC call did, gathered while it runs, for its log line: the
//! request id inside the request body (the api layer notes it when it
//! checks a write) and the time spent in write transactions (the store adds
//! it). The call log opens the scope around the call and reads it after;
//! outside a scope (tests, the seed, commands) noting does nothing.

use std::future::Future;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

tokio::task_local! {
    static CALL: std::sync::Arc<CallTrace>;
}

/// The trace of one call.
#[derive(Debug, Default)]
pub struct CallTrace {
    request_id: Mutex<Option<String>>,
    db_micros: AtomicU64,
}

impl CallTrace {
    /// Runs `f` with this trace as the call's, so notes made while it runs
    /// land here.
    pub async fn scope<F: Future>(self: std::sync::Arc<Self>, f: F) -> F::Output {
        CALL.scope(self, f).await
    }

    /// The request id of the body, if the call noted one.
    pub fn request_id(&self) -> Option<String> {
        self.request_id.lock().ok().and_then(|g| g.clone())
    }

    /// Time spent in write transactions (waiting for and running them).
    pub fn db_time(&self) -> Duration {
        Duration::from_micros(self.db_micros.load(Ordering::Relaxed))
    }
}

/// Notes the request id of the body of the current call.
pub fn note_request_id(id: &str) {
    let _ = CALL.try_with(|c| {
        if let Ok(mut g) = c.request_id.lock() {
            *g = Some(id.to_string());
        }
    });
}

/// Adds database time to the current call.
pub fn add_db_time(d: Duration) {
    let micros = u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
    let _ = CALL.try_with(|c| c.db_micros.fetch_add(micros, Ordering::Relaxed));
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[tokio::test]
    async fn notes_land_in_the_scope_of_the_call_and_nowhere_else() {
        note_request_id("outside");
        let t = Arc::new(CallTrace::default());
        t.clone()
            .scope(async {
                note_request_id("r-1");
                add_db_time(Duration::from_millis(3));
                add_db_time(Duration::from_millis(4));
            })
            .await;
        assert_eq!(t.request_id().as_deref(), Some("r-1"));
        assert_eq!(t.db_time(), Duration::from_millis(7));
    }
}
