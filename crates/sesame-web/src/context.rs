//! Request context: the correlation id every response and log line carries.

use axum::extract::{FromRequestParts, Request};
use axum::http::{HeaderValue, request::Parts};
use axum::middleware::Next;
use axum::response::Response;
use std::convert::Infallible;
use tracing::Instrument;

tokio::task_local! {
    static CURRENT: String;
}

/// The correlation id of the request being served, if any.
pub fn current_correlation_id() -> Option<String> {
    CURRENT.try_with(|c| c.clone()).ok()
}

/// The id that ties an error page, a log line and a sign-in log entry together.
#[derive(Debug, Clone)]
pub struct CorrelationId(pub String);

pub const CORRELATION_HEADER: &str = "x-correlation-id";

/// Assigns a fresh correlation id to each request (a caller-supplied one is never trusted,
/// since it ends up in audit records) and echoes it in the response.
pub async fn correlation_layer(mut req: Request, next: Next) -> Response {
    let id = new_correlation_id();
    req.extensions_mut().insert(CorrelationId(id.clone()));
    let span = tracing::info_span!(
        "request",
        correlation_id = %id,
        method = %req.method(),
        path = %req.uri().path()
    );
    let mut res = CURRENT
        .scope(id.clone(), next.run(req).instrument(span))
        .await;
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(CORRELATION_HEADER, v);
    }
    res
}

/// Time-ordered (UUIDv7): the sign-in log indexes correlation ids, and random ones would put
/// each new entry on a different page of that index (one more page written per sign-in).
fn new_correlation_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

impl<S: Send + Sync> FromRequestParts<S> for CorrelationId {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<CorrelationId>()
            .cloned()
            .or_else(|| current_correlation_id().map(CorrelationId))
            .unwrap_or_else(|| CorrelationId(new_correlation_id())))
    }
}

/// The client's address as seen by this process, when the server recorded it.
pub fn client_ip(parts: &Parts) -> Option<String> {
    parts
        .extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip().to_string())
}
