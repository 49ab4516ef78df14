//! One log line per gRPC call: method, status code, latency, the caller's
//! subject and scope depot, and the request id the client sent in the
//! `x-request-id` header. Never the token, the request or the response body.
//!
//! The layer wraps every service, outside the token check: it puts a
//! [`CallerSlot`] on the request, the auth interceptor fills it once the
//! token is verified, and the layer reads it when the response comes. The
//! status is the `grpc-status` header of a trailers-only response (every
//! error tonic answers before the body), otherwise OK; the latency is until
//! the response headers, which for a unary call is the whole call and for a
//! stream is how long it took to open. Health checks log at debug, since
//! load balancers poll them.
//!
//! The call runs inside a [`CallTrace`] scope: the api layer notes the
//! `request_id` of a write's body there and the store adds the time spent
//! in write transactions, which the line carries (`body_request_id`, and
//! `db_ms` on slow calls). Every call also counts in the metrics
//! (`reserve_grpc_calls_total`, `reserve_grpc_call_duration_seconds`).

use reserve_api::auth::CallerSlot;
use reserve_store::calltrace::CallTrace;
use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, LazyLock};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tonic::codegen::http;

/// The tower layer; `slow` is the latency above which a call logs at warn
/// (zero turns the warning off).
#[derive(Clone, Copy, Debug)]
pub struct CallLogLayer {
    slow: Duration,
}

impl CallLogLayer {
    /// A layer warning about calls slower than `slow`.
    pub fn new(slow: Duration) -> Self {
        Self { slow }
    }
}

impl<S> tower::Layer<S> for CallLogLayer {
    type Service = CallLog<S>;

    fn layer(&self, inner: S) -> Self::Service {
        CallLog {
            inner,
            slow: self.slow,
        }
    }
}

/// The service the layer makes.
#[derive(Clone, Debug)]
pub struct CallLog<S> {
    inner: S,
    slow: Duration,
}

impl<S, B, R> tower::Service<http::Request<B>> for CallLog<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<R>>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: http::Request<B>) -> Self::Future {
        let started = Instant::now();
        let method = req.uri().path().to_string();
        let request_id = req
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .filter(|v| v.len() <= 128)
            .map(str::to_string);
        let slot = CallerSlot::default();
        req.extensions_mut().insert(slot.clone());
        let slow = self.slow;
        let trace = Arc::new(CallTrace::default());
        let fut = trace.clone().scope(self.inner.call(req));
        Box::pin(async move {
            let result = fut.await;
            let latency = started.elapsed();
            let code = match &result {
                Ok(resp) => resp
                    .headers()
                    .get("grpc-status")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse::<i32>().ok())
                    .map_or(tonic::Code::Ok, tonic::Code::from_i32),
                Err(_) => tonic::Code::Unknown,
            };
            let label = method_label(&method);
            metrics::counter!("reserve_grpc_calls_total",
                "method" => label, "code" => format!("{code:?}"))
            .increment(1);
            metrics::histogram!("reserve_grpc_call_duration_seconds", "method" => label)
                .record(latency.as_secs_f64());
            log_call(
                &method,
                code,
                latency,
                &slot,
                request_id.as_deref(),
                &trace,
                slow,
            );
            result
        })
    }
}

/// The method as a metric label: a method the server serves, or `unknown`,
/// so a client sending made-up paths cannot grow the series without bound.
fn method_label(path: &str) -> &'static str {
    static KNOWN: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
        use prost::Message;
        let mut known: HashSet<&'static str> = [
            "/grpc.health.v1.Health/Check",
            "/grpc.health.v1.Health/Watch",
            "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
            "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
        ]
        .into_iter()
        .collect();
        let set = prost_types::FileDescriptorSet::decode(reserve_api::FILE_DESCRIPTOR_SET)
            .unwrap_or_default();
        for file in set.file {
            let package = file.package().to_string();
            for service in &file.service {
                for m in &service.method {
                    let path = format!("/{package}.{}/{}", service.name(), m.name());
                    known.insert(Box::leak(path.into_boxed_str()));
                }
            }
        }
        known
    });
    KNOWN.get(path).copied().unwrap_or("unknown")
}

fn log_call(
    method: &str,
    code: tonic::Code,
    latency: Duration,
    slot: &CallerSlot,
    request_id: Option<&str>,
    trace: &CallTrace,
    slow: Duration,
) {
    let (subject, scope) = slot.get().unwrap_or(("", ""));
    let body_request_id = trace.request_id().unwrap_or_default();
    let body_request_id = body_request_id.as_str();
    let latency_ms = latency.as_secs_f64() * 1000.0;
    let code = format!("{code:?}");
    let request_id = request_id.unwrap_or("");
    if !slow.is_zero() && latency > slow {
        tracing::warn!(
            target: "reserve::call",
            method,
            code,
            latency_ms,
            subject,
            scope,
            request_id,
            body_request_id,
            db_ms = trace.db_time().as_secs_f64() * 1000.0,
            slow_ms = slow.as_millis() as u64,
            "slow call"
        );
    } else if method.starts_with("/grpc.health.") {
        tracing::debug!(target: "reserve::call", method, code, latency_ms, "call");
    } else {
        tracing::info!(
            target: "reserve::call",
            method,
            code,
            latency_ms,
            subject,
            scope,
            request_id,
            body_request_id,
            "call"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::method_label;

    #[test]
    fn only_methods_the_server_serves_become_metric_labels() {
        for m in [
            "/reserve.v1.StockService/ReceiveStock",
            "/reserve.v1.NetworkService/GetDepot",
            "/grpc.health.v1.Health/Check",
        ] {
            assert_eq!(method_label(m), m);
        }
        assert_eq!(
            method_label("/reserve.v1.StockService/NoSuchMethod"),
            "unknown"
        );
        assert_eq!(method_label("/made.up/path-1234"), "unknown");
    }
}
