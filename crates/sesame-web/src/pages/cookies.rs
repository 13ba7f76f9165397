//! Cookies of the sign-in pages: the SSO session and the CSRF double-submit token.
//! Over HTTPS they take the `__Host-` prefix (Secure, Path=/, no Domain), so no sibling host
//! can plant or overwrite them.

use axum::http::HeaderMap;
use axum::http::header::COOKIE;

pub const SESSION: &str = "sesame_session";
pub const CSRF: &str = "sesame_csrf";

pub fn name(base: &str, https: bool) -> String {
    if https {
        format!("__Host-{base}")
    } else {
        base.to_string()
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
    fn cross_site_cookies_are_none_only_when_secure() {
        let c = set("__Host-s", "v", true, cross_site(true), None);
        assert!(c.contains("SameSite=None") && c.contains("Secure"), "{c}");
        // Browsers drop `SameSite=None` without `Secure`.
        assert_eq!(cross_site(false), "Lax");
    }
}
