//! Cookies of the sign-in pages: the SSO session (one per tenant) and the CSRF double-submit
//! token.
//! Over HTTPS they take the `__Host-` prefix (Secure, Path=/, no Domain), so no sibling host
//! can plant or overwrite them.

use axum::http::HeaderMap;
use axum::http::header::COOKIE;
use sesame_model::TenantId;

pub const SESSION: &str = "sesame_session";
pub const CSRF: &str = "sesame_csrf";

pub fn name(base: &str, https: bool) -> String {
    if https {
        format!("__Host-{base}")
    } else {
        base.to_string()
    }
}

/// The name of `tenant`'s SSO session cookie. One per tenant, as a realm's in Keycloak: signing
/// in to one tenant (a consultant with accounts in two) does not sign the browser out of the
/// other, and each tenant's sign-out ends only its own session. A name rather than a path
/// keeps the `__Host-` prefix, which requires `Path=/`.
pub fn session_name(tenant: TenantId, https: bool) -> String {
    name(&format!("{SESSION}_{}", tenant.0.simple()), https)
}

/// The `Set-Cookie` of `tenant`'s session: `Some(secret)` signs the browser in, `None` deletes
/// the cookie.
pub fn session_set(tenant: TenantId, https: bool, secret: Option<&str>) -> String {
    let name = session_name(tenant, https);
    match secret {
        Some(secret) => set(&name, secret, https, cross_site(https), None),
        None => set(&name, "", https, cross_site(https), Some(0)),
    }
}

/// The value of cookie `name` in the request, if sent once or more (the first wins).
pub fn get(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim().to_string())
}

/// `SameSite` of the cookies a SAML peer's cross-site POST must carry: the SSO session (an
/// AuthnRequest or LogoutRequest posted by an application on another site) and the logout
/// progress (an application's LogoutResponse). Browsers only send `SameSite=Lax` cookies on
/// top-level GETs from another site, and accept `None` only with `Secure`: over plain HTTP
/// (development on one host, where nothing is cross-site) they stay `Lax`. No form relies on
/// them alone: forms carry the `Strict` CSRF cookie's token.
pub fn cross_site(https: bool) -> &'static str {
    if https { "None" } else { "Lax" }
}

/// A `Set-Cookie` value. `max_age` of zero deletes the cookie; `None` makes a browser-session
/// cookie.
pub fn set(name: &str, value: &str, https: bool, same_site: &str, max_age: Option<i64>) -> String {
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite={same_site}");
    if https {
        c.push_str("; Secure");
    }
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn reads_named_cookie_among_others() {
        let mut h = HeaderMap::new();
        h.append(
            COOKIE,
            HeaderValue::from_static("a=1; sesame_session=xyz; _shibsession_1=q"),
        );
        assert_eq!(get(&h, SESSION).as_deref(), Some("xyz"));
        assert_eq!(get(&h, "missing"), None);
    }

    #[test]
    fn https_cookies_are_host_prefixed_and_secure() {
        assert_eq!(name(SESSION, true), "__Host-sesame_session");
        let c = set("__Host-sesame_session", "v", true, "Lax", None);
        assert!(c.contains("Secure") && c.contains("HttpOnly") && c.contains("SameSite=Lax"));
        assert!(!set("s", "v", false, "Lax", Some(0)).contains("Secure"));
    }

    #[test]
    fn each_tenant_has_its_own_session_cookie() {
        let a = TenantId(uuid::Uuid::from_u128(0xa));
        let b = TenantId(uuid::Uuid::from_u128(0xb));
        assert_ne!(session_name(a, true), session_name(b, true));
        assert_eq!(
            session_name(a, false),
            "sesame_session_0000000000000000000000000000000a"
        );
        assert!(session_name(a, true).starts_with("__Host-"));
        let set = session_set(a, true, Some("secret"));
        assert!(
            set.starts_with(&format!("{}=secret;", session_name(a, true))),
            "{set}"
        );
        assert!(session_set(a, true, None).contains("Max-Age=0"));
    }

    #[test]
    fn cross_site_cookies_are_none_only_when_secure() {
        let c = set("__Host-s", "v", true, cross_site(true), None);
        assert!(c.contains("SameSite=None") && c.contains("Secure"), "{c}");
        // Browsers drop `SameSite=None` without `Secure`.
        assert_eq!(cross_site(false), "Lax");
    }
}
