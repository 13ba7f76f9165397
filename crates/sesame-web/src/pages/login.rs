//! `/{tenant}/login` (UPN, then password) and `/{tenant}/` (who is signed in).
//!
//! Forms carry a CSRF token that must equal the `sesame_csrf` cookie (double submit); the
//! comparison is constant-time. `continue` may only name a path on this origin.

use super::{cookies, current_user, tenant_or_page, to_login, with_cookie};
use crate::html::{error_page, escape, html_response, page};
use crate::{AppState, CorrelationId};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use sesame_core::{SignInAttempt, SignInFailure, SignInOutcome, secrets};
use sesame_model::Tenant;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/{tenant}/login", get(show_login).post(submit_login))
        .route("/{tenant}/", get(landing))
}

#[derive(Debug, Default, Deserialize)]
struct LoginQuery {
    #[serde(rename = "continue")]
    continue_to: Option<String>,
    login_hint: Option<String>,
    domain_hint: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct LoginForm {
    csrf: Option<String>,
    username: Option<String>,
    password: Option<String>,
    #[serde(rename = "continue")]
    continue_to: Option<String>,
}

/// A `continue` target we may redirect to: an absolute path on this origin, nothing else.
pub fn safe_continue(target: Option<&str>) -> Option<String> {
    let t = target?.trim();
    let ok = t.starts_with('/')
        && !t.starts_with("//")
        && !t.contains('\\')
        // Room for a sign-in's sealed context with a RelayState at its bound.
        && t.len() <= 4096
        && !t.chars().any(|c| c.is_control() || c.is_whitespace());
    ok.then(|| t.to_string())
}

pub(crate) struct Csrf {
    pub(crate) token: String,
    pub(crate) set_cookie: Option<String>,
}

impl Csrf {
    /// Whether a form sent `sent` from one of our pages: the browser already had the cookie,
    /// and the form carries the same value.
    pub(crate) fn accepts(&self, sent: Option<&str>) -> bool {
        self.set_cookie.is_none() && secrets::equal(sent.unwrap_or(""), &self.token)
    }
}

/// Reuses the browser's CSRF cookie or mints a new one.
pub(crate) fn csrf_for(state: &AppState, headers: &HeaderMap) -> Csrf {
    let name = cookies::name(cookies::CSRF, state.config.https());
    match cookies::get(headers, &name).filter(|v| v.len() >= 16 && v.len() <= 64) {
        Some(token) => Csrf {
            token,
            set_cookie: None,
        },
        None => {
            let token = secrets::new_short_token();
            let set_cookie = Some(cookies::set(
                &name,
                &token,
                state.config.https(),
                "Strict",
                None,
            ));
            Csrf { token, set_cookie }
        }
    }
}

fn username_form(
    tenant: &Tenant,
    csrf: &str,
    continue_to: Option<&str>,
    error: Option<&str>,
) -> String {
    let err = error
        .map(|e| format!("<p class=\"error\" role=\"alert\">{}</p>", escape(e)))
        .unwrap_or_default();
    let body = format!(
        "<h1>Sign in</h1><p class=\"muted\">{}</p>{err}\
<form method=\"post\" action=\"/{}/login\">\
<input type=\"hidden\" name=\"csrf\" value=\"{}\">{}\
<label for=\"username\">Email or username</label>\
<input type=\"email\" id=\"username\" name=\"username\" autocomplete=\"username\" required autofocus>\
<button type=\"submit\">Next</button></form>",
        escape(&tenant.name),
        tenant.id,
        escape(csrf),
        continue_field(continue_to),
    );
    page("Sign in", &body)
}

fn password_form(
    tenant: &Tenant,
    csrf: &str,
    upn: &str,
    continue_to: Option<&str>,
    error: Option<&str>,
) -> String {
    let err = error
        .map(|e| format!("<p class=\"error\" role=\"alert\">{}</p>", escape(e)))
        .unwrap_or_default();
    let body = format!(
        "<h1>Enter password</h1><p class=\"muted\">{}</p>{err}\
<form method=\"post\" action=\"/{}/login\">\
<input type=\"hidden\" name=\"csrf\" value=\"{}\">{}\
<input type=\"hidden\" name=\"username\" value=\"{}\">\
<label for=\"password\">Password</label>\
<input type=\"password\" id=\"password\" name=\"password\" autocomplete=\"current-password\" required autofocus>\
<button type=\"submit\">Sign in</button></form>\
<p class=\"muted\"><a href=\"/{}/login\">Use another account</a></p>",
        escape(upn),
        tenant.id,
        escape(csrf),
        continue_field(continue_to),
        escape(upn),
        tenant.id,
    );
    page("Enter password", &body)
}

fn continue_field(continue_to: Option<&str>) -> String {
    continue_to
        .map(|c| {
            format!(
                "<input type=\"hidden\" name=\"continue\" value=\"{}\">",
                escape(c)
            )
        })
        .unwrap_or_default()
}

async fn show_login(
    State(state): State<AppState>,
    Path(tenant): Path<String>,
    Query(query): Query<LoginQuery>,
    headers: HeaderMap,
    cid: CorrelationId,
) -> Response {
    let tenant = match tenant_or_page(&state, &tenant, &cid).await {
        Ok(t) => t,
        Err(page) => return page,
    };
    let continue_to = safe_continue(query.continue_to.as_deref());
    // `login_hint` (a UPN) or `domain_hint` of a federated domain skips the prompts (AUTH-1).
    if let Some(hint) = query.login_hint.as_deref().or(query.domain_hint.as_deref())
        && let Some(res) =
            super::federation::home_realm_redirect(&state, &tenant, hint, continue_to.clone(), &cid)
                .await
    {
        return res;
    }
    let csrf = csrf_for(&state, &headers);
    let html = match query
        .login_hint
        .as_deref()
        .map(str::trim)
        .filter(|h| !h.is_empty())
    {
        Some(hint) => password_form(&tenant, &csrf.token, hint, continue_to.as_deref(), None),
        None => username_form(&tenant, &csrf.token, continue_to.as_deref(), None),
    };
    with_cookie(html_response(StatusCode::OK, html), csrf.set_cookie)
}

async fn submit_login(
    State(state): State<AppState>,
    Path(tenant): Path<String>,
    cid: CorrelationId,
    parts: Parts,
    body: Bytes,
) -> Response {
    let tenant = match tenant_or_page(&state, &tenant, &cid).await {
        Ok(t) => t,
        Err(page) => return page,
    };
    let Ok(form) = serde_urlencoded::from_bytes::<LoginForm>(&body) else {
        return error_page(
            StatusCode::BAD_REQUEST,
            "SESAME-2011",
            "The sign-in form could not be read.",
            &cid,
        );
    };
    let csrf = csrf_for(&state, &parts.headers);
    if !csrf.accepts(form.csrf.as_deref()) {
        let res = error_page(
            StatusCode::BAD_REQUEST,
            "SESAME-2010",
            "This sign-in form has expired or was not sent by this site. Go back, reload the page and try again.",
            &cid,
        );
        return with_cookie(res, csrf.set_cookie);
    }
    let continue_to = safe_continue(form.continue_to.as_deref());
    let username = form.username.unwrap_or_default().trim().to_string();
    if username.is_empty() {
        let html = username_form(
            &tenant,
            &csrf.token,
            continue_to.as_deref(),
            Some("Enter your email or username."),
        );
        return html_response(StatusCode::OK, html);
    }
    // Home-realm discovery (a federated domain goes to its IdP), whether or not a password
    // came with the form: federated users never sign in with a local password.
    if let Some(res) = super::federation::home_realm_redirect(
        &state,
        &tenant,
        &username,
        continue_to.clone(),
        &cid,
    )
    .await
    {
        return res;
    }
    let Some(password) = form.password.filter(|p| !p.is_empty()) else {
        let html = password_form(
            &tenant,
            &csrf.token,
            &username,
            continue_to.as_deref(),
            None,
        );
        return html_response(StatusCode::OK, html);
    };
    let attempt = SignInAttempt {
        tenant: tenant.id,
        user_principal_name: username.clone(),
        password,
        ip: crate::context::client_ip(&parts),
        correlation_id: cid.0.clone(),
    };
    let outcome = match state.core.sign_in_with_password(attempt).await {
        Ok(o) => o,
        Err(e) => {
            return error_page(
                crate::error::status_of(&e),
                e.code(),
                "Sign-in is unavailable right now. Try again in a moment.",
                &cid,
            );
        }
    };
    match outcome {
        SignInOutcome::Success(signed_in) => {
            state.metrics.record_sign_in("success");
            let cookie = cookies::session_set(
                tenant.id,
                state.config.https(),
                Some(&signed_in.session_secret),
            );
            let target = continue_to.unwrap_or_else(|| format!("/{}/", tenant.id));
            let res = (StatusCode::SEE_OTHER, [(header::LOCATION, target)]).into_response();
            with_cookie(res, Some(cookie))
        }
        SignInOutcome::Failure(failure) => {
            let (message, status, result) = match failure {
                SignInFailure::InvalidCredentials => (
                    "Your account or password is incorrect.".to_string(),
                    StatusCode::UNAUTHORIZED,
                    "failure",
                ),
                SignInFailure::Locked { .. } => (
                    "Your account is temporarily locked because of too many failed sign-in attempts. Try again later."
                        .to_string(),
                    StatusCode::FORBIDDEN,
                    "locked",
                ),
                SignInFailure::Disabled => (
                    "Your account is disabled. Contact your administrator.".to_string(),
                    StatusCode::FORBIDDEN,
                    "failure",
                ),
            };
            state.metrics.record_sign_in(result);
            let message = format!(
                "{message} (code {}, correlation id {})",
                failure.code(),
                cid.0
            );
            let html = password_form(
                &tenant,
                &csrf.token,
                &username,
                continue_to.as_deref(),
                Some(&message),
            );
            html_response(status, html)
        }
    }
}

async fn landing(
    State(state): State<AppState>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    cid: CorrelationId,
) -> Response {
    let tenant = match tenant_or_page(&state, &tenant, &cid).await {
        Ok(t) => t,
        Err(page) => return page,
    };
    let current = current_user(&state, &tenant, &headers, &cid).await;
    match current {
        Ok(Some((_, user))) => {
            let body = format!(
                "<h1>You are signed in</h1><p>{}<br><span class=\"muted\">{}</span></p>\
<p><a href=\"/{}/logout\">Sign out</a></p>",
                escape(
                    user.display_name
                        .as_deref()
                        .unwrap_or(&user.user_principal_name)
                ),
                escape(&user.user_principal_name),
                tenant.id
            );
            html_response(StatusCode::OK, page("Signed in", &body))
        }
        Ok(None) => to_login(&tenant, &format!("/{}/", tenant.id), None),
        Err(page) => page,
    }
}

#[cfg(test)]
mod tests {
    use super::safe_continue;

    #[test]
    fn continue_only_same_origin_paths() {
        let cases: &[(&str, Option<&str>)] = &[
            ("/t/myapps", Some("/t/myapps")),
            ("/t/saml2?SAMLRequest=x", Some("/t/saml2?SAMLRequest=x")),
            ("https://evil.example/", None),
            ("//evil.example/", None),
            ("/\\evil.example", None),
            ("javascript:alert(1)", None),
            ("/a\nb", None),
            ("relative/path", None),
            ("", None),
        ];
        for (input, expected) in cases {
            assert_eq!(
                safe_continue(Some(input)).as_deref(),
                *expected,
                "{input:?}"
            );
        }
    }
}
