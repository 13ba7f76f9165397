//! SAML endpoints of the identity provider: `/{tenant}/saml2` (SSO, Redirect and POST
//! bindings), `/{tenant}/saml2/continue` (back from the sign-in page), IdP-initiated launch
//! links `/{tenant}/apps/{app}/launch`, and the metadata document.
//!
//! Decoding the binding happens here; every decision is `sesame-core`'s. A refused request is
//! an error page with a code and the correlation id — never a redirect to an unverified URL.

use super::{current_user, tenant_or_page, to_login};
use crate::html::{error_page, html_response};
use crate::{AppState, CorrelationId};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, RawQuery, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use sesame_core::sso::{IncomingRequest, PendingSso, RequestMeta, SamlPost, SsoFailure};
use sesame_model::{AppId, Tenant};

/// Purpose label of sealed pending requests.
const PENDING: &str = "saml-pending";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/{tenant}/saml2", get(sso_redirect).post(sso_post))
        .route("/{tenant}/saml2/soap", post(slo_soap))
        .route("/{tenant}/saml2/continue", get(sso_continue))
        .route("/{tenant}/apps/{app}/launch", get(launch))
        .route(
            "/{tenant}/federationmetadata/2007-06/federationmetadata.xml",
            get(metadata),
        )
}

/// A sign-in request loaded into another page instead of opened as one (README, "Error codes").
const NOT_A_PAGE: &str = "SESAME-3014";

/// The refusal of a request the browser did not open as a page (Fetch Metadata:
/// `Sec-Fetch-Dest`, which pages cannot set). Over https the session cookie goes along
/// cross-site (`SameSite=None`, for SPs that POST their requests), so an image, a script, a
/// frame or a fetch() on any site could otherwise make Sésame issue a Response nobody sees and
/// log a sign-in the user never made (a frame could not even show it: `frame-ancestors
/// 'none'`). Clients without Fetch Metadata (SP test tools, older browsers) are not affected.
fn refused_subresource(headers: &HeaderMap, cid: &CorrelationId) -> Option<Response> {
    let dest = headers.get("sec-fetch-dest")?;
    if dest.as_bytes().eq_ignore_ascii_case(b"document") {
        return None;
    }
    tracing::info!(correlation_id = %cid.0, dest = ?dest, "SAML request loaded as a subresource, refused");
    Some(error_page(
        StatusCode::FORBIDDEN,
        NOT_A_PAGE,
        "This sign-in was loaded inside another page. Open the application again to sign in.",
        cid,
    ))
}

fn meta(parts: &Parts, cid: &CorrelationId) -> RequestMeta {
    RequestMeta {
        ip: crate::context::client_ip(parts),
        correlation_id: cid.0.clone(),
    }
}

fn failure_page(f: &SsoFailure, cid: &CorrelationId) -> Response {
    let status = StatusCode::from_u16(f.status).unwrap_or(StatusCode::BAD_REQUEST);
    error_page(status, f.code, &f.message, cid)
}

/// The page that POSTs a SAML message to its destination (HTTP-POST binding, bindings §3.5),
/// auto-submitted by a script allowed by a per-response CSP nonce, with a button for browsers
/// without JavaScript.
pub(crate) fn post_page(post: &SamlPost) -> Response {
    let nonce = sesame_core::secrets::new_short_token();
    let html = sesame_saml::post_form(
        &post.url,
        post.kind,
        &post.xml,
        post.relay_state.as_deref(),
        sesame_saml::AutoSubmit::InlineWithNonce(&nonce),
    );
    let mut res = html_response(StatusCode::OK, html);
    // No `form-action`: it also applies to the redirects that follow the submission (CSP 3,
    // form-action; Chromium enforces it), and an ACS may well send the browser on to another
    // host (AWS's does). The form's action is the validated destination, and no script but the
    // nonce's can run to change it.
    let csp = format!(
        "default-src 'none'; script-src 'nonce-{nonce}'; style-src 'unsafe-inline'; frame-ancestors 'none'"
    );
    if let Ok(v) = HeaderValue::from_str(&csp) {
        res.headers_mut().insert(header::CONTENT_SECURITY_POLICY, v);
    }
    res
}

