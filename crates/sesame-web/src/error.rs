//! Errors as users see them: problem+json (RFC 9457) for the API, an HTML page for browsers.
//! This module is the one place where an error becomes an HTTP status.

use crate::CorrelationId;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use sesame_core::CoreError;

/// An API error: rendered as `application/problem+json` with a stable `code`.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub title: &'static str,
    pub detail: String,
    pub field: Option<String>,
    pub correlation_id: Option<String>,
}

/// The body of a problem+json response.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Problem {
    #[serde(rename = "type")]
    pub type_: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Stable error code, `SESAME-xxxx`.
    pub code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<String>,
}

impl ApiError {
    pub fn new(
        status: StatusCode,
        code: &'static str,
        title: &'static str,
        detail: impl Into<String>,
    ) -> Self {
        ApiError {
            status,
            code,
            title,
            detail: detail.into(),
            field: None,
            correlation_id: None,
        }
    }

    pub fn with_correlation(mut self, id: &CorrelationId) -> Self {
        self.correlation_id = Some(id.0.clone());
        self
    }

    pub fn bad_json(detail: impl Into<String>) -> Self {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "SESAME-1410",
            "Malformed request body",
            detail,
        )
    }

    pub fn bad_query(detail: impl Into<String>) -> Self {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "SESAME-1411",
            "Malformed query",
            detail,
        )
    }
}

/// The status of each core error: the single mapping of the project.
pub fn status_of(e: &CoreError) -> StatusCode {
    match e {
        CoreError::Invalid { .. } => StatusCode::BAD_REQUEST,
        CoreError::NotFound(_) => StatusCode::NOT_FOUND,
        CoreError::Conflict(_) => StatusCode::CONFLICT,
        CoreError::Unauthenticated => StatusCode::UNAUTHORIZED,
        CoreError::Forbidden => StatusCode::FORBIDDEN,
        CoreError::DomainVerification { .. } => StatusCode::UNPROCESSABLE_ENTITY,
        CoreError::Storage(sesame_store::StoreError::NotFound(_)) => StatusCode::NOT_FOUND,
        CoreError::Storage(sesame_store::StoreError::Conflict(_)) => StatusCode::CONFLICT,
        CoreError::Storage(sesame_store::StoreError::Aborted(_)) => StatusCode::BAD_REQUEST,
        CoreError::Storage(_) | CoreError::Internal(_) => StatusCode::SERVICE_UNAVAILABLE,
        CoreError::Scim(e) => StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST),
    }
}

impl From<CoreError> for ApiError {
    fn from(e: CoreError) -> Self {
        let status = status_of(&e);
        let title = match status {
            StatusCode::BAD_REQUEST => "Invalid value",
            StatusCode::NOT_FOUND => "Not found",
            StatusCode::CONFLICT => "Already exists",
            StatusCode::UNAUTHORIZED => "Authentication required",
            StatusCode::FORBIDDEN => "Forbidden",
            StatusCode::UNPROCESSABLE_ENTITY => "Verification failed",
            _ => "Service unavailable",
        };
        let detail = match &e {
            // Backend details stay in the logs.
            CoreError::Storage(inner) => {
                tracing::error!(error = %inner, "storage failure");
                "the store is unavailable; try again".to_string()
            }
            CoreError::Internal(inner) => {
                tracing::error!(error = %inner, "internal failure");
                "internal failure; try again".to_string()
            }
            other => other.to_string(),
        };
        let field = match &e {
            CoreError::Invalid { field, .. } => Some(field.clone()),
            _ => None,
        };
        ApiError {
            status,
            code: e.code(),
            title,
            detail,
            field,
            correlation_id: None,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Problem {
            type_: format!("https://sesame.dev/problems/{}", self.code),
            title: self.title.to_string(),
            status: self.status.as_u16(),
            detail: self.detail,
            code: self.code.to_string(),
            field: self.field,
            correlation_id: self
                .correlation_id
                .or_else(crate::context::current_correlation_id),
        };
        let mut res = (self.status, axum::Json(body)).into_response();
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if self.status == StatusCode::UNAUTHORIZED {
            res.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        res
    }
}

/// Unknown routes: problem+json under `/api`, a page elsewhere.
pub async fn not_found_fallback(uri: axum::http::Uri, cid: CorrelationId) -> Response {
    if uri.path().starts_with("/api/") {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "SESAME-1404",
            "Not found",
            "no such endpoint",
        )
        .with_correlation(&cid)
        .into_response()
    } else {
        crate::html::error_page(
            StatusCode::NOT_FOUND,
            "SESAME-1404",
            "This page does not exist.",
            &cid,
        )
    }
}
