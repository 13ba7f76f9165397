//! Server-rendered pages: one layout, escaped values, no JavaScript required.

use crate::CorrelationId;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

/// Escapes text for HTML element content and double-quoted attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;background:#f3f4f6;margin:0}\
main{max-width:26rem;margin:4rem auto;background:#fff;padding:2rem;border-radius:8px;box-shadow:0 1px 4px #0002}\
h1{font-size:1.4rem;margin-top:0}label{display:block;margin:.8rem 0 .3rem}\
input[type=text],input[type=email],input[type=password]{width:100%;box-sizing:border-box;padding:.5rem;font-size:1rem}\
button{margin-top:1rem;padding:.5rem 1.2rem;font-size:1rem;background:#1d4ed8;color:#fff;border:0;border-radius:4px}\
.error{color:#b91c1c;background:#fef2f2;padding:.6rem;border-radius:4px}.muted{color:#6b7280;font-size:.85rem}";

/// A complete page around `body` (already escaped HTML).
pub fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
<title>{} · Sésame</title><style>{STYLE}</style></head><body><main>{body}</main></body></html>",
        escape(title)
    )
}

/// Pages must not be framed (clickjacking) nor cached (they carry CSRF tokens); their forms
/// post to Sésame only.
pub fn html_response(status: StatusCode, html: String) -> Response {
    page_response(
        status,
        html,
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
    )
}

/// A page whose form posts to Sésame, which answers with a redirect to another site (a
/// sign-out that goes on to an application or an identity provider). `form-action` also
/// applies to the redirects that follow a submission (CSP 3, form-action; Chromium enforces
/// it), so it is left out; the page runs no script.
pub fn html_response_leaving_site(status: StatusCode, html: String) -> Response {
    page_response(
        status,
        html,
        "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
    )
}

fn page_response(status: StatusCode, html: String, csp: &'static str) -> Response {
    let mut res = (status, Html(html)).into_response();
    let h = res.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(csp),
    );
    h.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    res
}

/// A readable error page with its code and correlation id.
pub fn error_page(status: StatusCode, code: &str, message: &str, cid: &CorrelationId) -> Response {
    let body = format!(
        "<h1>Sign-in problem</h1><p class=\"error\">{}</p>\
<p class=\"muted\">Error code: <code>{}</code><br>Correlation id: <code>{}</code></p>",
        escape(message),
        escape(code),
        escape(&cid.0)
    );
    html_response(status, page("Error", &body))
}