async fn sso_redirect(
    State(state): State<AppState>,
    Path(tenant): Path<String>,
    RawQuery(query): RawQuery,
    cid: CorrelationId,
    parts: Parts,
) -> Response {
    if let Some(refused) = refused_subresource(&parts.headers, &cid) {
        return refused;
    }
    let tenant = match tenant_or_page(&state, &tenant, &cid).await {
        Ok(t) => t,
        Err(page) => return page,
    };
    let query = query.unwrap_or_default();
    let message = match sesame_saml::decode_redirect(&query) {
        Ok(m) => m,
        Err(e) => {
            let f = SsoFailure {
                code: sesame_core::sso::codes::MALFORMED_REQUEST,
                status: 400,
                message: format!("This is not a SAML request Sésame can read ({}).", e.rule()),
            };
            return failure_page(&f, &cid);
        }
    };
    let kind = message.kind;
    let incoming = IncomingRequest {
        xml: message.xml.clone(),
        relay_state: message.relay_state.clone(),
        redirect: Some(message),
        received_url: received_url(&state, &parts),
        soap: false,
    };
    if kind == sesame_saml::MessageKind::Response {
        return super::slo::logout_response(&state, &tenant, &incoming, &parts.headers).await;
    }
    handle_request(&state, &tenant, incoming, &parts, &cid).await
}

#[derive(Deserialize)]
struct PostForm {
    #[serde(rename = "SAMLRequest")]
    saml_request: Option<String>,
    #[serde(rename = "SAMLResponse")]
    saml_response: Option<String>,
    #[serde(rename = "RelayState")]
    relay_state: Option<String>,
}

async fn sso_post(
    State(state): State<AppState>,
    Path(tenant): Path<String>,
    cid: CorrelationId,
    parts: Parts,
    body: Bytes,
) -> Response {
    if let Some(refused) = refused_subresource(&parts.headers, &cid) {
        return refused;
    }
    let tenant = match tenant_or_page(&state, &tenant, &cid).await {
        Ok(t) => t,
        Err(page) => return page,
    };
    let malformed = |why: String| {
        failure_page(
            &SsoFailure {
                code: sesame_core::sso::codes::MALFORMED_REQUEST,
                status: 400,
                message: why,
            },
            &cid,
        )
    };
    let Ok(form) = serde_urlencoded::from_bytes::<PostForm>(&body) else {
        return malformed("The SAML form could not be read.".into());
    };
    if let Some(encoded) = form.saml_response {
        return match sesame_saml::decode_post(&encoded) {
            Ok(xml) => {
                let answer = IncomingRequest {
                    xml,
                    relay_state: form.relay_state,
                    redirect: None,
                    received_url: received_url(&state, &parts),
                    soap: false,
                };
                super::slo::logout_response(&state, &tenant, &answer, &parts.headers).await
            }
            Err(e) => malformed(format!(
                "The SAMLResponse could not be decoded ({}).",
                e.rule()
            )),
        };
    }
    let Some(encoded) = form.saml_request else {
        return malformed("The form carries no SAMLRequest.".into());
    };
    let xml = match sesame_saml::decode_post(&encoded) {
        Ok(x) => x,
        Err(e) => {
            return malformed(format!(
                "The SAMLRequest could not be decoded ({}).",
                e.rule()
            ));
        }
    };
    let incoming = IncomingRequest {
        xml,
        relay_state: form.relay_state,
        redirect: None,
        received_url: received_url(&state, &parts),
        soap: false,
    };
    handle_request(&state, &tenant, incoming, &parts, &cid).await
}

