//! HTTPS serving: TLS from the reloading key pair, HTTP/2 or 1.1 (by ALPN), the routes (`/validate`,
//! `/mutate`, `/health`, `/info`), a bound on request size and time, one structured log
//! line per admission decision, and a graceful stop that finishes in-flight requests.

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use serde_json::{json, Value};
use tokio::net::TcpListener;

use crate::log;
use crate::lookup::Lookups;
use crate::review::{self, Decision, Endpoint, Options};

/// Everything a request needs.
pub struct State<L> {
    pub lookups: L,
    pub options: Options,
    pub max_request_bytes: usize,
    pub request_timeout: Duration,
}

type Body = Full<Bytes>;

fn empty(status: StatusCode) -> Response<Body> {
    let mut r = Response::new(Full::new(Bytes::new()));
    *r.status_mut() = status;
    r
}

fn json_response(v: &Value) -> Response<Body> {
    let mut r = Response::new(Full::new(Bytes::from(v.to_string())));
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    r
}

/// Route one HTTP request.
pub async fn handle<L: Lookups>(state: Arc<State<L>>, req: Request<Incoming>) -> Response<Body> {
    let endpoint = match (req.method(), req.uri().path()) {
        (&Method::GET, "/health") => return empty(StatusCode::NO_CONTENT),
        (&Method::GET, "/info") => {
            return json_response(&json!({"name": "gmsa-webhook", "version": gmsa::VERSION}))
        }
        (_, "/validate") => Endpoint::Validate,
        (_, "/mutate") => Endpoint::Mutate,
        _ => return empty(StatusCode::NOT_FOUND),
    };
    if req.method() != Method::POST {
        return empty(StatusCode::METHOD_NOT_ALLOWED);
    }
    let json_type = req
        .headers()
        .get(hyper::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(';').next().unwrap_or("").trim() == "application/json");
    if !json_type {
        return empty(StatusCode::UNSUPPORTED_MEDIA_TYPE);
    }
    let declared = req
        .headers()
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
    if declared.is_some_and(|n| n > state.max_request_bytes) {
        log::warn(
            "refused an oversized request",
            json!({"bytes": declared, "limit": state.max_request_bytes}),
        );
        return empty(StatusCode::PAYLOAD_TOO_LARGE);
    }
    let started = Instant::now();
    let body = match tokio::time::timeout(
        state.request_timeout,
        Limited::new(req.into_body(), state.max_request_bytes).collect(),
    )
    .await
    {
        Ok(Ok(b)) => b.to_bytes(),
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => {
            log::warn(
                "refused an oversized request",
                json!({"limit": state.max_request_bytes}),
            );
            return empty(StatusCode::PAYLOAD_TOO_LARGE);
        }
        Ok(Err(_)) => return empty(StatusCode::BAD_REQUEST),
        Err(_) => return empty(StatusCode::REQUEST_TIMEOUT),
    };
    let review: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            log::warn(
                "refused a request that is not JSON",
                json!({"error": e.to_string()}),
            );
            return empty(StatusCode::BAD_REQUEST);
        }
    };
    let api_version = review["apiVersion"].as_str().unwrap_or("").to_owned();
    let request: review::Request = match review.get("request").cloned() {
        Some(r) => serde_json::from_value(r).unwrap_or_default(),
        None => {
            log::warn("refused an AdmissionReview without a request", json!({}));
            return empty(StatusCode::BAD_REQUEST);
        }
    };
    drop(body);
    let left = state.request_timeout.saturating_sub(started.elapsed());
    let decision = match tokio::time::timeout(
        left,
        review::decide(&state.lookups, &state.options, endpoint, &request),
    )
    .await
    {
        Ok(d) => d,
        Err(_) => Decision {
            denial: Some(gmsa::admission::Denial {
                check: gmsa::admission::Check::CredentialSpec,
                code: 504,
                message: format!(
                    "gmsa-webhook could not decide within {}s: the API server did not answer its checks in time",
                    state.request_timeout.as_secs()
                ),
            }),
            patch: None,
        },
    };
    let name = if request.name.is_empty() {
        request.object["metadata"]["generateName"]
            .as_str()
            .unwrap_or("")
            .to_owned()
    } else {
        request.name.clone()
    };
    log::info(
        "admission",
        json!({
            "uid": request.uid,
            "endpoint": endpoint.as_str(),
            "operation": request.operation,
            "subResource": request.sub_resource,
            "namespace": request.namespace,
            "name": name,
            "allowed": decision.denial.is_none(),
            "check": decision.denial.as_ref().map(|d| d.check.as_str()),
            "message": decision.denial.as_ref().map(|d| d.message.as_str()),
            "patched": decision.patch.is_some(),
            "micros": started.elapsed().as_micros() as u64,
        }),
    );
    json_response(&review::response(&api_version, &request.uid, &decision))
}

