//! The command-centre page: a single-page console whose files are embedded
//! in the binary and served at `/` on the gRPC port.
//!
//! Browsers fetch the page with plain HTTP/1.1 GETs; every gRPC and grpc-web
//! call is a POST, so a GET (or HEAD) is answered here and everything else
//! goes on to the gRPC services untouched. The page itself talks to the
//! services over grpc-web with the user's bearer token and nothing else.
//!
//! On a local run with the development key (SQLite on loopback, no key
//! configured) the page may also mint a token with one click through
//! `/dev/token`. That path exists only when [`Console::with_dev_login`] was
//! given a minter, which `reserve-server` does only when it generated or read
//! its development key; with a configured key it answers 404 like any unknown
//! path.

use reserve_api::auth::{Minter, TokenRequest};
use reserve_core::authz::Role;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tonic::body::Body;
use tonic::codegen::http::{self, HeaderValue, Method, StatusCode, header};
use tonic::transport::server::TcpConnectInfo;

/// One embedded file.
struct Asset {
    path: &'static str,
    content_type: &'static str,
    body: &'static str,
}

/// The built page (`services/server/web/dist`, made by `npm run build` there
/// and committed, so `cargo run` alone serves it).
const ASSETS: &[Asset] = &[
    Asset {
        path: "/",
        content_type: "text/html; charset=utf-8",
        body: include_str!("../web/dist/index.html"),
    },
    Asset {
        path: "/index.html",
        content_type: "text/html; charset=utf-8",
        body: include_str!("../web/dist/index.html"),
    },
    Asset {
        path: "/app.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../web/dist/app.js"),
    },
    Asset {
        path: "/app.css",
        content_type: "text/css; charset=utf-8",
        body: include_str!("../web/dist/app.css"),
    },
];

/// The page draws only from its own origin, and calls only its own origin.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// How long a development token lives.
const DEV_TOKEN_TTL_SECONDS: u64 = 12 * 3600;

/// What the console serves beside the page.
#[derive(Clone, Debug, Default)]
pub struct Console {
    dev_login: Option<Arc<Minter>>,
}

impl Console {
    /// The page only, as in production: no way to mint a token.
    pub fn new() -> Self {
        Self::default()
    }

    /// The page and one-click sign-in, minting with the development key. Only
    /// for a server on loopback using its development key.
    pub fn with_dev_login(minter: Minter) -> Self {
        Self {
            dev_login: Some(Arc::new(minter)),
        }
    }

    /// Whether one-click sign-in is offered.
    pub fn dev_login(&self) -> bool {
        self.dev_login.is_some()
    }
}

impl<S> tower::Layer<S> for Console {
    type Service = ConsoleService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ConsoleService {
            inner,
            console: self.clone(),
        }
    }
}

/// The service the layer makes: answers GET/HEAD and `/dev/token`, passes
/// the rest on.
#[derive(Clone, Debug)]
pub struct ConsoleService<S> {
    inner: S,
    console: Console,
}

