//! Overload protection: a bound on the calls in progress, per-call
//! deadlines, and the answer to an oversized message.
//!
//! - A call beyond `--max-concurrent-calls` is answered RESOURCE_EXHAUSTED at
//!   once instead of queueing: a queue only makes every caller wait longer,
//!   while a refusal tells the client to back off and keeps the latency of
//!   the admitted calls. Health checks and reflection are never refused.
//! - A call whose `grpc-timeout` has already passed when it arrives is not
//!   started (DEADLINE_EXCEEDED); the deadline is handed to the store, which
//!   does not begin a write whose deadline passed while it waited.
//! - tonic refuses a request message above its decoding limit (4 MiB) with
//!   OUT_OF_RANGE; gRPC's own convention for that is RESOURCE_EXHAUSTED, so
//!   the layer answers that. No service of ours answers OUT_OF_RANGE.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;
use tonic::body::Body;
use tonic::codegen::http;

/// The largest request message a service decodes (tonic's default).
pub const MAX_REQUEST_BYTES: usize = 4 * 1024 * 1024;

/// The tower layer bounding calls in progress to `limit`.
#[derive(Clone, Debug)]
pub struct OverloadLayer {
    permits: Arc<Semaphore>,
    limit: usize,
}

impl OverloadLayer {
    /// A layer admitting at most `limit` calls at a time (at least one).
    pub fn new(limit: usize) -> Self {
        let limit = limit.clamp(1, Semaphore::MAX_PERMITS);
        Self {
            permits: Arc::new(Semaphore::new(limit)),
            limit,
        }
    }
}

impl<S> tower::Layer<S> for OverloadLayer {
    type Service = Overload<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Overload {
            inner,
            permits: self.permits.clone(),
            limit: self.limit,
        }
    }
}

/// The service the layer makes.
#[derive(Clone, Debug)]
pub struct Overload<S> {
    inner: S,
    permits: Arc<Semaphore>,
    limit: usize,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S, B> tower::Service<http::Request<B>> for Overload<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<Body>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        let arrived = Instant::now();
        let path = req.uri().path();
        let exempt = path.starts_with("/grpc.health.") || path.starts_with("/grpc.reflection.");
        let deadline = grpc_timeout(req.headers()).map(|t| arrived + t);
        if deadline.is_some_and(|d| Instant::now() >= d) {
            return refuse(tonic::Status::deadline_exceeded(
                "the call's deadline (grpc-timeout) passed before it could start",
            ));
        }
        let permit = if exempt {
            None
        } else {
            match self.permits.clone().try_acquire_owned() {
                Ok(p) => Some(p),
                Err(_) => {
                    return refuse(tonic::Status::resource_exhausted(format!(
                        "the server is at its limit of {} calls in progress; retry with backoff",
                        self.limit
                    )));
                }
            }
        };
        let fut = self.inner.call(req);
        Box::pin(async move {
            let mut response = match deadline {
                Some(d) => reserve_store::deadline::within(d, fut).await?,
                None => fut.await?,
            };
            drop(permit);
            oversized_is_resource_exhausted(&mut response);
            Ok(response)
        })
    }
}

fn refuse<E: Send + 'static>(status: tonic::Status) -> BoxFuture<Result<http::Response<Body>, E>> {
    let response = status.into_http();
    Box::pin(async move { Ok(response) })
}

/// Turns tonic's OUT_OF_RANGE for a request over the decoding limit into
/// RESOURCE_EXHAUSTED.
fn oversized_is_resource_exhausted(response: &mut http::Response<Body>) {
    let headers = response.headers_mut();
    let out_of_range = headers
        .get("grpc-status")
        .is_some_and(|v| v.as_bytes() == b"11");
    let too_large = headers.get("grpc-message").is_some_and(|v| {
        let m = String::from_utf8_lossy(v.as_bytes());
        m.contains("too%20large") || m.contains("too large")
    });
    if out_of_range && too_large {
        headers.insert("grpc-status", http::HeaderValue::from_static("8"));
    }
}

/// The `grpc-timeout` header ("1S", "250m", "100u", ...), if present and
/// well formed (at most 8 digits and a unit, as the gRPC spec says).
fn grpc_timeout(headers: &http::HeaderMap) -> Option<Duration> {
    let v = headers.get("grpc-timeout")?.to_str().ok()?;
    if v.len() < 2 || v.len() > 9 {
        return None;
    }
    let (digits, unit) = v.split_at(v.len() - 1);
    let n: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(n.checked_mul(3600)?),
        "M" => Duration::from_secs(n.checked_mul(60)?),
        "S" => Duration::from_secs(n),
        "m" => Duration::from_millis(n),
        "u" => Duration::from_micros(n),
        "n" => Duration::from_nanos(n),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(v: &str) -> Option<Duration> {
        let mut h = http::HeaderMap::new();
        h.insert("grpc-timeout", http::HeaderValue::from_str(v).unwrap());
        grpc_timeout(&h)
    }

    #[test]
    fn grpc_timeouts_are_read_in_every_unit_and_nonsense_is_ignored() {
        assert_eq!(parse("2H"), Some(Duration::from_secs(7200)));
        assert_eq!(parse("3M"), Some(Duration::from_secs(180)));
        assert_eq!(parse("1S"), Some(Duration::from_secs(1)));
        assert_eq!(parse("250m"), Some(Duration::from_millis(250)));
        assert_eq!(parse("100u"), Some(Duration::from_micros(100)));
        assert_eq!(parse("1n"), Some(Duration::from_nanos(1)));
        assert_eq!(parse("S"), None);
        assert_eq!(parse("123456789S"), None);
        assert_eq!(parse("-1S"), None);
        assert_eq!(parse("1x"), None);
    }
}