/// The SOAP binding's endpoint (bindings §3.2): an application's server POSTs a LogoutRequest
/// (profiles §4.4.3.4) and gets a LogoutResponse in the HTTP answer (an error status when the
/// request is refused); what is not a SOAP LogoutRequest gets a SOAP fault (HTTP 500, as SOAP
/// 1.1 §6.2 and bindings §3.2.3.3 require) with the code, the reason and the correlation id.
/// No browser, no page.
async fn slo_soap(
    State(state): State<AppState>,
    Path(tenant): Path<String>,
    cid: CorrelationId,
    parts: Parts,
    body: axum::body::Body,
) -> Response {
    use sesame_saml::bindings::SoapFaultCode;
    let fault = |fault: SoapFaultCode, code: &str, message: &str| {
        let reason = format!("{code}: {message} (correlation id {})", cid.0);
        soap_answer(
            StatusCode::INTERNAL_SERVER_ERROR,
            sesame_saml::bindings::soap_fault(fault, &reason),
        )
    };
    let tenant = match state.core.resolve_tenant(&tenant).await {
        Ok(t) => t,
        Err(e) => {
            let client = crate::error::status_of(&e).is_client_error();
            let code = if client {
                SoapFaultCode::Client
            } else {
                SoapFaultCode::Server
            };
            return fault(code, e.code(), "no such organisation, or unavailable");
        }
    };
    let malformed = sesame_core::sso::codes::MALFORMED_REQUEST;
    // Read here, bounded, so that too large is a SOAP fault too (not the router's plain 413).
    let Ok(body) = axum::body::to_bytes(body, sesame_saml::bindings::MAX_SOAP_BYTES).await else {
        return fault(
            SoapFaultCode::Client,
            malformed,
            "the SOAP message is too large or was cut short",
        );
    };
    let Ok(envelope) = std::str::from_utf8(&body).map(str::to_owned) else {
        return fault(
            SoapFaultCode::Client,
            malformed,
            "the SOAP message is not UTF-8",
        );
    };
    let received = received_url(&state, &parts);
    match state
        .core
        .soap_logout_request(&tenant, envelope, received, &meta(&parts, &cid))
        .await
    {
        Ok(answer) => soap_answer(StatusCode::OK, answer),
        Err((code, f)) => fault(code, f.code, &f.message),
    }
}

/// A SOAP answer: text/xml, never cached (bindings §3.2.3.2).
fn soap_answer(status: StatusCode, envelope: String) -> Response {
    (
        status,
        [
            (
                header::CONTENT_TYPE,
                sesame_saml::bindings::SOAP_CONTENT_TYPE,
            ),
            (header::CACHE_CONTROL, "no-cache, no-store"),
            (header::PRAGMA, "no-cache"),
        ],
        envelope,
    )
        .into_response()
}

/// The URL the request reached, in public terms (for the Destination check).
fn received_url(state: &AppState, parts: &Parts) -> String {
    format!("{}{}", state.config.public_url, parts.uri.path())
}

async fn handle_request(
    state: &AppState,
    tenant: &Tenant,
    incoming: IncomingRequest,
    parts: &Parts,
    cid: &CorrelationId,
) -> Response {
    let meta = meta(parts, cid);
    if sesame_core::Core::saml_message_name(&incoming.xml).as_deref() == Some("LogoutRequest") {
        return super::slo::logout_request(state, tenant, incoming, &parts.headers, &meta, cid)
            .await;
    }
    let pending = match state
        .core
        .accept_authn_request(tenant, incoming, &meta)
        .await
    {
        Ok(p) => p,
        Err(f) => return failure_page(&f, cid),
    };
    answer(state, tenant, pending, parts, cid).await
}

/// Answers a validated request: a Response when the session allows, NoPassive for a passive
/// request without one, otherwise the sign-in page first.
async fn answer(
    state: &AppState,
    tenant: &Tenant,
    pending: PendingSso,
    parts: &Parts,
    cid: &CorrelationId,
) -> Response {
    let meta = meta(parts, cid);
    let current = match current_user(state, tenant, &parts.headers, cid).await {
        Ok(c) => c,
        Err(page) => return page,
    };
    // The SP hears what its request asks that Sésame cannot give before anyone signs in.
    let answered = if pending.unsupported_name_id_format.is_some() {
        state
            .core
            .invalid_name_id_policy_response(tenant, &pending, &meta)
            .await
    } else if pending.unsatisfiable_authn_context {
        state
            .core
            .no_authn_context_response(tenant, &pending, &meta)
            .await
    } else {
        match current {
            Some((session, user)) if state.core.session_satisfies(&pending, &session) => {
                state
                    .core
                    .complete_sso(tenant, &pending, &session, &user, &meta)
                    .await
            }
            _ if pending.is_passive => {
                state
                    .core
                    .no_passive_response(tenant, &pending, &meta)
                    .await
            }
            _ => return sign_in_first(state, tenant, &pending, cid),
        }
    };
    match answered {
        Ok(post) => post_page(&post),
        Err(f) => failure_page(&f, cid),
    }
}