/// Serve one connection (HTTP/2 when ALPN chose it, else HTTP/1.1) until it ends or `stop`
/// flips; then let its in-flight requests finish.
macro_rules! serve_until_stopped {
    ($conn:expr, $stop:expr) => {{
        let conn = $conn;
        tokio::pin!(conn);
        tokio::select! {
            _ = conn.as_mut() => {}
            () = async { let _ = $stop.wait_for(|s| *s).await; } => {
                conn.as_mut().graceful_shutdown();
                let _ = conn.await;
            }
        }
    }};
}

/// Serve until `stop` completes, then give in-flight requests `grace` to finish.
pub async fn serve<L: Lookups + Send + 'static>(
    listener: TcpListener,
    tls: Arc<rustls::ServerConfig>,
    state: Arc<State<L>>,
    stop: impl Future<Output = ()>,
    grace: Duration,
) {
    let acceptor = tokio_rustls::TlsAcceptor::from(tls);
    let (stopping, stop_rx) = tokio::sync::watch::channel(false);
    let mut connections = tokio::task::JoinSet::new();
    tokio::pin!(stop);
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    log::warn("accept failed", json!({"error": e.to_string()}));
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut stop => break,
        };
        // Reap finished connections so the set stays small.
        while connections.try_join_next().is_some() {}
        let _ = tcp.set_nodelay(true);
        let acceptor = acceptor.clone();
        let state = state.clone();
        let mut stop_rx = stop_rx.clone();
        connections.spawn(async move {
            let timeout = state.request_timeout;
            let tls = match tokio::time::timeout(timeout, acceptor.accept(tcp)).await {
                Ok(Ok(t)) => t,
                Ok(Err(e)) => {
                    log::warn(
                        "TLS handshake failed",
                        json!({"peer": peer.to_string(), "error": e.to_string()}),
                    );
                    return;
                }
                Err(_) => return,
            };
            let h2 = tls.get_ref().1.alpn_protocol() == Some(b"h2");
            let service = hyper::service::service_fn(move |req| {
                let state = state.clone();
                async move { Ok::<_, Infallible>(handle(state, req).await) }
            });
            let io = TokioIo::new(tls);
            if h2 {
                serve_until_stopped!(
                    hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                        .timer(TokioTimer::new())
                        .max_concurrent_streams(256)
                        .serve_connection(io, service),
                    stop_rx
                );
            } else {
                serve_until_stopped!(
                    hyper::server::conn::http1::Builder::new()
                        .timer(TokioTimer::new())
                        .header_read_timeout(timeout)
                        .serve_connection(io, service),
                    stop_rx
                );
            }
        });
    }
    drop(listener);
    log::info(
        "stopping: finishing in-flight requests",
        json!({"graceSeconds": grace.as_secs(), "connections": connections.len()}),
    );
    let _ = stopping.send(true);
    let drained = tokio::time::timeout(grace, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        log::warn("stopped with requests still in flight", json!({}));
        connections.abort_all();
    }
}