fn response(status: StatusCode, content_type: &str, body: String) -> http::Response<Body> {
    let mut r = http::Response::new(Body::new(body));
    *r.status_mut() = status;
    let h = r.headers_mut();
    if let Ok(v) = HeaderValue::from_str(content_type) {
        h.insert(header::CONTENT_TYPE, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    r
}

fn text(status: StatusCode, body: &str) -> http::Response<Body> {
    response(status, "text/plain; charset=utf-8", body.to_string())
}

/// A request the console answers, or `None` to pass it on to gRPC.
fn route<B>(console: &Console, req: &http::Request<B>) -> Option<http::Response<Body>> {
    let path = req.uri().path();
    if path == "/dev/token" {
        return Some(dev_token(console, req));
    }
    let head = req.method() == Method::HEAD;
    if req.method() != Method::GET && !head {
        return None;
    }
    Some(match ASSETS.iter().find(|a| a.path == path) {
        Some(a) => {
            let mut r = response(
                StatusCode::OK,
                a.content_type,
                if head {
                    String::new()
                } else {
                    a.body.to_string()
                },
            );
            if head {
                r.headers_mut()
                    .insert(header::CONTENT_LENGTH, HeaderValue::from(a.body.len()));
            }
            r
        }
        None => text(StatusCode::NOT_FOUND, "没有这个页面 (not found)\n"),
    })
}

/// Whether the Host header names this machine, so a page on another site
/// that resolves its own name to 127.0.0.1 cannot ask for a token.
fn loopback_host(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or_default(),
        None => host.rsplit_once(':').map_or(host, |(h, _)| h),
    };
    name == "localhost"
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// `GET /dev/token` says whether one-click sign-in is offered (204);
/// `POST /dev/token?role=dispatcher&role=auditor&scope=HB-SY` mints a token
/// with those roles and scope. 404 when the server has no development key.
fn dev_token<B>(console: &Console, req: &http::Request<B>) -> http::Response<Body> {
    let Some(minter) = &console.dev_login else {
        return text(StatusCode::NOT_FOUND, "没有这个页面 (not found)\n");
    };
    let peer_local = req
        .extensions()
        .get::<TcpConnectInfo>()
        .and_then(TcpConnectInfo::remote_addr)
        .is_some_and(|a: SocketAddr| a.ip().is_loopback());
    let host_local = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .is_some_and(loopback_host);
    if !peer_local || !host_local {
        return text(
            StatusCode::FORBIDDEN,
            "开发登录只限本机 (development sign-in is for this machine only)\n",
        );
    }
    match *req.method() {
        Method::GET | Method::HEAD => text(StatusCode::NO_CONTENT, ""),
        Method::POST => mint(minter, req.uri().query().unwrap_or_default()),
        _ => text(StatusCode::METHOD_NOT_ALLOWED, "GET or POST\n"),
    }
}

fn mint(minter: &Minter, query: &str) -> http::Response<Body> {
    let mut roles = Vec::new();
    let mut scope = None;
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        match k {
            "role" => match Role::from_claim(v) {
                Some(r) => roles.push(r.claim().to_string()),
                None => {
                    return text(
                        StatusCode::BAD_REQUEST,
                        "role: one of depot_keeper, dispatcher, finance, auditor, admin\n",
                    );
                }
            },
            "scope" => {
                let ok = (2..=32).contains(&v.len())
                    && v.bytes()
                        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-');
                if !ok {
                    return text(
                        StatusCode::BAD_REQUEST,
                        "scope: a depot code such as HB-SY\n",
                    );
                }
                scope = Some(v.to_string());
            }
            _ => return text(StatusCode::BAD_REQUEST, "only role and scope\n"),
        }
    }
    let (Some(scope), false) = (scope, roles.is_empty()) else {
        return text(
            StatusCode::BAD_REQUEST,
            "give at least one role and a scope\n",
        );
    };
    let subject = format!("dev-{}@{scope}", roles.join("+"));
    match minter.mint(&TokenRequest {
        subject: subject.clone(),
        name: "开发用户".into(),
        roles,
        scope_depot: scope,
        ttl_seconds: DEV_TOKEN_TTL_SECONDS,
    }) {
        Ok(token) => {
            tracing::info!(%subject, "minted a development token for the console");
            text(StatusCode::OK, &token)
        }
        Err(e) => {
            tracing::error!(error = %e, "minting a development token");
            text(StatusCode::INTERNAL_SERVER_ERROR, "internal error\n")
        }
    }
}

impl<S, B, R> tower::Service<http::Request<B>> for ConsoleService<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<R>>,
    S::Future: Send + 'static,
    R: tonic::codegen::Body<Data = tonic::codegen::Bytes> + Send + 'static,
    R::Error: Into<tonic::codegen::StdError>,
{
    type Response = http::Response<Body>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        if let Some(r) = route(&self.console, &req) {
            return Box::pin(async move { Ok(r) });
        }
        let fut = self.inner.call(req);
        Box::pin(async move { Ok(fut.await?.map(Body::new)) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_host_names_count_as_this_machine() {
        for h in [
            "127.0.0.1:50051",
            "localhost:8080",
            "localhost",
            "[::1]:50051",
            "127.0.0.2",
        ] {
            assert!(loopback_host(h), "{h}");
        }
        for h in [
            "evil.example:50051",
            "10.0.0.1:50051",
            "127.0.0.1.evil.example",
            "[::2]:1",
            "",
        ] {
            assert!(!loopback_host(h), "{h}");
        }
    }
}
