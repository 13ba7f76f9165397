//! Sésame's HTTP edge (axum): sign-in pages, the admin REST API, operations endpoints.
//!
//! A handler decodes its input (extractor), calls `sesame-core`, and encodes or renders the
//! result. It holds no business rule and no SQL. HTTP status codes for errors are chosen in one
//! place, [`error`]. Every response carries an `x-correlation-id`, also written to the logs and
//! the sign-in log, so a user's error page can be matched to what happened.

pub mod api;
mod context;
pub mod error;
mod html;
pub mod metrics;
mod ops;
mod pages;
pub mod scim;

use axum::Router;
use sesame_core::Core;
use std::sync::Arc;

pub use context::{CorrelationId, correlation_layer};
pub use metrics::Metrics;

/// Largest request body accepted anywhere (admin JSON, forms).
pub const BODY_LIMIT: usize = 1024 * 1024;

/// What the edge needs to know about how it is reached.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// The external base URL (`https://login.example.com`), without a trailing slash.
    pub public_url: String,
}

impl WebConfig {
    /// Cookies get `Secure` and the `__Host-` prefix when users reach us over HTTPS.
    pub fn https(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}

#[derive(Clone)]
pub struct AppState {
    pub core: Core,
    pub config: Arc<WebConfig>,
    pub metrics: Arc<Metrics>,
}

/// The whole HTTP application.
pub fn router(state: AppState) -> Router {
    let metrics = state.metrics.clone();
    Router::new()
        .merge(ops::routes())
        .nest("/api/v1", api::routes())
        .merge(pages::routes())
        .merge(scim::routes())
        .fallback(error::not_found_fallback)
        .layer(axum::middleware::from_fn_with_state(
            metrics,
            metrics::track_requests,
        ))
        .layer(axum::extract::DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::from_fn(correlation_layer))
        .with_state(state)
}
