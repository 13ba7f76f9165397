//! `/{tenant}/myapps`: who is signed in and the applications assigned to them (OPS-2), each
//! with its launch link (`/{tenant}/apps/{app}/launch`).

use super::{current_user, tenant_or_page, to_login};
use crate::html::{error_page, escape, html_response, page};
use crate::{AppState, CorrelationId};
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;

pub fn routes() -> Router<AppState> {
    Router::new().route("/{tenant}/myapps", get(myapps))
}

async fn myapps(
    State(state): State<AppState>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    cid: CorrelationId,
) -> Response {
    let tenant = match tenant_or_page(&state, &tenant, &cid).await {
        Ok(t) => t,
        Err(page) => return page,
    };
    let user = match current_user(&state, &tenant, &headers, &cid).await {
        Ok(Some((_, user))) => user,
        Ok(None) => return to_login(&tenant, &format!("/{}/myapps", tenant.id), None),
        Err(page) => return page,
    };
    let apps = match state.core.assigned_apps(tenant.id, user.id).await {
        Ok(a) => a,
        Err(e) => {
            return error_page(
                crate::error::status_of(&e),
                e.code(),
                "Your applications could not be listed.",
                &cid,
            );
        }
    };
    let mut list = String::new();
    for app in &apps {
        // Like Entra: an app with a sign-on URL is started at the app (SP-initiated);
        // otherwise Sésame sends it an unsolicited Response (IdP-initiated).
        let href = app
            .saml
            .as_ref()
            .and_then(|s| s.sign_on_url.clone())
            .unwrap_or_else(|| format!("/{}/apps/{}/launch", tenant.id, app.id));
        list.push_str(&format!(
            "<li><a href=\"{}\">{}</a></li>",
            escape(&href),
            escape(&app.name)
        ));
    }
    if apps.is_empty() {
        list.push_str("<li class=\"muted\">No application is assigned to you yet.</li>");
    }
    let body = format!(
        "<h1>My Apps</h1><p><strong>{}</strong><br><span class=\"muted\">{}</span></p>\
<ul id=\"apps\">{list}</ul><p><a href=\"/{}/logout\">Sign out</a></p>",
        escape(
            user.display_name
                .as_deref()
                .unwrap_or(&user.user_principal_name)
        ),
        escape(&user.user_principal_name),
        tenant.id,
    );
    html_response(StatusCode::OK, page("My Apps", &body))
}
