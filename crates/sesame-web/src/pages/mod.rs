//! Browser pages under `/{tenant}/…`: sign-in, sign-out, the signed-in landing page and the
//! user portal (My Apps).

mod cookies;
mod federation;
mod login;
mod portal;
mod saml;
mod slo;

use crate::html::error_page;
use crate::{AppState, CorrelationId};
use axum::Router;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sesame_model::{Session, Tenant, User};

pub fn routes() -> Router<AppState> {
    login::routes()
        .merge(portal::routes())
        .merge(saml::routes())
        .merge(slo::routes())
        .merge(federation::routes())
}

/// The tenant named in the URL, or the error page to show instead.
pub(crate) async fn tenant_or_page(
    state: &AppState,
    key: &str,
    cid: &CorrelationId,
) -> Result<Tenant, Response> {
    state.core.resolve_tenant(key).await.map_err(|e| {
        let status = crate::error::status_of(&e);
        let msg = if status == StatusCode::NOT_FOUND {
            "This organisation does not exist. Check the address you were given."
        } else {
            "Sign-in is unavailable right now. Try again in a moment."
        };
        error_page(status, e.code(), msg, cid)
    })
}

pub(crate) fn with_cookie(mut res: Response, cookie: Option<String>) -> Response {
    if let Some(c) = cookie.and_then(|c| HeaderValue::from_str(&c).ok()) {
        res.headers_mut().append(header::SET_COOKIE, c);
    }
    res
}

/// The signed-in user of this tenant, if the browser holds a live session.
pub(crate) async fn current_user(
    state: &AppState,
    tenant: &Tenant,
    headers: &HeaderMap,
    cid: &CorrelationId,
) -> Result<Option<(Session, User)>, Response> {
    let name = cookies::session_name(tenant.id, state.config.https());
    let Some(secret) = cookies::get(headers, &name) else {
        return Ok(None);
    };
    state
        .core
        .current_session(tenant.id, &secret)
        .await
        .map_err(|e| {
            error_page(
                crate::error::status_of(&e),
                e.code(),
                "Sign-in is unavailable right now.",
                cid,
            )
        })
}

/// A redirect to the sign-in page that comes back to `continue_to` afterwards.
pub(crate) fn to_login(tenant: &Tenant, continue_to: &str, login_hint: Option<&str>) -> Response {
    let mut target = format!("/{}/login?continue={}", tenant.id, urlencode(continue_to));
    if let Some(h) = login_hint {
        target.push_str("&login_hint=");
        target.push_str(&urlencode(h));
    }
    (StatusCode::SEE_OTHER, [(header::LOCATION, target)]).into_response()
}

/// Percent-encodes a query parameter value (RFC 3986 unreserved characters stay).
pub(crate) fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