/// The sign-in page, with the sealed request to continue with afterwards.
fn sign_in_first(
    state: &AppState,
    tenant: &Tenant,
    pending: &PendingSso,
    cid: &CorrelationId,
) -> Response {
    match state.core.seal_context(PENDING, pending) {
        Ok(sealed) => to_login(
            tenant,
            &format!("/{}/saml2/continue?ctx={sealed}", tenant.id),
            None,
        ),
        Err(e) => error_page(
            crate::error::status_of(&e),
            e.code(),
            "Sign-in is unavailable right now.",
            cid,
        ),
    }
}

#[derive(Deserialize)]
struct ContinueQuery {
    ctx: String,
}

async fn sso_continue(
    State(state): State<AppState>,
    Path(tenant): Path<String>,
    Query(q): Query<ContinueQuery>,
    cid: CorrelationId,
    parts: Parts,
) -> Response {
    if let Some(refused) = refused_subresource(&parts.headers, &cid) {
        return refused;
    }
    let tenant = match tenant_or_page(&state, &tenant, &cid).await {
        Ok(t) => t,
        Err(page) => return page,
    };
    let Some(pending) = state.core.open_context::<PendingSso>(PENDING, &q.ctx) else {
        return error_page(
            StatusCode::BAD_REQUEST,
            "SESAME-3011",
            "This sign-in has expired. Go back to the application and sign in again.",
            &cid,
        );
    };
    let signed_in = matches!(current_user(&state, &tenant, &parts.headers, &cid).await, Ok(Some((ref s, _))) if state.core.session_satisfies(&pending, s));
    if !signed_in {
        // Still nobody (or not freshly enough for ForceAuthn): sign in again, then come back.
        return to_login(
            &tenant,
            &format!("/{}/saml2/continue?ctx={}", tenant.id, q.ctx),
            None,
        );
    }
    answer(&state, &tenant, pending, &parts, &cid).await
}

async fn launch(
    State(state): State<AppState>,
    Path((tenant, app)): Path<(String, String)>,
    cid: CorrelationId,
    parts: Parts,
) -> Response {
    if let Some(refused) = refused_subresource(&parts.headers, &cid) {
        return refused;
    }
    let tenant = match tenant_or_page(&state, &tenant, &cid).await {
        Ok(t) => t,
        Err(page) => return page,
    };
    let Ok(app) = app.parse::<AppId>() else {
        return error_page(
            StatusCode::NOT_FOUND,
            "SESAME-3001",
            "This application does not exist.",
            &cid,
        );
    };
    match current_user(&state, &tenant, &parts.headers, &cid).await {
        Ok(Some(_)) => {}
        Ok(None) => return to_login(&tenant, &format!("/{}/apps/{app}/launch", tenant.id), None),
        Err(page) => return page,
    }
    let pending = match state
        .core
        .idp_initiated(&tenant, app, &meta(&parts, &cid))
        .await
    {
        Ok(p) => p,
        Err(f) => return failure_page(&f, &cid),
    };
    answer(&state, &tenant, pending, &parts, &cid).await
}

#[derive(Deserialize)]
struct MetadataQuery {
    appid: Option<String>,
}

async fn metadata(
    State(state): State<AppState>,
    Path(tenant): Path<String>,
    Query(q): Query<MetadataQuery>,
    cid: CorrelationId,
) -> Response {
    let tenant = match tenant_or_page(&state, &tenant, &cid).await {
        Ok(t) => t,
        Err(page) => return page,
    };
    let xml = match q.appid.as_deref() {
        None => state.core.tenant_metadata(tenant.id).await,
        Some(a) => match a.parse::<AppId>() {
            Ok(app) => state.core.app_metadata(tenant.id, app).await,
            Err(_) => Err(sesame_core::CoreError::NotFound("app")),
        },
    };
    match xml {
        Ok(xml) => (
            StatusCode::OK,
            [
                (header::CONTENT_TYPE, "application/samlmetadata+xml"),
                (header::CACHE_CONTROL, "max-age=3600"),
            ],
            xml,
        )
            .into_response(),
        Err(e) => error_page(
            crate::error::status_of(&e),
            e.code(),
            "No SAML metadata for this application.",
            &cid,
        ),
    }
}
