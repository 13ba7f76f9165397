//! The SAML IdP through the router: SP-initiated (Redirect and POST), the sign-in round trip,
//! IdP-initiated launch, and every refusal path (an error page with a code, no Response, a
//! sign-in log entry).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use base64::Engine;
use common::*;
use serde_json::{Value, json};
use sesame_core::slo::SoapReply;
use sesame_saml::{MessageKind, encode_redirect};
use sesame_xmlsec::{ElementPath, SignatureAlgorithm, SigningKey, TrustedKeys, VerifyPolicy};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tower::ServiceExt;

const SP: &str = "https://sp.example/sp";
const ACS: &str = "https://sp.example/acs";
const KEYS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../sesame-saml/testdata/keys");
const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

struct Browser {
    cookies: HashMap<String, String>,
}

struct Page {
    status: StatusCode,
    location: Option<String>,
    text: String,
    set_cookies: Vec<String>,
    csp: String,
}

impl Browser {
    fn new() -> Self {
        Browser {
            cookies: HashMap::new(),
        }
    }

    async fn send(&mut self, api: &Api, method: &str, uri: &str, form: Option<String>) -> Page {
        self.send_with(api, method, uri, form, &[]).await
    }

    /// [`Browser::send`] with headers a browser adds on its own (Fetch Metadata…).
    async fn send_with(
        &mut self,
        api: &Api,
        method: &str,
        uri: &str,
        form: Option<String>,
        headers: &[(&str, &str)],
    ) -> Page {
        let mut req = Request::builder().method(method).uri(uri);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if !self.cookies.is_empty() {
            let c: Vec<String> = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            req = req.header("cookie", c.join("; "));
        }
        let req = match form {
            Some(f) => req
                .header("content-type", "application/x-www-form-urlencoded")
                .body(Body::from(f)),
            None => req.body(Body::empty()),
        }
        .unwrap();
        let res = api.router.clone().oneshot(req).await.unwrap();
        let mut set_cookies = Vec::new();
        for v in res.headers().get_all("set-cookie") {
            let v = v.to_str().unwrap();
            set_cookies.push(v.to_string());
            let (kv, _) = v.split_once(';').unwrap_or((v, ""));
            let (k, val) = kv.split_once('=').unwrap();
            if v.contains("Max-Age=0") {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_string(), val.to_string());
            }
        }
        let status = res.status();
        let location = res
            .headers()
            .get("location")
            .map(|l| l.to_str().unwrap().to_string());
        let csp = res
            .headers()
            .get("content-security-policy")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
            .await
            .unwrap();
        Page {
            status,
            location,
            text: String::from_utf8_lossy(&bytes).into_owned(),
            set_cookies,
            csp,
        }
    }

    async fn get(&mut self, api: &Api, uri: &str) -> Page {
        self.send(api, "GET", uri, None).await
    }

    /// Signs in from the sign-in page's URL `login` (with its `continue`), checks that the
    /// sign-in sends the browser on there, and follows.
    async fn sign_in_and_continue(&mut self, api: &Api, tenant: &str, login: &str) -> Page {
        let continue_to = login
            .split("continue=")
            .nth(1)
            .unwrap()
            .replace("%2F", "/")
            .replace("%3F", "?")
            .replace("%3D", "=");
        let signed_in = self.sign_in(api, tenant, Some(&continue_to)).await;
        assert_eq!(signed_in.location.as_deref(), Some(continue_to.as_str()));
        self.get(api, &continue_to).await
    }

    /// Signs in through the form; `continue_to` is followed when given.
    async fn sign_in(&mut self, api: &Api, tenant: &str, continue_to: Option<&str>) -> Page {
        self.sign_in_as(api, tenant, "alice@contoso.example", continue_to)
            .await
    }

    async fn sign_in_as(
        &mut self,
        api: &Api,
        tenant: &str,
        upn: &str,
        continue_to: Option<&str>,
    ) -> Page {
        let login = self.get(api, &format!("/{tenant}/login")).await;
        let csrf = field(&login.text, "csrf").unwrap();
        let mut form = format!(
            "csrf={csrf}&username={}&password=Correct-Horse-1",
            urlencode(upn)
        );
        if let Some(c) = continue_to {
            form.push_str(&format!("&continue={}", urlencode(c)));
        }
        let page = self
            .send(api, "POST", &format!("/{tenant}/login"), Some(form))
            .await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text);
        page
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn field(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    Some(
        html[start..]
            .split('"')
            .next()?
            .replace("&amp;", "&")
            .replace("&#43;", "+")
            .replace("&#x2B;", "+"),
    )
}

/// The SAMLResponse XML of an auto-post page.
fn posted_response(page: &Page) -> String {
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    let b64 = field(&page.text, "SAMLResponse")
        .unwrap_or_else(|| panic!("no SAMLResponse in {}", page.text));
    String::from_utf8(B64.decode(b64).unwrap()).unwrap()
}

fn assert_refused(page: &Page, status: StatusCode, code: &str) {
    assert_eq!(page.status, status, "{}", page.text);
    assert!(page.text.contains(code), "expected {code} in {}", page.text);
    assert!(
        !page.text.contains("SAMLResponse"),
        "no Response after a refusal"
    );
    assert!(page.location.is_none(), "never a redirect");
}

struct World {
    api: Api,
    public_url: String,
    tenant: String,
    app: String,
}

async fn world(settings_patch: Value) -> World {
    world_at("http://127.0.0.1:8080", settings_patch).await
}

async fn world_at(public_url: &str, settings_patch: Value) -> World {
    world_with(public_url, settings_patch, None).await
}

async fn world_with(
    public_url: &str,
    settings_patch: Value,
    soap: Option<Arc<dyn sesame_core::slo::SoapClient>>,
) -> World {
    let api = api_with(public_url, soap).await;
    let t = api
        .json(
            "POST",
            "/api/v1/tenants",
            json!({ "name": "Contoso", "initialDomain": "contoso.example" }),
        )
        .await;
    let tenant = t.body["id"].as_str().unwrap().to_string();
    let base = format!("/api/v1/tenants/{tenant}");
    let u = api
        .json("POST", &format!("{base}/users"), json!({
            "userPrincipalName": "alice@contoso.example", "givenName": "Alice", "surname": "Martin",
            "mail": "alice@contoso.example", "password": "Correct-Horse-1"
        }))
        .await;
    assert_eq!(u.status, StatusCode::CREATED, "{}", u.text);
    let mut settings = json!({
        "identifiers": [SP],
        "replyUrls": [{ "url": ACS, "index": 0, "isDefault": true }, { "url": "https://sp.example/acs2", "index": 1 }],
        "logoutUrl": "https://sp.example/slo",
        "relayState": "home",
    });
    for (k, v) in settings_patch.as_object().unwrap() {
        settings[k] = v.clone();
    }
    let a = api
        .json(
            "POST",
            &format!("{base}/apps/saml"),
            json!({ "name": "Sample SP", "settings": settings }),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    let app = a.body["app"]["id"].as_str().unwrap().to_string();
    World {
        api,
        public_url: public_url.to_string(),
        tenant,
        app,
    }
}

impl World {
    async fn assign(&self) {
        let r = self
            .api
            .json("POST", &format!("/api/v1/tenants/{}/apps/{}/assignments", self.tenant, self.app), json!({
                "principalType": "user",
                "principalId": self.api.get(&format!("/api/v1/tenants/{}/users/alice@contoso.example", self.tenant)).await.body["id"],
            }))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    }

    /// A second SAML app (`https://two.example/sp`, with a logout URL) assigned to Alice.
    /// Another tenant, Fabrikam, where alice@fabrikam.example can sign in.
    async fn second_tenant(&self) -> String {
        let second = self
            .api
            .json(
                "POST",
                "/api/v1/tenants",
                json!({ "name": "Fabrikam", "initialDomain": "fabrikam.example" }),
            )
            .await;
        let second = second.body["id"].as_str().unwrap().to_string();
        let user = self
            .api
            .json("POST", &format!("/api/v1/tenants/{second}/users"), json!({
                "userPrincipalName": "alice@fabrikam.example", "givenName": "Alice", "surname": "Martin",
                "password": "Correct-Horse-1"
            }))
            .await;
        assert_eq!(user.status, StatusCode::CREATED, "{}", user.text);
        second
    }

    /// Another application with a logout URL, `settings` overriding its defaults, assigned to alice.
    async fn second_app_with_logout(&self, settings: Value) -> String {
        let mut all = json!({
            "identifiers": ["https://two.example/sp"],
            "replyUrls": [{ "url": "https://two.example/acs", "index": 0, "isDefault": true }],
            "logoutUrl": "https://two.example/slo",
        });
        all.as_object_mut()
            .unwrap()
            .extend(settings.as_object().unwrap().clone());
        let second = self
            .api
            .json(
                "POST",
                &format!("/api/v1/tenants/{}/apps/saml", self.tenant),
                json!({ "name": "Second", "settings": all }),
            )
            .await;
        let app = second.body["app"]["id"].as_str().unwrap().to_string();
        let user = self
            .api
            .get(&format!(
                "/api/v1/tenants/{}/users/alice@contoso.example",
                self.tenant
            ))
            .await
            .body["id"]
            .clone();
        self.api
            .json(
                "POST",
                &format!("/api/v1/tenants/{}/apps/{app}/assignments", self.tenant),
                json!({ "principalType": "user", "principalId": user }),
            )
            .await;
        app
    }

    fn sso(&self) -> String {
        format!("/{}/saml2", self.tenant)
    }

    fn request(&self, acs: &str, extra: &str) -> String {
        authn_request(
            &format!("{}/{}/saml2", self.public_url, self.tenant),
            acs,
            SP,
            extra,
            time::OffsetDateTime::now_utc(),
        )
    }

    fn redirect(&self, xml: &str, sign: Option<&SigningKey>) -> String {
        let q = encode_redirect(
            xml,
            MessageKind::Request,
            Some("rs-1"),
            sign.map(|k| (k, SignatureAlgorithm::RsaSha256)),
        )
        .unwrap();
        format!("{}?{q}", self.sso())
    }

    async fn certificate(&self) -> Vec<u8> {
        self.certificate_of(&self.app).await
    }

    /// The active signing certificate of `app` (DER).
    async fn certificate_of(&self, app: &str) -> Vec<u8> {
        let certs = self
            .api
            .get(&format!(
                "/api/v1/tenants/{}/apps/{app}/saml/certificates",
                self.tenant
            ))
            .await;
        let active = certs.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["active"] == true)
            .unwrap()
            .clone();
        B64.decode(active["certificate"].as_str().unwrap()).unwrap()
    }

    async fn log_reasons(&self) -> Vec<String> {
        let log = self
            .api
            .get(&format!("/api/v1/tenants/{}/signins", self.tenant))
            .await;
        log.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["reason"].as_str().unwrap_or("").to_string())
            .collect()
    }
}

fn authn_request(
    destination: &str,
    acs: &str,
    issuer: &str,
    extra: &str,
    at: time::OffsetDateTime,
) -> String {
    let instant = at
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    format!(
        r#"<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_req1" Version="2.0" IssueInstant="{instant}" Destination="{destination}" AssertionConsumerServiceURL="{acs}" ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" {extra}><saml:Issuer>{issuer}</saml:Issuer></samlp:AuthnRequest>"#
    )
}

fn sp_key(name: &str) -> SigningKey {
    let key = std::fs::read_to_string(format!("{KEYS}/{name}.key.pem")).unwrap();
    let cert = std::fs::read_to_string(format!("{KEYS}/{name}.cert.pem")).unwrap();
    SigningKey::from_pem(&key, &cert).unwrap()
}

#[tokio::test]
async fn sp_initiated_redirect_with_sign_in_round_trip() {
    let w = world(json!({})).await;
    w.assign().await;
    let mut b = Browser::new();
    // Nobody signed in: to the sign-in page, with a sealed context to come back to.
    let first = b.get(&w.api, &w.redirect(&w.request(ACS, ""), None)).await;
    assert_eq!(first.status, StatusCode::SEE_OTHER);
    let login = first.location.unwrap();
    assert!(
        login.starts_with(&format!("/{}/login?continue=", w.tenant)),
        "{login}"
    );
    let page = b.sign_in_and_continue(&w.api, &w.tenant, &login).await;
    let xml = posted_response(&page);
    assert!(
        page.text.contains(&format!("action=\"{ACS}\"")),
        "{}",
        page.text
    );
    assert_eq!(field(&page.text, "RelayState").as_deref(), Some("rs-1"));
    for needle in [
        "InResponseTo=\"_req1\"",
        &format!("Destination=\"{ACS}\""),
        &format!("<saml:Audience>{SP}</saml:Audience>"),
        &format!("http://127.0.0.1:8080/{}/", w.tenant),
        "alice@contoso.example",
        "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport",
        "urn:oasis:names:tc:SAML:2.0:status:Success",
    ] {
        assert!(xml.contains(needle), "missing {needle} in {xml}");
    }
    // The assertion is signed by the app's active certificate: verified, it names Alice.
    let mut trusted = TrustedKeys::new();
    trusted.add_certificate_der(&w.certificate().await).unwrap();
    let path = ElementPath::root(sesame_saml::ns::PROTOCOL, "Response")
        .child(sesame_saml::ns::ASSERTION, "Assertion");
    let verified =
        sesame_xmlsec::verify_enveloped(&xml, &path, &trusted, &VerifyPolicy::default()).unwrap();
    assert!(
        verified
            .get()
            .canonical_xml()
            .contains("alice@contoso.example")
    );
    // Already signed in: the next request is answered at once.
    let again = b.get(&w.api, &w.redirect(&w.request(ACS, ""), None)).await;
    posted_response(&again);
    assert!(
        w.log_reasons().await.iter().any(|r| r.is_empty()),
        "a success entry"
    );
}

#[tokio::test]
async fn post_binding_and_acs_by_index() {
    let w = world(json!({})).await;
    w.assign().await;
    let mut b = Browser::new();
    b.sign_in(&w.api, &w.tenant, None).await;
    let xml = w.request(ACS, "").replace(&format!(" AssertionConsumerServiceURL=\"{ACS}\" ProtocolBinding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST\""), " AssertionConsumerServiceIndex=\"1\"");
    let form = format!("SAMLRequest={}&RelayState=x", urlencode(&B64.encode(&xml)));
    let page = b.send(&w.api, "POST", &w.sso(), Some(form)).await;
    posted_response(&page);
    assert!(
        page.text.contains("action=\"https://sp.example/acs2\""),
        "{}",
        page.text
    );
}

#[tokio::test]
async fn refusals_are_error_pages_with_codes_and_log_entries() {
    let w = world(json!({})).await;
    let mut b = Browser::new();
    b.sign_in(&w.api, &w.tenant, None).await;
    // User not assigned (SAML-IDP-9).
    let page = b.get(&w.api, &w.redirect(&w.request(ACS, ""), None)).await;
    assert_refused(&page, StatusCode::FORBIDDEN, "SESAME-3005");
    w.assign().await;
    // Unregistered ACS.
    let page = b
        .get(
            &w.api,
            &w.redirect(&w.request("https://evil.example/acs", ""), None),
        )
        .await;
    assert_refused(&page, StatusCode::BAD_REQUEST, "SESAME-3003");
    // Unknown SP.
    let xml = authn_request(
        &format!("http://127.0.0.1:8080/{}/saml2", w.tenant),
        ACS,
        "https://unknown.example",
        "",
        time::OffsetDateTime::now_utc(),
    );
    let page = b.get(&w.api, &w.redirect(&xml, None)).await;
    assert_refused(&page, StatusCode::BAD_REQUEST, "SESAME-3001");
    // Stale request, wrong Destination.
    let old = authn_request(
        &format!("http://127.0.0.1:8080/{}/saml2", w.tenant),
        ACS,
        SP,
        "",
        time::OffsetDateTime::now_utc() - time::Duration::hours(1),
    );
    assert_refused(
        &b.get(&w.api, &w.redirect(&old, None)).await,
        StatusCode::BAD_REQUEST,
        "SESAME-3008",
    );
    let elsewhere = authn_request(
        "https://other.example/saml2",
        ACS,
        SP,
        "",
        time::OffsetDateTime::now_utc(),
    );
    assert_refused(
        &b.get(&w.api, &w.redirect(&elsewhere, None)).await,
        StatusCode::BAD_REQUEST,
        "SESAME-3008",
    );
    // Garbage and a DOCTYPE.
    assert_refused(
        &b.get(&w.api, &format!("{}?SAMLRequest=%%%", w.sso())).await,
        StatusCode::BAD_REQUEST,
        "SESAME-3002",
    );
    let doctype = format!("<!DOCTYPE x [<!ENTITY a \"b\">]>{}", w.request(ACS, ""));
    assert_refused(
        &b.get(&w.api, &w.redirect(&doctype, None)).await,
        StatusCode::BAD_REQUEST,
        "SESAME-3002",
    );
    // Instants at the end of what can be represented: an offset that moves the last second of
    // year 9999 past it is malformed, and a far-future instant is no reason to fail.
    let request = w.request(ACS, "");
    let at = request.find("IssueInstant=\"").unwrap() + "IssueInstant=\"".len();
    let end = at + request[at..].find('"').unwrap();
    let past_9999 = format!(
        "{}9999-12-31T23:59:59-01:00{}",
        &request[..at],
        &request[end..]
    );
    assert_refused(
        &b.get(&w.api, &w.redirect(&past_9999, None)).await,
        StatusCode::BAD_REQUEST,
        "SESAME-3002",
    );
    // Disabled app.
    let r = w
        .api
        .json(
            "PATCH",
            &format!("/api/v1/tenants/{}/apps/{}", w.tenant, w.app),
            json!({ "enabled": false }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_refused(
        &b.get(&w.api, &w.redirect(&w.request(ACS, ""), None)).await,
        StatusCode::FORBIDDEN,
        "SESAME-3006",
    );
    let reasons = w.log_reasons().await;
    for code in [
        "SESAME-3001",
        "SESAME-3003",
        "SESAME-3005",
        "SESAME-3006",
        "SESAME-3008",
    ] {
        assert!(
            reasons.iter().any(|r| r.starts_with(code)),
            "no log entry for {code}: {reasons:?}"
        );
    }
}

#[tokio::test]
async fn signed_requests_when_required() {
    let cert = std::fs::read_to_string(format!("{KEYS}/sp.cert.pem")).unwrap();
    let w =
        world(json!({ "requireSignedRequests": true, "verificationCertificates": [cert] })).await;
    w.assign().await;
    let mut b = Browser::new();
    b.sign_in(&w.api, &w.tenant, None).await;
    let xml = w.request(ACS, "");
    assert_refused(
        &b.get(&w.api, &w.redirect(&xml, None)).await,
        StatusCode::BAD_REQUEST,
        "SESAME-3004",
    );
    assert_refused(
        &b.get(&w.api, &w.redirect(&xml, Some(&sp_key("idp2"))))
            .await,
        StatusCode::BAD_REQUEST,
        "SESAME-3004",
    );
    // A tampered signed query: RelayState changed after signing.
    let tampered = w
        .redirect(&xml, Some(&sp_key("sp")))
        .replace("RelayState=rs-1", "RelayState=rs-2");
    assert_refused(
        &b.get(&w.api, &tampered).await,
        StatusCode::BAD_REQUEST,
        "SESAME-3004",
    );
    posted_response(&b.get(&w.api, &w.redirect(&xml, Some(&sp_key("sp")))).await);
    // POST binding: an unsigned request is refused, an enveloped-signed one accepted.
    let form = format!("SAMLRequest={}", urlencode(&B64.encode(&xml)));
    assert_refused(
        &b.send(&w.api, "POST", &w.sso(), Some(form)).await,
        StatusCode::BAD_REQUEST,
        "SESAME-3004",
    );
    let opts = sesame_xmlsec::SignOptions::default();
    let signed = sesame_xmlsec::sign_enveloped(
        &xml,
        &ElementPath::root(sesame_saml::ns::PROTOCOL, "AuthnRequest"),
        &sp_key("sp"),
        &opts,
    )
    .unwrap();
    let form = format!("SAMLRequest={}", urlencode(&B64.encode(&signed)));
    posted_response(&b.send(&w.api, "POST", &w.sso(), Some(form)).await);
}

/// SPs send URLs as RelayState, longer than the 80 bytes bindings §3.4.3 asks of senders: up
/// to 1,024 bytes it comes back unchanged, through the sign-in page too (the sealed context in
/// the continue URL has room for it); longer, the request is refused, as a LogoutRequest's.
#[tokio::test]
async fn long_relay_states_survive_the_sign_in() {
    let w = world(json!({})).await;
    w.assign().await;
    let relay = format!("https://sp.example/return?to={}", "a".repeat(995));
    assert_eq!(relay.len(), 1024);
    let sso = |xml: &str, relay: &str| {
        let q = encode_redirect(xml, MessageKind::Request, Some(relay), None).unwrap();
        format!("{}?{q}", w.sso())
    };
    let mut b = Browser::new();
    let first = b.get(&w.api, &sso(&w.request(ACS, ""), &relay)).await;
    assert_eq!(first.status, StatusCode::SEE_OTHER, "{}", first.text);
    let login = first.location.unwrap();
    let page = b.sign_in_and_continue(&w.api, &w.tenant, &login).await;
    posted_response(&page);
    assert_eq!(
        field(&page.text, "RelayState").as_deref(),
        Some(relay.as_str())
    );
    let longer = format!("{relay}b");
    assert_refused(
        &b.get(&w.api, &sso(&w.request(ACS, ""), &longer)).await,
        StatusCode::BAD_REQUEST,
        "SESAME-3002",
    );
    let name_id = name_id_and_session_index(&posted_response(&page)).0;
    let logout = logout_request_xml(&w, "_lo-long", &name_id, None);
    assert_refused(
        &b.get(&w.api, &sso(&logout, &longer)).await,
        StatusCode::BAD_REQUEST,
        "SESAME-3002",
    );
    // Control characters: refused alike (each would take six bytes once sealed).
    let control = format!("https://sp.example/return?{}", "\u{1}".repeat(10));
    for xml in [w.request(ACS, ""), logout.clone()] {
        assert_refused(
            &b.get(&w.api, &sso(&xml, &control)).await,
            StatusCode::BAD_REQUEST,
            "SESAME-3002",
        );
    }
    assert_eq!(
        b.get(&w.api, &format!("/{}/", w.tenant)).await.status,
        StatusCode::OK,
        "still signed in"
    );
    // The longest RelayState to seal (every byte escaped in JSON) still goes through the
    // sign-in page, and through a logout's progress cookie, with the longest request ID.
    let quotes = "\"".repeat(1024);
    let second = w.second_app_with_logout(json!({})).await;
    let mut fresh = Browser::new();
    let first = fresh.get(&w.api, &sso(&w.request(ACS, ""), &quotes)).await;
    let page = fresh
        .sign_in_and_continue(&w.api, &w.tenant, &first.location.unwrap())
        .await;
    assert_eq!(
        field(&page.text, "RelayState").map(|r| r.replace("&quot;", "\"")),
        Some(quotes.clone())
    );
    posted_response(
        &fresh
            .get(&w.api, &format!("/{}/apps/{second}/launch", w.tenant))
            .await,
    );
    let index = name_id_and_session_index(&posted_response(&page)).1;
    let id = format!("_{}", "i".repeat(255));
    let logout = logout_request_xml(&w, &id, &name_id, Some(&index));
    let hop = fresh.get(&w.api, &sso(&logout, &quotes)).await;
    let to_second = hop.location.unwrap_or_else(|| panic!("{}", hop.text));
    let progress = hop
        .set_cookies
        .iter()
        .find(|c| c.starts_with("sesame_slo_"))
        .unwrap();
    assert!(
        progress.split(';').next().unwrap().len() <= 4_096,
        "{progress}"
    );
    let request = sesame_saml::decode_redirect(to_second.split_once('?').unwrap().1).unwrap();
    let request = sesame_saml::parse_logout_request(&request.xml).unwrap();
    let answer = second_logout_response(&request.header.id, "https://two.example/sp");
    let q = encode_redirect(&answer, MessageKind::Response, None, None).unwrap();
    let last = fresh.get(&w.api, &format!("{}?{q}", w.sso())).await;
    let to = last.location.unwrap_or_else(|| panic!("{}", last.text));
    assert!(to.starts_with("https://sp.example/slo?"), "{to}");
    let back = sesame_saml::decode_redirect(to.split_once('?').unwrap().1).unwrap();
    assert_eq!(back.relay_state.as_deref(), Some(quotes.as_str()));
    let status = sesame_saml::parse_logout_response(&back.xml).unwrap();
    assert_eq!(status.in_response_to.as_deref(), Some(id.as_str()));
    assert_eq!(status.status.sub_code, None);
}

/// A signed request must carry its Destination (bindings §3.4.5.2, §3.5.5.2), even when the
/// app does not require signatures: an enveloped-signed POST without one is refused.
#[tokio::test]
async fn signed_requests_name_their_destination() {
    let cert = std::fs::read_to_string(format!("{KEYS}/sp.cert.pem")).unwrap();
    let w = world(json!({ "verificationCertificates": [cert] })).await;
    w.assign().await;
    let mut b = Browser::new();
    b.sign_in(&w.api, &w.tenant, None).await;
    let sign = |xml: &str| {
        let signed = sesame_xmlsec::sign_enveloped(
            xml,
            &ElementPath::root(sesame_saml::ns::PROTOCOL, "AuthnRequest"),
            &sp_key("sp"),
            &sesame_xmlsec::SignOptions::default(),
        )
        .unwrap();
        format!("SAMLRequest={}", urlencode(&B64.encode(&signed)))
    };
    let xml = w.request(ACS, "");
    let destination = format!("Destination=\"{}/{}/saml2\" ", w.public_url, w.tenant);
    let nowhere = xml.replace(&destination, "");
    assert_ne!(nowhere, xml);
    assert_refused(
        &b.send(&w.api, "POST", &w.sso(), Some(sign(&nowhere))).await,
        StatusCode::BAD_REQUEST,
        "SESAME-3008",
    );
    // Unsigned, the Destination may be left out (core §3.2.1: optional).
    let form = format!("SAMLRequest={}", urlencode(&B64.encode(&nowhere)));
    posted_response(&b.send(&w.api, "POST", &w.sso(), Some(form)).await);
    posted_response(&b.send(&w.api, "POST", &w.sso(), Some(sign(&xml))).await);
}

/// An AuthnRequest's `<Subject>` names the principal the assertion must be about (SAML core
/// §3.4.1): the signed-in user gets the Response; someone else is answered `AuthnFailed`,
/// without an assertion; an identifier Sésame cannot compare is refused.
#[tokio::test]
async fn the_requested_subject_must_be_the_signed_in_user() {
    let w = world(json!({})).await;
    w.assign().await;
    let mut b = Browser::new();
    b.sign_in(&w.api, &w.tenant, None).await;
    let asking_for = |who: &str| {
        w.request(ACS, "").replace(
            "</saml:Issuer>",
            &format!("</saml:Issuer><saml:Subject>{who}</saml:Subject>"),
        )
    };
    let alice = asking_for("<saml:NameID>alice@contoso.example</saml:NameID>");
    let xml = posted_response(&b.get(&w.api, &w.redirect(&alice, None)).await);
    assert!(
        xml.contains("status:Success") && xml.contains("Assertion"),
        "{xml}"
    );
    let bob = asking_for("<saml:NameID>bob@contoso.example</saml:NameID>");
    let page = b.get(&w.api, &w.redirect(&bob, None)).await;
    assert_error_response(&w, &page, "AuthnFailed", "SESAME-3015").await;
    let encrypted = asking_for("<saml:EncryptedID>x</saml:EncryptedID>");
    assert_refused(
        &b.get(&w.api, &w.redirect(&encrypted, None)).await,
        StatusCode::BAD_REQUEST,
        "SESAME-3002",
    );
}

/// IsPassive from a user who is not assigned to the app: no error page takes over the screen
/// (SAML core §3.4.1); the SP gets a `RequestDenied` Response and the refusal is logged.
#[tokio::test]
async fn passive_requests_of_unassigned_users_get_a_response_not_a_page() {
    let w = world(json!({})).await;
    let mut b = Browser::new();
    b.sign_in(&w.api, &w.tenant, None).await;
    let passive = w.request(ACS, "IsPassive=\"true\"");
    let page = b.get(&w.api, &w.redirect(&passive, None)).await;
    assert_error_response(&w, &page, "RequestDenied", "SESAME-3005").await;
}

#[tokio::test]
async fn unsupported_name_id_policies_get_a_response_not_a_page() {
    let w = world(json!({})).await;
    w.assign().await;
    let mut b = Browser::new();
    // SAML core §3.4.1.1: the SP hears InvalidNameIDPolicy (under Requester) at its ACS, whether
    // or not somebody is signed in, and with its RelayState.
    for format in [
        "urn:example:weird",
        "urn:oasis:names:tc:SAML:2.0:nameid-format:encrypted",
    ] {
        let policy = w.request(ACS, "").replace(
            "</samlp:AuthnRequest>",
            &format!("<samlp:NameIDPolicy Format=\"{format}\"/></samlp:AuthnRequest>"),
        );
        let page = b.get(&w.api, &w.redirect(&policy, None)).await;
        assert_error_response(&w, &page, "InvalidNameIDPolicy", "SESAME-3007").await;
        let xml = posted_response(&page);
        assert!(
            xml.contains(
                "<samlp:StatusCode Value=\"urn:oasis:names:tc:SAML:2.0:status:Requester\">"
            ),
            "{xml}"
        );
        assert_eq!(field(&page.text, "RelayState").as_deref(), Some("rs-1"));
        if format == "urn:example:weird" {
            b.sign_in(&w.api, &w.tenant, None).await;
        }
    }
    // A supported format still signs in.
    let transient = w.request(ACS, "").replace(
        "</samlp:AuthnRequest>",
        "<samlp:NameIDPolicy Format=\"urn:oasis:names:tc:SAML:2.0:nameid-format:transient\"/></samlp:AuthnRequest>",
    );
    let page = b.get(&w.api, &w.redirect(&transient, None)).await;
    assert!(posted_response(&page).contains("Assertion"));
}

/// A Response page carrying an error: second-level status `status`, no assertion, and the
/// newest log entry with `code`.
async fn assert_error_response(w: &World, page: &Page, status: &str, code: &str) {
    let xml = posted_response(page);
    assert!(
        xml.contains(&format!("urn:oasis:names:tc:SAML:2.0:status:{status}")),
        "{xml}"
    );
    assert!(!xml.contains("Assertion"), "{xml}");
    let reasons = w.log_reasons().await;
    assert!(
        reasons.first().is_some_and(|r| r.starts_with(code)),
        "the newest log entry is not {code}: {reasons:?}"
    );
}

#[tokio::test]
async fn is_passive_and_force_authn() {
    let w = world(json!({})).await;
    w.assign().await;
    let mut b = Browser::new();
    // IsPassive without a session: a NoPassive Response to the ACS, not the sign-in page.
    let page = b
        .get(
            &w.api,
            &w.redirect(&w.request(ACS, "IsPassive=\"true\""), None),
        )
        .await;
    let xml = posted_response(&page);
    assert!(
        xml.contains("urn:oasis:names:tc:SAML:2.0:status:NoPassive"),
        "{xml}"
    );
    assert!(!xml.contains("Assertion"), "{xml}");
    // ForceAuthn with a session, even one opened in the same second: the password is asked
    // again; and after signing in again through `continue`, the Response comes.
    b.sign_in(&w.api, &w.tenant, None).await;
    let page = b
        .get(
            &w.api,
            &w.redirect(&w.request(ACS, "ForceAuthn=\"true\""), None),
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    let login = page.location.unwrap();
    assert!(login.contains("/login?continue="), "{login}");
    posted_response(&b.sign_in_and_continue(&w.api, &w.tenant, &login).await);
}

#[tokio::test]
async fn idp_initiated_launch_portal_and_metadata() {
    let w = world(json!({})).await;
    let mut b = Browser::new();
    let launch = format!("/{}/apps/{}/launch", w.tenant, w.app);
    let page = b.get(&w.api, &launch).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "sign in first");
    b.sign_in(&w.api, &w.tenant, None).await;
    assert_refused(
        &b.get(&w.api, &launch).await,
        StatusCode::FORBIDDEN,
        "SESAME-3005",
    );
    w.assign().await;
    let page = b.get(&w.api, &launch).await;
    let xml = posted_response(&page);
    assert!(!xml.contains("InResponseTo"), "unsolicited: {xml}");
    assert_eq!(field(&page.text, "RelayState").as_deref(), Some("home"));
    let portal = b.get(&w.api, &format!("/{}/myapps", w.tenant)).await;
    assert!(
        portal.text.contains("Sample SP") && portal.text.contains(&launch),
        "{}",
        portal.text
    );
    assert!(portal.text.contains("alice@contoso.example"));
    // Rollover: a second certificate is published at once, the first stays active.
    let added = w
        .api
        .json(
            "POST",
            &format!(
                "/api/v1/tenants/{}/apps/{}/saml/certificates",
                w.tenant, w.app
            ),
            json!({}),
        )
        .await;
    assert_eq!(added.status, StatusCode::CREATED);
    let md = b
        .get(
            &w.api,
            &format!(
                "/{}/federationmetadata/2007-06/federationmetadata.xml?appid={}",
                w.tenant, w.app
            ),
        )
        .await;
    assert_eq!(md.status, StatusCode::OK);
    assert_eq!(
        md.text
            .matches("<md:KeyDescriptor use=\"signing\">")
            .count(),
        2,
        "{}",
        md.text
    );
    assert!(
        md.text
            .contains(&format!("entityID=\"http://127.0.0.1:8080/{}/\"", w.tenant))
    );
    // The algorithms Sésame accepts from the app, SHA-256 first (algorithm-support profile):
    // SPs that choose by metadata (Shibboleth) then sign with one of them; no SHA-1 here.
    let signing_methods: Vec<&str> = md
        .text
        .split("<alg:SigningMethod ")
        .skip(1)
        .map(|s| {
            s.split("Algorithm=\"")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap()
        })
        .collect();
    assert_eq!(
        signing_methods.first(),
        Some(&"http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"),
        "{}",
        md.text
    );
    assert!(!md.text.contains("rsa-sha1"), "{}", md.text);
    assert!(
        md.text
            .contains("Algorithm=\"http://www.w3.org/2001/04/xmlenc#sha256\"></alg:DigestMethod>")
    );
    // Without appid: the tenant-wide document, signed by the tenant's key, lists the tenant's
    // certificate and every published application certificate.
    let tenant_md = b
        .get(
            &w.api,
            &format!(
                "/{}/federationmetadata/2007-06/federationmetadata.xml",
                w.tenant
            ),
        )
        .await;
    assert_eq!(tenant_md.status, StatusCode::OK, "{}", tenant_md.text);
    assert_eq!(
        tenant_md
            .text
            .matches("<md:KeyDescriptor use=\"signing\">")
            .count(),
        3,
        "{}",
        tenant_md.text
    );
    let tenant_cert = {
        let x = &tenant_md.text;
        let start = x.find("<ds:X509Certificate>").unwrap() + "<ds:X509Certificate>".len();
        B64.decode(&x[start..start + x[start..].find('<').unwrap()])
            .unwrap()
    };
    let mut trusted = TrustedKeys::new();
    trusted.add_certificate_der(&tenant_cert).unwrap();
    let path = ElementPath::root("urn:oasis:names:tc:SAML:2.0:metadata", "EntityDescriptor");
    sesame_xmlsec::verify_enveloped(&tenant_md.text, &path, &trusted, &VerifyPolicy::default())
        .unwrap();
    let bad = b
        .get(
            &w.api,
            &format!(
                "/{}/federationmetadata/2007-06/federationmetadata.xml?appid=nope",
                w.tenant
            ),
        )
        .await;
    assert_eq!(bad.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn logout_request_ends_the_session_and_answers_the_sp() {
    let w = world(json!({})).await;
    w.assign().await;
    let mut b = Browser::new();
    b.sign_in(&w.api, &w.tenant, None).await;
    let xml = posted_response(&b.get(&w.api, &w.redirect(&w.request(ACS, ""), None)).await);
    let name_id_value = name_id_and_session_index(&xml).0;
    let instant = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let logout = format!(
        r#"<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_lo1" Version="2.0" IssueInstant="{instant}" Destination="http://127.0.0.1:8080/{}/saml2"><saml:Issuer>{SP}</saml:Issuer><saml:NameID Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress">{name_id_value}</saml:NameID></samlp:LogoutRequest>"#,
        w.tenant
    );
    // A NotOnOrAfter at the very end of year 9999 is accepted like any future one.
    let logout = logout.replace(
        " Version=\"2.0\"",
        " Version=\"2.0\" NotOnOrAfter=\"9999-12-31T23:59:30Z\"",
    );
    let page = b.get(&w.api, &w.redirect(&logout, None)).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text);
    let to = page.location.unwrap();
    assert!(
        to.starts_with("https://sp.example/slo?SAMLResponse="),
        "{to}"
    );
    assert!(
        to.contains("&SigAlg=") && to.contains("&Signature="),
        "signed LogoutResponse: {to}"
    );
    let after = b.get(&w.api, &format!("/{}/", w.tenant)).await;
    assert_eq!(after.status, StatusCode::SEE_OTHER, "session ended");
}

#[tokio::test]
async fn rsa_sha1_on_request() {
    let cert = std::fs::read_to_string(format!("{KEYS}/sp.cert.pem")).unwrap();
    let w = world(json!({
        "signatureAlgorithm": "rsa-sha1",
        "signingMode": "both",
        "verificationCertificates": [cert],
    }))
    .await;
    w.assign().await;
    let mut b = Browser::new();
    b.sign_in(&w.api, &w.tenant, None).await;
    let xml = posted_response(&b.get(&w.api, &w.redirect(&w.request(ACS, ""), None)).await);
    assert!(
        xml.contains("http://www.w3.org/2000/09/xmldsig#rsa-sha1"),
        "{xml}"
    );
    assert!(!xml.contains("rsa-sha256"), "{xml}");
    let mut trusted = TrustedKeys::new();
    trusted.add_certificate_der(&w.certificate().await).unwrap();
    let policy = VerifyPolicy {
        algorithms: sesame_xmlsec::AllowedAlgorithms::default().with_sha1(),
        ..VerifyPolicy::default()
    };
    let path = ElementPath::root(sesame_saml::ns::PROTOCOL, "Response");
    sesame_xmlsec::verify_enveloped(&xml, &path, &trusted, &policy).unwrap();
    // Single Logout with the same app speaks SHA-1 both ways: its SHA-1-signed LogoutRequest
    // is accepted, and Sésame's LogoutResponse is signed with RSA-SHA1.
    let name_id = name_id_and_session_index(&xml).0;
    let logout = logout_request_xml(&w, "_lo-sha1", &name_id, None);
    let query = encode_redirect(
        &logout,
        MessageKind::Request,
        None,
        Some((&sp_key("sp"), SignatureAlgorithm::RsaSha1)),
    )
    .unwrap();
    let page = b.get(&w.api, &format!("{}?{query}", w.sso())).await;
    let answer = logout_response_at(&page);
    assert_eq!(answer.status, sesame_saml::Status::success());
    let to = page.location.unwrap();
    assert!(
        to.contains(&format!(
            "SigAlg={}",
            urlencode("http://www.w3.org/2000/09/xmldsig#rsa-sha1")
        )),
        "{to}"
    );
}

/// Single Logout across two applications: the logout started at one reaches the other
/// (front-channel), and the first gets Sésame's LogoutResponse once the second answered.
#[tokio::test]
async fn single_logout_propagates_to_the_other_application() {
    logout_propagates(false).await;
}

/// Signing out of another tenant in the same browser while a logout is under way (waiting for
/// an application's LogoutResponse) does not lose that logout's progress: each tenant has its
/// own progress cookie, as it has its own session.
#[tokio::test]
async fn a_logout_under_way_survives_signing_out_of_another_tenant() {
    logout_propagates(true).await;
}

async fn logout_propagates(sign_out_of_another_tenant_meanwhile: bool) {
    let w = world(json!({})).await;
    w.assign().await;
    let second_app = w.second_app_with_logout(json!({})).await;
    let mut b = Browser::new();
    let other_tenant = w.second_tenant().await;
    b.sign_in_as(&w.api, &other_tenant, "alice@fabrikam.example", None)
        .await;
    // 1. The first app asks; Sésame sends the browser to the second with a signed LogoutRequest.
    let request = logout_reaching_second(&w, &mut b, &second_app, "_lo1").await;
    assert!(!request.session_indexes.is_empty());
    // The session is already over.
    assert_eq!(
        b.get(&w.api, &format!("/{}/", w.tenant)).await.status,
        StatusCode::SEE_OTHER
    );
    if sign_out_of_another_tenant_meanwhile {
        let out = b
            .send_with(
                &w.api,
                "GET",
                &format!("/{other_tenant}/logout"),
                None,
                &[("sec-fetch-site", "same-origin")],
            )
            .await;
        assert!(out.text.contains("Signed out"), "{}", out.text);
    }
    // 2. The second app answers; Sésame answers the first.
    let answer = second_logout_response(&request.header.id, "https://two.example/sp");
    let q = encode_redirect(&answer, MessageKind::Response, None, None).unwrap();
    let status = logout_response_at(&b.get(&w.api, &format!("{}?{q}", w.sso())).await);
    assert_eq!(status.in_response_to.as_deref(), Some("_lo1"));
    assert!(status.status.is_success(), "{:?}", status.status);
}

/// Signs alice in to the first app and to `second`, then the first app asks to log out (request
/// `id`): the LogoutRequest Sésame sends the browser to `second` with, signed.
async fn logout_reaching_second(
    w: &World,
    b: &mut Browser,
    second: &str,
    id: &str,
) -> sesame_saml::LogoutRequest {
    let first_response = signed_in_to_both(w, b, second).await;
    let name_id = name_id_and_session_index(&first_response).0;
    let logout = logout_request_xml(w, id, &name_id, None);
    let page = b.get(&w.api, &w.redirect(&logout, None)).await;
    let to_second = page.location.unwrap_or_else(|| panic!("{}", page.text));
    assert!(
        to_second.starts_with("https://two.example/slo?SAMLRequest="),
        "{to_second}"
    );
    assert!(to_second.contains("&Signature="), "signed: {to_second}");
    let request = sesame_saml::decode_redirect(to_second.split_once('?').unwrap().1).unwrap();
    sesame_saml::parse_logout_request(&request.xml).unwrap()
}

/// Alice signed in, with a Response for the first app (returned) and one for `second`.
async fn signed_in_to_both(w: &World, b: &mut Browser, second: &str) -> String {
    b.sign_in(&w.api, &w.tenant, None).await;
    let first = posted_response(&b.get(&w.api, &w.redirect(&w.request(ACS, ""), None)).await);
    posted_response(
        &b.get(&w.api, &format!("/{}/apps/{second}/launch", w.tenant))
            .await,
    );
    first
}

/// The second application's successful answer to LogoutRequest `request_id`, unsigned and
/// without Destination.
fn second_logout_response(request_id: &str, issuer: &str) -> String {
    logout_response_xml(request_id, issuer, None, false)
}

/// A LogoutResponse with Success, and a PartialLogout second-level code when `partial`.
fn logout_response_xml(
    request_id: &str,
    issuer: &str,
    destination: Option<&str>,
    partial: bool,
) -> String {
    let now = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let destination = destination
        .map(|d| format!(" Destination=\"{d}\""))
        .unwrap_or_default();
    let sub = if partial {
        r#"<samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:PartialLogout"/>"#
    } else {
        ""
    };
    format!(
        r#"<samlp:LogoutResponse xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_r2" Version="2.0" IssueInstant="{now}" InResponseTo="{request_id}"{destination}><saml:Issuer>{issuer}</saml:Issuer><samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success">{sub}</samlp:StatusCode></samlp:Status></samlp:LogoutResponse>"#
    )
}

/// How a test LogoutResponse is written and sent.
struct Reply<'a> {
    case: &'a str,
    issuer: &'a str,
    /// `None`: the ID of the request it answers.
    in_response_to: Option<&'a str>,
    signed_by: Option<&'a SigningKey>,
    posted: bool,
    /// `Some(None)`: Sésame's endpoint; `None`: no Destination.
    destination: Option<Option<&'a str>>,
    /// The SP answers PartialLogout itself.
    says_partial: bool,
    /// What the first application should hear.
    partial: bool,
}

impl Reply<'_> {
    /// The query string, or `POST ` and the form.
    fn encode(&self, w: &World, request_id: &str) -> String {
        let endpoint = format!("{}/{}/saml2", w.public_url, w.tenant);
        let xml = logout_response_xml(
            self.in_response_to.unwrap_or(request_id),
            self.issuer,
            self.destination.map(|d| d.unwrap_or(&endpoint)),
            self.says_partial,
        );
        match (self.posted, self.signed_by) {
            (true, key) => {
                let xml = match key {
                    Some(key) => sesame_xmlsec::sign_enveloped(
                        &xml,
                        &ElementPath::root(sesame_saml::ns::PROTOCOL, "LogoutResponse"),
                        key,
                        &sesame_xmlsec::SignOptions::default(),
                    )
                    .unwrap(),
                    None => xml,
                };
                format!("POST SAMLResponse={}", urlencode(&B64.encode(xml)))
            }
            (false, key) => encode_redirect(
                &xml,
                MessageKind::Response,
                None,
                key.map(|k| (k, SignatureAlgorithm::RsaSha256)),
            )
            .unwrap(),
        }
    }
}

/// An application's LogoutResponse counts only when it comes from that application, for the
/// request it was sent, sent here, with a signature that passes as its LogoutRequests' would
/// (profiles §4.4.4.2; bindings §3.4.5.2: a signed one names its Destination); otherwise the
/// first application hears PartialLogout.
#[tokio::test]
async fn logout_responses_must_come_from_the_application_asked() {
    let cert = std::fs::read_to_string(format!("{KEYS}/sp.cert.pem")).unwrap();
    let w = world(json!({})).await;
    w.assign().await;
    let checked = w
        .second_app_with_logout(json!({ "verificationCertificates": [cert.clone()] }))
        .await;
    let sp = sp_key("sp");
    let stranger = sp_key("idp2");
    let two = "https://two.example/sp";
    let good = Reply {
        case: "signed",
        issuer: two,
        in_response_to: None,
        signed_by: Some(&sp),
        posted: false,
        destination: Some(None),
        says_partial: false,
        partial: false,
    };
    let cases = [
        Reply { ..good },
        Reply {
            case: "unsigned, no Destination",
            signed_by: None,
            destination: None,
            ..good
        },
        Reply {
            case: "signed by a stranger",
            signed_by: Some(&stranger),
            partial: true,
            ..good
        },
        Reply {
            case: "another issuer",
            issuer: "https://sp.example/sp",
            partial: true,
            ..good
        },
        Reply {
            case: "another request",
            in_response_to: Some("_other"),
            partial: true,
            ..good
        },
        Reply {
            case: "signed, no Destination",
            destination: None,
            partial: true,
            ..good
        },
        Reply {
            case: "signed, sent elsewhere",
            destination: Some(Some("https://elsewhere.example/saml2")),
            partial: true,
            ..good
        },
        Reply {
            case: "unsigned, sent elsewhere",
            signed_by: None,
            destination: Some(Some("https://elsewhere.example/saml2")),
            partial: true,
            ..good
        },
        Reply {
            case: "posted, signed",
            posted: true,
            ..good
        },
        Reply {
            case: "the SP's own PartialLogout",
            says_partial: true,
            partial: true,
            ..good
        },
        Reply {
            case: "posted, signed by a stranger",
            posted: true,
            signed_by: Some(&stranger),
            partial: true,
            ..good
        },
    ];
    for (i, reply) in cases.iter().enumerate() {
        let mut b = Browser::new();
        let id = format!("_lo{i}");
        let request = logout_reaching_second(&w, &mut b, &checked, &id).await;
        let answered = reply.encode(&w, &request.header.id);
        let page = match answered.strip_prefix("POST ") {
            Some(form) => b.send(&w.api, "POST", &w.sso(), Some(form.into())).await,
            None => b.get(&w.api, &format!("{}?{answered}", w.sso())).await,
        };
        let status = logout_response_at(&page);
        let case = reply.case;
        assert_eq!(
            status.in_response_to.as_deref(),
            Some(id.as_str()),
            "{case}"
        );
        let partial = status.status.sub_code == Some(sesame_saml::StatusCode::PartialLogout);
        assert_eq!(partial, reply.partial, "{case}: {:?}", status.status);
    }
    // An application that requires signed requests: its unsigned answer does not count.
    let strict = w
        .second_app_with_logout(json!({
            "identifiers": ["https://three.example/sp"],
            "requireSignedRequests": true,
            "verificationCertificates": [cert],
        }))
        .await;
    let three = Reply {
        issuer: "https://three.example/sp",
        ..good
    };
    for reply in [
        Reply {
            case: "strict, unsigned",
            signed_by: None,
            partial: true,
            ..three
        },
        three,
    ] {
        let mut b = Browser::new();
        let id = format!("_strict{}", reply.partial);
        let request = logout_reaching_second(&w, &mut b, &strict, &id).await;
        let q = reply.encode(&w, &request.header.id);
        let status = logout_response_at(&b.get(&w.api, &format!("{}?{q}", w.sso())).await);
        let partial = status.status.sub_code == Some(sesame_saml::StatusCode::PartialLogout);
        assert_eq!(partial, reply.partial, "{}", reply.case);
    }
}

/// An SP whose metadata names a ResponseLocation for its SingleLogoutService gets its
/// LogoutResponse there (metadata §2.2.2), addressed to it.
#[tokio::test]
async fn logout_responses_go_to_the_response_location() {
    let answers = "https://sp.example/slo/answers";
    let w = world(json!({ "logoutResponseUrl": answers })).await;
    w.assign().await;
    let mut b = Browser::new();
    b.sign_in(&w.api, &w.tenant, None).await;
    let xml = posted_response(&b.get(&w.api, &w.redirect(&w.request(ACS, ""), None)).await);
    let (name_id, index) = name_id_and_session_index(&xml);
    let logout = logout_request_xml(&w, "_lo-rl", &name_id, Some(&index));
    let page = b.get(&w.api, &w.redirect(&logout, None)).await;
    let to = page.location.unwrap_or_else(|| panic!("{}", page.text));
    assert!(to.starts_with(&format!("{answers}?SAMLResponse=")), "{to}");
    let back = sesame_saml::decode_redirect(to.split_once('?').unwrap().1).unwrap();
    let status = sesame_saml::parse_logout_response(&back.xml).unwrap();
    assert_eq!(status.destination.as_deref(), Some(answers));
    assert!(status.status.is_success(), "{:?}", status.status);
}

/// Applications whose SingleLogoutService takes HTTP-POST get their logout messages by an
/// auto-posted form with an enveloped signature (bindings §3.5.4): the LogoutRequest to the
/// other application, and the LogoutResponse to the one that asked, with its RelayState.
#[tokio::test]
async fn logout_messages_go_by_post_to_applications_that_take_post() {
    let w = world(json!({ "logoutBinding": "post" })).await;
    w.assign().await;
    let second = w
        .second_app_with_logout(json!({ "logoutBinding": "post" }))
        .await;
    let mut b = Browser::new();
    let first = signed_in_to_both(&w, &mut b, &second).await;
    let (name_id, index) = name_id_and_session_index(&first);
    let logout = logout_request_xml(&w, "_lo-post", &name_id, Some(&index));
    let allowed = sesame_xmlsec::AllowedAlgorithms::default();
    let posted = |page: &Page, field_name: &str, to: &str| {
        assert_eq!(page.status, StatusCode::OK, "{}", page.text);
        assert!(
            page.text.contains(&format!("action=\"{to}\"")),
            "{}",
            page.text
        );
        let b64 = field(&page.text, field_name).unwrap_or_else(|| panic!("{}", page.text));
        String::from_utf8(B64.decode(b64).unwrap()).unwrap()
    };
    let page = b.get(&w.api, &w.redirect(&logout, None)).await;
    let xml = posted(&page, "SAMLRequest", "https://two.example/slo");
    let mut second_key = TrustedKeys::new();
    second_key
        .add_certificate_der(&w.certificate_of(&second).await)
        .unwrap();
    let request = sesame_saml::verify_logout_request_post(&xml, &second_key, &allowed).unwrap();
    assert_eq!(request.name_id.value, name_id);
    // The other application answers by POST too.
    let answer = second_logout_response(&request.header.id, "https://two.example/sp");
    let form = format!("SAMLResponse={}", urlencode(&B64.encode(answer)));
    let last = b.send(&w.api, "POST", &w.sso(), Some(form)).await;
    let xml = posted(&last, "SAMLResponse", "https://sp.example/slo");
    let mut first_key = TrustedKeys::new();
    first_key
        .add_certificate_der(&w.certificate().await)
        .unwrap();
    let status = sesame_saml::verify_logout_response_post(&xml, &first_key, &allowed).unwrap();
    assert_eq!(status.in_response_to.as_deref(), Some("_lo-post"));
    assert_eq!(status.status, sesame_saml::Status::success());
    assert_eq!(field(&last.text, "RelayState").as_deref(), Some("rs-1"));
}

/// An application of the session that cannot be told when its turn comes (deleted meanwhile)
/// is skipped: the logout goes on, and the first application hears PartialLogout.
#[tokio::test]
async fn a_logout_skips_an_application_it_cannot_tell() {
    let w = world(json!({})).await;
    w.assign().await;
    let two = w.second_app_with_logout(json!({})).await;
    let three = w
        .second_app_with_logout(json!({
            "identifiers": ["https://three.example/sp"],
            "logoutUrl": "https://three.example/slo",
        }))
        .await;
    let mut b = Browser::new();
    let first = signed_in_to_both(&w, &mut b, &two).await;
    posted_response(
        &b.get(&w.api, &format!("/{}/apps/{three}/launch", w.tenant))
            .await,
    );
    let (name_id, index) = name_id_and_session_index(&first);
    let logout = logout_request_xml(&w, "_lo-skip", &name_id, Some(&index));
    let hop = b.get(&w.api, &w.redirect(&logout, None)).await;
    let to = hop.location.unwrap_or_else(|| panic!("{}", hop.text));
    // Whichever comes first answers; the other is deleted before its turn.
    let (issuer, other) = if to.starts_with("https://two.example/slo?") {
        ("https://two.example/sp", &three)
    } else {
        assert!(to.starts_with("https://three.example/slo?"), "{to}");
        ("https://three.example/sp", &two)
    };
    let r = w
        .api
        .json(
            "DELETE",
            &format!("/api/v1/tenants/{}/apps/{other}", w.tenant),
            json!({}),
        )
        .await;
    assert!(r.status.is_success(), "{:?}", r.body);
    let request = sesame_saml::decode_redirect(to.split_once('?').unwrap().1).unwrap();
    let request = sesame_saml::parse_logout_request(&request.xml).unwrap();
    let answer = second_logout_response(&request.header.id, issuer);
    let q = encode_redirect(&answer, MessageKind::Response, None, None).unwrap();
    let status = logout_response_at(&b.get(&w.api, &format!("{}?{q}", w.sso())).await);
    assert_eq!(
        status.status.sub_code,
        Some(sesame_saml::StatusCode::PartialLogout)
    );
}

/// The application that asked for the logout is deleted before its answer: the logout ends on
/// the signed-out page, not on an error.
#[tokio::test]
async fn a_logout_whose_origin_is_gone_still_ends() {
    let w = world(json!({})).await;
    w.assign().await;
    let second = w.second_app_with_logout(json!({})).await;
    let mut b = Browser::new();
    let request = logout_reaching_second(&w, &mut b, &second, "_lo-gone").await;
    let r = w
        .api
        .json(
            "DELETE",
            &format!("/api/v1/tenants/{}/apps/{}", w.tenant, w.app),
            json!({}),
        )
        .await;
    assert!(r.status.is_success(), "{:?}", r.body);
    let answer = second_logout_response(&request.header.id, "https://two.example/sp");
    let q = encode_redirect(&answer, MessageKind::Response, None, None).unwrap();
    let page = b.get(&w.api, &format!("{}?{q}", w.sso())).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(page.text.contains("Signed out"), "{}", page.text);
}

/// The NameID value and the SessionIndex of a Response.
fn name_id_and_session_index(xml: &str) -> (String, String) {
    let text_of = |marker: &str| {
        let start = xml
            .find(marker)
            .unwrap_or_else(|| panic!("no {marker} in {xml}"));
        let tail = &xml[start..];
        tail[tail.find('>').unwrap() + 1..]
            .split('<')
            .next()
            .unwrap()
            .to_string()
    };
    let index_at = xml.find("SessionIndex=\"").unwrap() + "SessionIndex=\"".len();
    let index = xml[index_at..].split('"').next().unwrap().to_string();
    (text_of("<saml:NameID"), index)
}

fn logout_request_xml(w: &World, id: &str, name_id: &str, session_index: Option<&str>) -> String {
    logout_request_issued(
        w,
        id,
        name_id,
        session_index,
        time::OffsetDateTime::now_utc(),
    )
}

fn logout_request_issued(
    w: &World,
    id: &str,
    name_id: &str,
    session_index: Option<&str>,
    at: time::OffsetDateTime,
) -> String {
    let at = at
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let index = session_index
        .map(|i| format!("<samlp:SessionIndex>{i}</samlp:SessionIndex>"))
        .unwrap_or_default();
    format!(
        r#"<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="{id}" Version="2.0" IssueInstant="{at}" Destination="{}/{}/saml2"><saml:Issuer>{SP}</saml:Issuer><saml:NameID>{name_id}</saml:NameID>{index}</samlp:LogoutRequest>"#,
        w.public_url, w.tenant
    )
}

/// The LogoutResponse an SP is sent to, from a redirect's Location.
fn logout_response_at(page: &Page) -> sesame_saml::StatusResponse {
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text);
    let to = page.location.clone().unwrap();
    assert!(
        to.starts_with("https://sp.example/slo?SAMLResponse="),
        "{to}"
    );
    let response = sesame_saml::decode_redirect(to.split_once('?').unwrap().1).unwrap();
    sesame_saml::parse_logout_response(&response.xml).unwrap()
}

/// An SP on another site POSTs its LogoutRequest: the browser does not send Sésame's session
/// cookie (SameSite), yet the session the request names by NameID and SessionIndex ends.
/// Without a SessionIndex or a signature, a bare NameID (an address anyone can write) ends
/// nothing and the SP hears PartialLogout. A stale request, or one already used, is refused.
#[tokio::test]
async fn logout_request_without_the_cookie_ends_the_session_it_names() {
    let w = world(json!({})).await;
    w.assign().await;
    let mut b = Browser::new();
    b.sign_in(&w.api, &w.tenant, None).await;
    let xml = posted_response(&b.get(&w.api, &w.redirect(&w.request(ACS, ""), None)).await);
    let (name_id, index) = name_id_and_session_index(&xml);
    let home = format!("/{}/", w.tenant);
    assert_eq!(b.get(&w.api, &home).await.status, StatusCode::OK);

    let mut cross_site = Browser::new();
    // A bare NameID, unsigned: refused to end anything.
    let bare = logout_request_xml(&w, "_lo1", &name_id, None);
    let answer = logout_response_at(&cross_site.get(&w.api, &w.redirect(&bare, None)).await);
    assert_eq!(
        answer.status.sub_code,
        Some(sesame_saml::StatusCode::PartialLogout),
        "{:?}",
        answer.status
    );
    assert_eq!(b.get(&w.api, &home).await.status, StatusCode::OK);
    // And the answer does not tell whether that NameID has sessions: the same for one without.
    let nobody = logout_request_xml(&w, "_lo1b", "nobody@contoso.example", None);
    let answer = logout_response_at(&cross_site.get(&w.api, &w.redirect(&nobody, None)).await);
    assert_eq!(
        answer.status.sub_code,
        Some(sesame_saml::StatusCode::PartialLogout),
        "{:?}",
        answer.status
    );
    // Somebody else's SessionIndex (or a stale one): nothing ends.
    let wrong = logout_request_xml(&w, "_lo2", &name_id, Some("_not-issued"));
    cross_site.get(&w.api, &w.redirect(&wrong, None)).await;
    assert_eq!(b.get(&w.api, &home).await.status, StatusCode::OK);
    // The right SessionIndex in a request issued an hour ago: refused.
    let hour_ago = time::OffsetDateTime::now_utc() - time::Duration::hours(1);
    let stale = logout_request_issued(&w, "_lo3", &name_id, Some(&index), hour_ago);
    let refused = cross_site.get(&w.api, &w.redirect(&stale, None)).await;
    assert_refused(&refused, StatusCode::BAD_REQUEST, "SESAME-3008");
    assert_eq!(b.get(&w.api, &home).await.status, StatusCode::OK);
    // NameID and the SessionIndex Sésame issued: that session ends.
    let named = logout_request_xml(&w, "_lo4", &name_id, Some(&index));
    let answer = logout_response_at(&cross_site.get(&w.api, &w.redirect(&named, None)).await);
    assert_eq!(answer.in_response_to.as_deref(), Some("_lo4"));
    assert_eq!(answer.status, sesame_saml::Status::success());
    assert_eq!(
        b.get(&w.api, &home).await.status,
        StatusCode::SEE_OTHER,
        "the session is over"
    );
    // The same request again: a replay.
    let again = cross_site.get(&w.api, &w.redirect(&named, None)).await;
    assert_refused(&again, StatusCode::BAD_REQUEST, "SESAME-3008");
    assert!(again.text.contains("already used"), "{}", again.text);
}

/// Every Response to one SP in one session carries the same SessionIndex (while the NameID
/// stays the same), so a LogoutRequest from the SP session an earlier Response opened still
/// names the IdP session; a transient NameID changes, and so does its SessionIndex.
#[tokio::test]
async fn one_session_index_per_session_and_app() {
    let w = world(json!({})).await;
    w.assign().await;
    let mut b = Browser::new();
    b.sign_in(&w.api, &w.tenant, None).await;
    let sso = async |b: &mut Browser, extra: &str| {
        let url = w.redirect(
            &w.request(ACS, "").replace("</samlp:AuthnRequest>", extra),
            None,
        );
        name_id_and_session_index(&posted_response(&b.get(&w.api, &url).await))
    };
    let (name_id, first) = sso(&mut b, "</samlp:AuthnRequest>").await;
    let (again, second) = sso(&mut b, "</samlp:AuthnRequest>").await;
    assert_eq!(
        (&again, &second),
        (&name_id, &first),
        "same SP, same session"
    );
    let transient = "<samlp:NameIDPolicy Format=\"urn:oasis:names:tc:SAML:2.0:nameid-format:transient\"/></samlp:AuthnRequest>";
    let (t1, i1) = sso(&mut b, transient).await;
    let (t2, i2) = sso(&mut b, transient).await;
    assert_ne!(t1, t2, "a transient NameID is new in every Response");
    assert!(i1 != i2 && i1 != first, "{i1} {i2} {first}");
    let (back, index) = sso(&mut b, "</samlp:AuthnRequest>").await;
    assert_eq!(back, name_id);
    let mut other = Browser::new();
    other.sign_in(&w.api, &w.tenant, None).await;
    let (_, elsewhere) = sso(&mut other, "</samlp:AuthnRequest>").await;
    assert_ne!(elsewhere, index, "another session, another SessionIndex");
    // The SP ends its session opened by that Response, without the cookie.
    let home = format!("/{}/", w.tenant);
    let named = logout_request_xml(&w, "_lo9", &name_id, Some(&index));
    let answer = logout_response_at(&Browser::new().get(&w.api, &w.redirect(&named, None)).await);
    assert_eq!(answer.status, sesame_saml::Status::success());
    assert_eq!(b.get(&w.api, &home).await.status, StatusCode::SEE_OTHER);
    assert_eq!(other.get(&w.api, &home).await.status, StatusCode::OK);
}

/// Without the browser's cookie, the other applications of the session named are not visited
/// (the redirects would hand their NameIDs to whoever sent the request): the session ends,
/// the SP hears PartialLogout. And a LogoutRequest naming someone else's session leaves the
/// browser's own cookie alone.
#[tokio::test]
async fn cookieless_logout_does_not_visit_other_apps_nor_sign_the_browser_out() {
    let w = world(json!({})).await;
    w.assign().await;
    let second_app = w.second_app_with_logout(json!({})).await;
    let mut b = Browser::new();
    b.sign_in(&w.api, &w.tenant, None).await;
    let xml = posted_response(&b.get(&w.api, &w.redirect(&w.request(ACS, ""), None)).await);
    posted_response(
        &b.get(&w.api, &format!("/{}/apps/{second_app}/launch", w.tenant))
            .await,
    );
    let (name_id, index) = name_id_and_session_index(&xml);
    let home = format!("/{}/", w.tenant);
    // The browser, signed in as Alice, brings a request about somebody else: it stays signed in.
    let other = logout_request_xml(&w, "_lo5", "mallory@contoso.example", None);
    let answer = logout_response_at(&b.get(&w.api, &w.redirect(&other, None)).await);
    assert_eq!(
        answer.status.sub_code,
        Some(sesame_saml::StatusCode::PartialLogout)
    );
    assert_eq!(b.get(&w.api, &home).await.status, StatusCode::OK);
    // Without the cookie: straight back to the SP (never to two.example), PartialLogout.
    let named = logout_request_xml(&w, "_lo6", &name_id, Some(&index));
    let answer = logout_response_at(&Browser::new().get(&w.api, &w.redirect(&named, None)).await);
    assert_eq!(
        answer.status.sub_code,
        Some(sesame_saml::StatusCode::PartialLogout)
    );
    assert_eq!(b.get(&w.api, &home).await.status, StatusCode::SEE_OTHER);
}

/// A signed LogoutRequest with a bare NameID, without the cookie, ends every session in which
/// that SP received this NameID (SAML core §3.7.3.2: no SessionIndex means all of them).
#[tokio::test]
async fn signed_logout_request_without_session_index_ends_every_session_of_the_principal() {
    let cert = std::fs::read_to_string(format!("{KEYS}/sp.cert.pem")).unwrap();
    let w = world(json!({ "verificationCertificates": [cert] })).await;
    w.assign().await;
    let home = format!("/{}/", w.tenant);
    let mut browsers = [Browser::new(), Browser::new()];
    let mut name_id = String::new();
    for b in &mut browsers {
        b.sign_in(&w.api, &w.tenant, None).await;
        let xml = posted_response(&b.get(&w.api, &w.redirect(&w.request(ACS, ""), None)).await);
        name_id = name_id_and_session_index(&xml).0;
        assert_eq!(b.get(&w.api, &home).await.status, StatusCode::OK);
    }
    // The same request addressed to another IdP (or tenant) that trusts the SP's key: its
    // Destination is not where it arrived, so it ends nothing (bindings §3.4.5.2).
    let elsewhere = logout_request_xml(&w, "_lo6", &name_id, None).replace(
        &format!("Destination=\"{}/{}/saml2\"", w.public_url, w.tenant),
        "Destination=\"https://other-idp.example/saml2\"",
    );
    assert!(elsewhere.contains("other-idp.example"), "{elsewhere}");
    assert_refused(
        &Browser::new()
            .get(&w.api, &w.redirect(&elsewhere, Some(&sp_key("sp"))))
            .await,
        StatusCode::BAD_REQUEST,
        "SESAME-3008",
    );
    for b in &mut browsers {
        assert_eq!(b.get(&w.api, &home).await.status, StatusCode::OK);
    }
    let bare = logout_request_xml(&w, "_lo7", &name_id, None);
    let mut cross_site = Browser::new();
    let answer = logout_response_at(
        &cross_site
            .get(&w.api, &w.redirect(&bare, Some(&sp_key("sp"))))
            .await,
    );
    assert_eq!(answer.status, sesame_saml::Status::success());
    for b in &mut browsers {
        assert_eq!(b.get(&w.api, &home).await.status, StatusCode::SEE_OTHER);
    }
}

/// Over HTTPS, the cookies an SP's cross-site POST must bring back are `SameSite=None` (with
/// `Secure` and the `__Host-` prefix): the session, for an AuthnRequest or LogoutRequest
/// POSTed from another site, and the logout progress, for an SP's LogoutResponse. Browsers
/// would not send them as `Lax`. The CSRF cookie stays `Strict`.
#[tokio::test]
async fn over_https_cookies_that_cross_sites_are_same_site_none() {
    let w = world_at("https://login.contoso.example", json!({})).await;
    w.assign().await;
    let mut b = Browser::new();
    let login = b.get(&w.api, &format!("/{}/login", w.tenant)).await;
    let signed_in = b.sign_in(&w.api, &w.tenant, None).await;
    let xml = posted_response(&b.get(&w.api, &w.redirect(&w.request(ACS, ""), None)).await);
    let (name_id, index) = name_id_and_session_index(&xml);
    let logout = logout_request_xml(&w, "_lo8", &name_id, Some(&index));
    let signed_out = b.get(&w.api, &w.redirect(&logout, None)).await;
    let cookie = |pages: &[&Page], name: &str| -> Vec<String> {
        pages
            .iter()
            .flat_map(|p| p.set_cookies.iter())
            .filter(|c| c.starts_with(&format!("__Host-{name}=")))
            .cloned()
            .collect()
    };
    let pages = [&login, &signed_in, &signed_out];
    let session = cookie(
        &pages,
        &format!("sesame_session_{}", w.tenant.replace('-', "")),
    );
    let progress = cookie(&pages, &format!("sesame_slo_{}", w.tenant.replace('-', "")));
    assert_eq!(
        session.len(),
        2,
        "set at sign-in, cleared at logout: {session:?}"
    );
    assert!(!progress.is_empty(), "{:?}", signed_out.set_cookies);
    for c in session.iter().chain(&progress) {
        assert!(
            c.contains("SameSite=None") && c.contains("Secure") && c.contains("HttpOnly"),
            "{c}"
        );
    }
    let csrf = cookie(&pages, "sesame_csrf");
    assert!(
        !csrf.is_empty() && csrf.iter().all(|c| c.contains("SameSite=Strict")),
        "{csrf:?}"
    );
}

/// One session per tenant: signing in to a second tenant in the same browser keeps the first
/// signed in, and signing out of one leaves the other.
#[tokio::test]
async fn each_tenant_has_its_own_session_in_one_browser() {
    let w = world(json!({})).await;
    let second = w.second_tenant().await;
    let home = |tenant: &str| format!("/{tenant}/");
    let mut b = Browser::new();
    b.sign_in(&w.api, &w.tenant, None).await;
    b.sign_in_as(&w.api, &second, "alice@fabrikam.example", None)
        .await;
    assert_eq!(b.get(&w.api, &home(&second)).await.status, StatusCode::OK);
    assert_eq!(
        b.get(&w.api, &home(&w.tenant)).await.status,
        StatusCode::OK,
        "the first tenant's session survives a sign-in to the second"
    );
    b.send_with(
        &w.api,
        "GET",
        &format!("/{second}/logout"),
        None,
        &[("sec-fetch-site", "same-origin")],
    )
    .await;
    assert_eq!(
        b.get(&w.api, &home(&second)).await.status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        b.get(&w.api, &home(&w.tenant)).await.status,
        StatusCode::OK,
        "signing out of one tenant leaves the other"
    );
}

/// A sign-out link or image on another site (Fetch Metadata: `Sec-Fetch-Site: cross-site`)
/// asks first; the page's button, posted from Sésame's own origin, signs out.
#[tokio::test]
async fn cross_site_sign_out_asks_first() {
    let w = world(json!({})).await;
    let mut b = Browser::new();
    b.sign_in(&w.api, &w.tenant, None).await;
    let home = format!("/{}/", w.tenant);
    let logout = format!("/{}/logout", w.tenant);
    let cross_site = [("sec-fetch-site", "cross-site")];
    // A link from another site, from a sibling site, or from a browser that does not say: asked.
    for says in [&cross_site[..], &[("sec-fetch-site", "same-site")], &[]] {
        let asked = b.send_with(&w.api, "GET", &logout, None, says).await;
        assert!(asked.text.contains("Sign out?"), "{says:?}: {}", asked.text);
    }
    let asked = b.send_with(&w.api, "GET", &logout, None, &cross_site).await;
    assert_eq!(asked.status, StatusCode::OK);
    assert!(
        asked.text.contains("Sign out?") && asked.text.contains("method=\"post\""),
        "{}",
        asked.text
    );
    assert!(asked.set_cookies.is_empty(), "{:?}", asked.set_cookies);
    // Its form's answer redirects to another site (an application's or an IdP's sign-out),
    // which `form-action` would block in Chromium.
    assert!(
        asked.csp.contains("frame-ancestors 'none'") && !asked.csp.contains("form-action"),
        "{}",
        asked.csp
    );
    assert_eq!(b.get(&w.api, &home).await.status, StatusCode::OK);
    let posted = b
        .send_with(&w.api, "POST", &logout, Some(String::new()), &cross_site)
        .await;
    assert!(
        posted.text.contains("Sign out?"),
        "a cross-site POST asks too"
    );
    assert_eq!(b.get(&w.api, &home).await.status, StatusCode::OK);
    // Without the page's CSRF token, a POST asks, whatever the browser says of its origin (or
    // when it says nothing, as browsers without Fetch Metadata).
    let same_origin = [("sec-fetch-site", "same-origin")];
    for headers in [&same_origin[..], &[]] {
        let posted = b
            .send_with(&w.api, "POST", &logout, Some("csrf=guess".into()), headers)
            .await;
        assert!(posted.text.contains("Sign out?"), "{}", posted.text);
    }
    assert_eq!(b.get(&w.api, &home).await.status, StatusCode::OK);
    // The page's own form signs out.
    let token = field(&asked.text, "csrf").unwrap();
    let done = b
        .send_with(
            &w.api,
            "POST",
            &logout,
            Some(format!("csrf={token}")),
            &same_origin,
        )
        .await;
    assert!(done.text.contains("Signed out"), "{}", done.text);
    assert_eq!(b.get(&w.api, &home).await.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn requested_authn_context_is_honoured() {
    let w = world(json!({})).await;
    w.assign().await;
    let mut b = Browser::new();
    b.sign_in(&w.api, &w.tenant, None).await;
    let context = |comparison: &str, class: &str| {
        format!(
            "<samlp:RequestedAuthnContext Comparison=\"{comparison}\"><saml:AuthnContextClassRef>{class}</saml:AuthnContextClassRef></samlp:RequestedAuthnContext></samlp:AuthnRequest>"
        )
    };
    let ppt = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport";
    let mfa = "http://schemas.microsoft.com/claims/multipleauthn";
    let password = "urn:oasis:names:tc:SAML:2.0:ac:classes:Password";
    for (comparison, class, satisfied) in [
        ("exact", ppt, true),
        ("exact", mfa, false),
        ("minimum", password, true),
        ("minimum", mfa, false),
        ("better", password, true),
        ("better", ppt, false),
        ("maximum", mfa, true),
    ] {
        let xml = w
            .request(ACS, "")
            .replace("</samlp:AuthnRequest>", &context(comparison, class));
        let answer = posted_response(&b.get(&w.api, &w.redirect(&xml, None)).await);
        assert_eq!(
            answer.contains("<saml:Assertion"),
            satisfied,
            "{comparison} {class}: {answer}"
        );
        if !satisfied {
            assert!(
                answer.contains("urn:oasis:names:tc:SAML:2.0:status:NoAuthnContext"),
                "{answer}"
            );
        }
    }
}

/// A sign-in request the browser loads inside another page (Fetch Metadata: `Sec-Fetch-Dest`
/// other than `document`) — an image, a script, a frame, a fetch() on any site, with the
/// session cookie — is refused before anything is read or logged; the same request opened as
/// a page, or from a client without Fetch Metadata, is answered.
#[tokio::test]
async fn sign_in_requests_loaded_inside_other_pages_are_refused() {
    let w = world(json!({})).await;
    w.assign().await;
    let mut b = Browser::new();
    b.sign_in(&w.api, &w.tenant, None).await;
    let redirect = w.redirect(&w.request(ACS, ""), None);
    let form = format!("SAMLRequest={}", urlencode(&B64.encode(w.request(ACS, ""))));
    let launch = format!("/{}/apps/{}/launch", w.tenant, w.app);
    let logged = w.log_reasons().await.len();
    for dest in ["image", "script", "iframe", "empty", "IMAGE"] {
        let headers = [("sec-fetch-dest", dest), ("sec-fetch-site", "cross-site")];
        for (method, uri, body) in [
            ("GET", redirect.as_str(), None),
            ("POST", w.sso().as_str(), Some(form.clone())),
            ("GET", launch.as_str(), None),
        ] {
            let page = b.send_with(&w.api, method, uri, body, &headers).await;
            assert_refused(&page, StatusCode::FORBIDDEN, "SESAME-3014");
        }
    }
    assert_eq!(w.log_reasons().await.len(), logged, "nothing was logged");
    let document = [
        ("sec-fetch-dest", "document"),
        ("sec-fetch-site", "cross-site"),
    ];
    let page = b.send_with(&w.api, "GET", &redirect, None, &document).await;
    posted_response(&page);
    let page = b
        .send_with(&w.api, "POST", &w.sso(), Some(form), &document)
        .await;
    posted_response(&page);
    posted_response(&b.get(&w.api, &launch).await);
    assert_eq!(w.log_reasons().await.len(), logged + 3);
}

/// How the SOAP test SP answers Sésame's back-channel LogoutRequest.
#[derive(Debug, Clone, Copy, PartialEq)]
enum SoapAnswer {
    /// Success for that request, unsigned (the channel authenticates it).
    Confirm,
    /// Success, signed with `sp.key.pem`.
    ConfirmSigned,
    /// Success, signed by a stranger (`idp2.key.pem`).
    SignedByStranger,
    /// Its own PartialLogout.
    Partial,
    /// Success for another request.
    OtherRequest,
    /// Success from another entity.
    OtherIssuer,
    /// A SOAP fault.
    Fault,
    /// A SOAP fault with a long reason in multi-byte characters.
    LongFault,
    /// Success, but with HTTP 500 (which carries faults only).
    SuccessWith500,
    /// Nobody answers (connection refused, timeout).
    Down,
}

/// An SP's SOAP SingleLogoutService on the far side of the back channel: records what Sésame
/// POSTs (URL and envelope) and answers as told. Sésame's side (building, signing, reading,
/// verifying the answer) is the real one; only the network hop is skipped here (the pysaml2
/// interop test makes it over HTTP).
struct SoapSp {
    answer: Mutex<SoapAnswer>,
    calls: Mutex<Vec<(String, String)>>,
}

impl SoapSp {
    fn new(answer: SoapAnswer) -> Arc<SoapSp> {
        Arc::new(SoapSp {
            answer: Mutex::new(answer),
            calls: Mutex::new(Vec::new()),
        })
    }

    fn calls(&self) -> Vec<(String, String)> {
        self.calls.lock().unwrap().clone()
    }
}

#[async_trait::async_trait]
impl sesame_core::slo::SoapClient for SoapSp {
    async fn call(&self, url: &str, envelope: String) -> Result<SoapReply, String> {
        self.calls
            .lock()
            .unwrap()
            .push((url.to_string(), envelope.clone()));
        let request_id = {
            let at = envelope.find("<samlp:LogoutRequest").unwrap();
            let tail = &envelope[at..];
            let id = &tail[tail.find(" ID=\"").unwrap() + 5..];
            id[..id.find('"').unwrap()].to_string()
        };
        let answer = *self.answer.lock().unwrap();
        // The application at `https://{host}/slo/soap` is `https://{host}/sp`.
        let issuer = &format!("{}/sp", &url[..url.find("/slo").unwrap()]);
        let sign = |xml: String, key: &str| {
            sesame_xmlsec::sign_enveloped(
                &xml,
                &ElementPath::root(sesame_saml::ns::PROTOCOL, "LogoutResponse"),
                &sp_key(key),
                &sesame_xmlsec::SignOptions::default(),
            )
            .unwrap()
        };
        let fault = |reason: &str| {
            Ok(SoapReply {
                status: 500,
                body: format!(
                    r#"<S:Envelope xmlns:S="{}"><S:Body><S:Fault><faultcode>S:Server</faultcode><faultstring>{reason}</faultstring></S:Fault></S:Body></S:Envelope>"#,
                    sesame_saml::bindings::SOAP_ENVELOPE
                ),
            })
        };
        let message = match answer {
            SoapAnswer::Down => return Err("cannot connect to the target".into()),
            SoapAnswer::Fault => return fault("no such session"),
            SoapAnswer::LongFault => return fault(&"é".repeat(1000)),
            SoapAnswer::OtherIssuer => {
                logout_response_xml(&request_id, "https://sp.example/sp", None, false)
            }
            SoapAnswer::Confirm | SoapAnswer::SuccessWith500 => {
                logout_response_xml(&request_id, issuer, None, false)
            }
            SoapAnswer::ConfirmSigned => {
                sign(logout_response_xml(&request_id, issuer, None, false), "sp")
            }
            SoapAnswer::SignedByStranger => sign(
                logout_response_xml(&request_id, issuer, None, false),
                "idp2",
            ),
            SoapAnswer::Partial => logout_response_xml(&request_id, issuer, None, true),
            SoapAnswer::OtherRequest => logout_response_xml("_other", issuer, None, false),
        };
        Ok(SoapReply {
            status: if answer == SoapAnswer::SuccessWith500 {
                500
            } else {
                200
            },
            body: sesame_saml::soap_envelope(&message),
        })
    }
}

/// The LogoutRequest of a back-channel call, verified with `app`'s signing certificate.
async fn soap_logout_request(w: &World, app: &str, envelope: &str) -> sesame_saml::LogoutRequest {
    let mut trusted = TrustedKeys::new();
    trusted
        .add_certificate_der(&w.certificate_of(app).await)
        .unwrap();
    let path = ElementPath::root(sesame_saml::bindings::SOAP_ENVELOPE, "Envelope")
        .child(sesame_saml::bindings::SOAP_ENVELOPE, "Body")
        .child(sesame_saml::ns::PROTOCOL, "LogoutRequest");
    let verified =
        sesame_xmlsec::verify_enveloped(envelope, &path, &trusted, &VerifyPolicy::default())
            .unwrap_or_else(|e| panic!("{e}: {envelope}"));
    sesame_saml::parse_logout_request(verified.get().canonical_xml()).unwrap()
}

/// An application with only a SOAP SingleLogoutService is told by Sésame itself, server to
/// server, with a signed LogoutRequest naming what that application was issued (its own
/// pairwise NameID, not the first application's); the browser goes straight back to the
/// application that asked, which hears Success. Sésame's own sign-out page tells it the same
/// way, and says so when it did not confirm. An application with both endpoints is visited
/// front-channel by the browser that holds the session, and not called.
#[tokio::test]
async fn applications_with_a_soap_endpoint_are_told_over_the_back_channel() {
    let soap = SoapSp::new(SoapAnswer::Confirm);
    let w = world_with("http://127.0.0.1:8080", json!({}), Some(soap.clone())).await;
    w.assign().await;
    let soap_only = json!({
        "logoutUrl": null,
        "backChannelLogoutUrl": "https://two.example/slo/soap",
        "nameId": { "format": "persistent", "source": { "kind": "pairwise" } },
    });
    let second = w.second_app_with_logout(soap_only).await;
    let mut b = Browser::new();
    b.sign_in(&w.api, &w.tenant, None).await;
    let first = posted_response(&b.get(&w.api, &w.redirect(&w.request(ACS, ""), None)).await);
    let launched = posted_response(
        &b.get(&w.api, &format!("/{}/apps/{second}/launch", w.tenant))
            .await,
    );
    let (name_id, index) = name_id_and_session_index(&first);
    let (second_name_id, second_index) = name_id_and_session_index(&launched);
    assert_ne!(second_name_id, name_id);
    let logout = logout_request_xml(&w, "_lo-soap", &name_id, Some(&index));
    let answer = logout_response_at(&b.get(&w.api, &w.redirect(&logout, None)).await);
    assert_eq!(answer.in_response_to.as_deref(), Some("_lo-soap"));
    assert_eq!(answer.status, sesame_saml::Status::success());
    let calls = soap.calls();
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!(calls[0].0, "https://two.example/slo/soap");
    let request = soap_logout_request(&w, &second, &calls[0].1).await;
    assert_eq!(
        request.header.destination.as_deref(),
        Some("https://two.example/slo/soap")
    );
    assert_eq!(request.name_id.value, second_name_id);
    assert_eq!(
        request.name_id.format.as_deref(),
        Some("urn:oasis:names:tc:SAML:2.0:nameid-format:persistent")
    );
    assert_eq!(request.session_indexes, vec![second_index]);
    assert_eq!(
        b.get(&w.api, &format!("/{}/", w.tenant)).await.status,
        StatusCode::SEE_OTHER,
        "the session is over"
    );

    // Sésame's sign-out page: the same call, then the signed-out page, which says when an
    // application did not confirm.
    let partial_note = "Some applications could not be told";
    for (answer, partial) in [(SoapAnswer::Confirm, false), (SoapAnswer::Fault, true)] {
        *soap.answer.lock().unwrap() = answer;
        let calls_before = soap.calls().len();
        b.sign_in(&w.api, &w.tenant, None).await;
        posted_response(
            &b.get(&w.api, &format!("/{}/apps/{second}/launch", w.tenant))
                .await,
        );
        let out = b
            .send_with(
                &w.api,
                "GET",
                &format!("/{}/logout", w.tenant),
                None,
                &[("sec-fetch-site", "same-origin")],
            )
            .await;
        assert!(out.text.contains("Signed out"), "{}", out.text);
        assert_eq!(
            out.text.contains(partial_note),
            partial,
            "{answer:?}: {}",
            out.text
        );
        assert_eq!(soap.calls().len(), calls_before + 1);
    }

    // Both endpoints, and the browser holds the session: front channel only.
    let path = format!("/api/v1/tenants/{}/apps/{second}/saml", w.tenant);
    let mut settings = w.api.get(&path).await.body;
    settings["logoutUrl"] = json!("https://two.example/slo");
    let r = w.api.json("PUT", &path, settings).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let calls_before = soap.calls().len();
    let mut b = Browser::new();
    let first = signed_in_to_both(&w, &mut b, &second).await;
    let (name_id, index) = name_id_and_session_index(&first);
    let logout = logout_request_xml(&w, "_lo-front", &name_id, Some(&index));
    let page = b.get(&w.api, &w.redirect(&logout, None)).await;
    let to = page.location.unwrap_or_else(|| panic!("{}", page.text));
    assert!(
        to.starts_with("https://two.example/slo?SAMLRequest="),
        "{to}"
    );
    assert_eq!(soap.calls().len(), calls_before, "no SOAP call");
}

/// A session of more applications than the logout-progress cookie holds: the browser visits
/// the first ones, and those that did not fit are told over SOAP instead (they have an
/// endpoint), so the application that asked hears Success, not PartialLogout.
#[tokio::test]
async fn applications_beyond_the_progress_cookie_are_told_over_the_back_channel() {
    let soap = SoapSp::new(SoapAnswer::Confirm);
    let w = world_with("http://127.0.0.1:8080", json!({}), Some(soap.clone())).await;
    w.assign().await;
    let mut hosts = Vec::new();
    let mut b = Browser::new();
    b.sign_in(&w.api, &w.tenant, None).await;
    let first = posted_response(&b.get(&w.api, &w.redirect(&w.request(ACS, ""), None)).await);
    for i in 0..40 {
        let host = format!("app{i}.example");
        let app = w
            .second_app_with_logout(json!({
                "identifiers": [format!("https://{host}/sp")],
                "replyUrls": [{ "url": format!("https://{host}/acs"), "index": 0, "isDefault": true }],
                "logoutUrl": format!("https://{host}/slo"),
                "backChannelLogoutUrl": format!("https://{host}/slo/soap"),
            }))
            .await;
        posted_response(
            &b.get(&w.api, &format!("/{}/apps/{app}/launch", w.tenant))
                .await,
        );
        hosts.push(host);
    }
    let (name_id, index) = name_id_and_session_index(&first);
    let logout = logout_request_xml(&w, "_lo-many", &name_id, Some(&index));
    let mut page = b.get(&w.api, &w.redirect(&logout, None)).await;
    let mut visited = Vec::new();
    loop {
        let to = page
            .location
            .clone()
            .unwrap_or_else(|| panic!("{}", page.text));
        if to.starts_with("https://sp.example/slo?") {
            break;
        }
        let (at, query) = to.split_once('?').unwrap();
        let host = at
            .strip_prefix("https://")
            .unwrap()
            .strip_suffix("/slo")
            .unwrap();
        let request = sesame_saml::decode_redirect(query).unwrap();
        let request = sesame_saml::parse_logout_request(&request.xml).unwrap();
        visited.push(host.to_owned());
        let answer = second_logout_response(&request.header.id, &format!("https://{host}/sp"));
        let q = encode_redirect(&answer, MessageKind::Response, None, None).unwrap();
        page = b.get(&w.api, &format!("{}?{q}", w.sso())).await;
    }
    let answer = logout_response_at(&page);
    assert_eq!(answer.in_response_to.as_deref(), Some("_lo-many"));
    assert_eq!(answer.status, sesame_saml::Status::success());
    let called: Vec<String> = soap
        .calls()
        .iter()
        .map(|(url, _)| {
            url.strip_prefix("https://")
                .unwrap()
                .strip_suffix("/slo/soap")
                .unwrap()
                .to_owned()
        })
        .collect();
    assert!(
        !visited.is_empty() && !called.is_empty(),
        "visited {visited:?}, called {called:?}"
    );
    // The first in the browser's round, the rest over SOAP; each told once.
    let mut told = visited.clone();
    let mut called_sorted = called.clone();
    called_sorted.sort_by_key(|h| hosts.iter().position(|x| x == h));
    told.extend(called_sorted);
    assert_eq!(told, hosts, "visited {visited:?}, called {called:?}");
}

/// A LogoutRequest that ends a session without the browser holding it (a cross-site POST
/// without Sésame's cookie) cannot send a browser anywhere, but the back channel reaches the
/// session's other applications: with their confirmation the SP hears Success. Every way an
/// answer can fail to confirm makes it PartialLogout, and nothing of the logout is undone.
#[tokio::test]
async fn cookieless_logouts_reach_other_applications_over_the_back_channel() {
    let cert = std::fs::read_to_string(format!("{KEYS}/sp.cert.pem")).unwrap();
    // (answer, whether the app requires signatures, whether the logout is partial)
    let cases = [
        (SoapAnswer::Confirm, false, false),
        (SoapAnswer::ConfirmSigned, false, false),
        (SoapAnswer::ConfirmSigned, true, false),
        (SoapAnswer::Confirm, true, true),
        (SoapAnswer::SignedByStranger, false, true),
        (SoapAnswer::OtherIssuer, false, true),
        (SoapAnswer::Partial, false, true),
        (SoapAnswer::OtherRequest, false, true),
        (SoapAnswer::Fault, false, true),
        (SoapAnswer::LongFault, false, true),
        (SoapAnswer::SuccessWith500, false, true),
        (SoapAnswer::Down, false, true),
    ];
    for (answer, required, partial) in cases {
        let soap = SoapSp::new(answer);
        let w = world_with("http://127.0.0.1:8080", json!({}), Some(soap.clone())).await;
        w.assign().await;
        let second = w
            .second_app_with_logout(json!({
                "backChannelLogoutUrl": "https://two.example/slo/soap",
                "verificationCertificates": [cert.clone()],
                "requireSignedRequests": required,
            }))
            .await;
        let mut b = Browser::new();
        let first = signed_in_to_both(&w, &mut b, &second).await;
        let (name_id, index) = name_id_and_session_index(&first);
        let named = logout_request_xml(&w, "_lo-bc", &name_id, Some(&index));
        let reply = Browser::new().get(&w.api, &w.redirect(&named, None)).await;
        let status = logout_response_at(&reply);
        let heard_partial = status.status.sub_code == Some(sesame_saml::StatusCode::PartialLogout);
        let case = format!("{answer:?}, signatures required: {required}");
        assert_eq!(heard_partial, partial, "{case}: {:?}", status.status);
        assert_eq!(soap.calls().len(), 1, "{case}");
        assert_eq!(
            b.get(&w.api, &format!("/{}/", w.tenant)).await.status,
            StatusCode::SEE_OTHER,
            "{case}: the session is over whatever the answer"
        );
    }
}

/// Without a SOAP client (a process built without one), an application reachable only over
/// the back channel is not told, and the logout says so.
#[tokio::test]
async fn without_a_back_channel_soap_only_applications_make_the_logout_partial() {
    let w = world(json!({})).await;
    w.assign().await;
    let soap_only =
        json!({ "logoutUrl": null, "backChannelLogoutUrl": "https://two.example/slo/soap" });
    let second = w.second_app_with_logout(soap_only).await;
    let mut b = Browser::new();
    let first = signed_in_to_both(&w, &mut b, &second).await;
    let (name_id, index) = name_id_and_session_index(&first);
    let logout = logout_request_xml(&w, "_lo-nosoap", &name_id, Some(&index));
    let answer = logout_response_at(&b.get(&w.api, &w.redirect(&logout, None)).await);
    assert_eq!(
        answer.status.sub_code,
        Some(sesame_saml::StatusCode::PartialLogout)
    );
}

/// The back-channel URL is checked as the other URLs: https, or http on loopback only.
#[tokio::test]
async fn back_channel_logout_urls_are_validated() {
    let w = world(json!({})).await;
    let r = w
        .api
        .json(
            "POST",
            &format!("/api/v1/tenants/{}/apps/saml", w.tenant),
            json!({ "name": "Plain", "settings": {
                "identifiers": ["https://three.example/sp"],
                "replyUrls": [{ "url": "https://three.example/acs", "index": 0 }],
                "backChannelLogoutUrl": "http://three.example/slo/soap",
            }}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert!(r.text.contains("backChannelLogoutUrl"), "{}", r.text);
}

/// A LogoutRequest for Sésame's SOAP endpoint (its Destination).
fn logout_request_for_soap(w: &World, id: &str, name_id: &str, index: Option<&str>) -> String {
    logout_request_xml(w, id, name_id, index).replace(
        &format!("/{}/saml2\"", w.tenant),
        &format!("/{}/saml2/soap\"", w.tenant),
    )
}

/// A signed LogoutRequest in a SOAP envelope, for Sésame's SOAP endpoint.
fn soap_logout_request_to_sesame(w: &World, id: &str, name_id: &str, index: &str) -> String {
    let xml = logout_request_for_soap(w, id, name_id, Some(index));
    let signed = sesame_xmlsec::sign_enveloped(
        &xml,
        &ElementPath::root(sesame_saml::ns::PROTOCOL, "LogoutRequest"),
        &sp_key("sp"),
        &sesame_xmlsec::SignOptions::default(),
    )
    .unwrap();
    sesame_saml::soap_envelope(&signed)
}

/// An application's server logs the user out over SOAP (profiles §4.4.3.4): no browser, no
/// cookie. The session it names ends, the session's other application hears of it over the
/// back channel, and the answer is Sésame's signed LogoutResponse in a SOAP envelope. Only a
/// signed request counts. A refused request gets an error status and ends nothing, what is not
/// a SOAP LogoutRequest a SOAP fault, both with the code and the correlation id, never a page;
/// the metadata publishes the endpoint.
#[tokio::test]
async fn applications_log_users_out_over_soap() {
    let cert = std::fs::read_to_string(format!("{KEYS}/sp.cert.pem")).unwrap();
    let soap = SoapSp::new(SoapAnswer::Confirm);
    let w = world_with(
        "http://127.0.0.1:8080",
        json!({ "verificationCertificates": [cert] }),
        Some(soap.clone()),
    )
    .await;
    w.assign().await;
    let second = w
        .second_app_with_logout(json!({ "backChannelLogoutUrl": "https://two.example/slo/soap" }))
        .await;
    let mut b = Browser::new();
    let first = signed_in_to_both(&w, &mut b, &second).await;
    let (name_id, index) = name_id_and_session_index(&first);
    let endpoint = format!("/{}/saml2/soap", w.tenant);
    let post = async |body: &str| {
        w.api
            .call(
                "POST",
                &endpoint,
                None,
                Some(("text/xml; charset=utf-8", body.as_bytes().to_vec())),
            )
            .await
    };

    let reply = post(&soap_logout_request_to_sesame(
        &w, "_lo-s1", &name_id, &index,
    ))
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert!(
        reply.content_type.starts_with("text/xml"),
        "{}",
        reply.content_type
    );
    let mut trusted = TrustedKeys::new();
    trusted.add_certificate_der(&w.certificate().await).unwrap();
    let answer = sesame_saml::verify_soap_logout_response(
        &reply.text,
        &trusted,
        &sesame_xmlsec::AllowedAlgorithms::default(),
    )
    .unwrap();
    assert_eq!(answer.get().in_response_to.as_deref(), Some("_lo-s1"));
    assert_eq!(answer.get().status, sesame_saml::Status::success());
    assert_eq!(
        answer.get().destination,
        None,
        "the answer goes back on the connection"
    );
    assert_eq!(
        answer.get().issuer,
        format!("http://127.0.0.1:8080/{}/", w.tenant)
    );
    assert_eq!(soap.calls().len(), 1, "the other application was told");
    assert_eq!(
        b.get(&w.api, &format!("/{}/", w.tenant)).await.status,
        StatusCode::SEE_OTHER,
        "the session is over"
    );

    // Refusals of the LogoutRequest: a SAML error status in a 200 answer (bindings §3.2.3.3),
    // unsigned, with the code and the correlation id; what is not a SOAP LogoutRequest at all:
    // a SOAP fault (HTTP 500). A fresh session, which no refusal ends.
    let mut b = Browser::new();
    let first = signed_in_to_both(&w, &mut b, &second).await;
    let (name_id, index) = name_id_and_session_index(&first);
    let home = format!("/{}/", w.tenant);
    let calls_before = soap.calls().len();
    let stranger = soap_logout_request_to_sesame(&w, "_lo-s3", &name_id, &index)
        .replace("https://sp.example/sp", "https://nobody.example/sp");
    let denied = "urn:oasis:names:tc:SAML:2.0:status:RequestDenied";
    let requester = "urn:oasis:names:tc:SAML:2.0:status:Requester";
    let unsigned = |id: &str, index: Option<&str>| {
        sesame_saml::soap_envelope(&logout_request_for_soap(&w, id, &name_id, index))
    };
    let soap12 = soap_logout_request_to_sesame(&w, "_lo-s8", &name_id, &index).replace(
        sesame_saml::bindings::SOAP_ENVELOPE,
        "http://www.w3.org/2003/05/soap-envelope",
    );
    // The last: Ok(the status answered) or Err(the SOAP fault code).
    let cases: Vec<(&str, String, &str, Result<&str, &str>)> = vec![
        (
            "replayed",
            soap_logout_request_to_sesame(&w, "_lo-s1", &name_id, &index),
            "already used",
            Ok(requester),
        ),
        ("not XML", "<S:Envelope".into(), "SESAME-3002", Err("Client")),
        (
            "not SOAP",
            logout_request_xml(&w, "_lo-s4", &name_id, None),
            "SESAME-3002",
            Err("Client"),
        ),
        (
            "SOAP 1.2",
            soap12,
            "soap-version-mismatch",
            Err("VersionMismatch"),
        ),
        (
            "a mandatory header",
            soap_logout_request_to_sesame(&w, "_lo-s11", &name_id, &index).replace(
                "<SOAP-ENV:Body>",
                r#"<SOAP-ENV:Header><w:Security xmlns:w="urn:wss" SOAP-ENV:mustUnderstand="1"/></SOAP-ENV:Header><SOAP-ENV:Body>"#,
            ),
            "soap-must-understand",
            Err("MustUnderstand"),
        ),
        // Addressed to this endpoint's URL (however spelled): meant for Sésame too (SOAP 1.1
        // §4.2.2).
        (
            "a mandatory header for Sésame's URL",
            soap_logout_request_to_sesame(&w, "_lo-s12", &name_id, &index).replace(
                "<SOAP-ENV:Body>",
                &format!(
                    r#"<SOAP-ENV:Header><w:Security xmlns:w="urn:wss" SOAP-ENV:mustUnderstand="1" SOAP-ENV:actor="HTTP://127.0.0.1:8080/{}/saml2/soap/"/></SOAP-ENV:Header><SOAP-ENV:Body>"#,
                    w.tenant
                ),
            ),
            "soap-must-understand",
            Err("MustUnderstand"),
        ),
        ("unknown issuer", stranger, "SESAME-3001", Ok(denied)),
        (
            "a signature that does not verify",
            soap_logout_request_to_sesame(&w, "_lo-s5", &name_id, &index)
                .replace(&name_id, "x@contoso.example"),
            "SESAME-3004",
            Ok(denied),
        ),
        // Over SOAP only a signature authenticates the sender: a SessionIndex is not enough.
        (
            "unsigned, with the SessionIndex",
            unsigned("_lo-s7", Some(&index)),
            "SESAME-3004",
            Ok(denied),
        ),
        (
            "unsigned, bare NameID",
            unsigned("_lo-s2", None),
            "SESAME-3004",
            Ok(denied),
        ),
        (
            "signed for another endpoint",
            sesame_saml::soap_envelope(
                &sesame_xmlsec::sign_enveloped(
                    &logout_request_xml(&w, "_lo-s6", &name_id, Some(&index)),
                    &ElementPath::root(sesame_saml::ns::PROTOCOL, "LogoutRequest"),
                    &sp_key("sp"),
                    &sesame_xmlsec::SignOptions::default(),
                )
                .unwrap(),
            ),
            "Destination",
            Ok(requester),
        ),
        (
            "SAML 1.1",
            soap_logout_request_to_sesame(&w, "_lo-s9", &name_id, &index)
                .replace("Version=\"2.0\"", "Version=\"1.1\""),
            "SESAME-3002",
            Ok("urn:oasis:names:tc:SAML:2.0:status:VersionMismatch"),
        ),
    ];
    for (case, body, says, status) in cases {
        let reply = post(&body).await;
        let reason = match status {
            Ok(status) => {
                assert_eq!(reply.status, StatusCode::OK, "{case}: {}", reply.text);
                assert!(!reply.text.contains("Signature"), "{case}: unsigned");
                let answer = sesame_saml::parse_soap_logout_response(&reply.text).unwrap();
                assert_eq!(
                    answer.status.sub_code.unwrap_or(answer.status.code).uri(),
                    status,
                    "{case}"
                );
                assert!(answer.in_response_to.is_some(), "{case}");
                answer.status.message.unwrap_or_default()
            }
            Err(fault) => {
                assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR, "{case}");
                match sesame_saml::parse_soap_logout_response(&reply.text) {
                    Err(sesame_saml::SamlError::SoapFault(reason)) => {
                        assert!(
                            reason.starts_with(&format!("SOAP-ENV:{fault} ")),
                            "{case}: {reason}"
                        );
                        reason
                    }
                    other => panic!("{case}: {other:?}"),
                }
            }
        };
        assert!(reason.contains(says), "{case}: {reason}");
        assert!(reason.contains("correlation id"), "{case}: {reason}");
        assert_eq!(
            b.get(&w.api, &home).await.status,
            StatusCode::OK,
            "{case}: the session stays"
        );
        assert_eq!(soap.calls().len(), calls_before, "{case}: nobody told");
    }
    // Too large, not UTF-8, an unknown organisation: faults.
    for (case, path, body) in [
        (
            "too large",
            endpoint.clone(),
            vec![b' '; sesame_saml::bindings::MAX_SOAP_BYTES + 1],
        ),
        ("not UTF-8", endpoint.clone(), vec![0xff, 0xfe]),
        (
            "unknown organisation",
            "/nowhere.example/saml2/soap".to_string(),
            soap_logout_request_to_sesame(&w, "_lo-s10", &name_id, &index).into_bytes(),
        ),
    ] {
        let reply = w
            .api
            .call("POST", &path, None, Some(("text/xml", body)))
            .await;
        assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR, "{case}");
        assert!(
            reply.text.contains("SOAP-ENV:Client"),
            "{case}: {}",
            reply.text
        );
        assert!(reply.text.contains("SESAME-"), "{case}: {}", reply.text);
    }
    let md = b
        .get(
            &w.api,
            &format!(
                "/{}/federationmetadata/2007-06/federationmetadata.xml?appid={}",
                w.tenant, w.app
            ),
        )
        .await;
    assert!(
        md.text.contains(&format!(
            "Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:SOAP\" Location=\"http://127.0.0.1:8080/{}/saml2/soap\"",
            w.tenant
        )),
        "{}",
        md.text
    );
}

/// How an administrator or a provisioning client takes an account away.
#[derive(Debug, Clone, Copy)]
enum AccountRemoval {
    AdminDisable,
    AdminDelete,
    ScimDisable,
    ScimDelete,
}

/// An account disabled or deleted, by the admin API or over SCIM: its sessions end at Sésame,
/// and each application reached in them that has a SOAP endpoint hears it from Sésame, since
/// no browser will come to log it out: once per NameID it was issued, however many browsers
/// reached it, with an administrator's LogoutRequest (Reason admin) naming the SessionIndex of
/// each of those sessions. An application with only a front-channel endpoint cannot be told.
#[tokio::test]
async fn removed_accounts_are_logged_out_of_applications_with_a_soap_endpoint() {
    use AccountRemoval::*;
    for removal in [AdminDisable, AdminDelete, ScimDisable, ScimDelete] {
        let soap = SoapSp::new(SoapAnswer::Confirm);
        let w = world_with("http://127.0.0.1:8080", json!({}), Some(soap.clone())).await;
        w.assign().await;
        let second = w
            .second_app_with_logout(json!({
                "backChannelLogoutUrl": "https://two.example/slo/soap",
                "nameId": { "format": "persistent", "source": { "kind": "pairwise" } },
            }))
            .await;
        let mut b = Browser::new();
        b.sign_in(&w.api, &w.tenant, None).await;
        posted_response(&b.get(&w.api, &w.redirect(&w.request(ACS, ""), None)).await);
        let launched = posted_response(
            &b.get(&w.api, &format!("/{}/apps/{second}/launch", w.tenant))
                .await,
        );
        let (name_id, index) = name_id_and_session_index(&launched);
        // A second browser of the same account, which has reached both apps too.
        let mut other = Browser::new();
        other.sign_in(&w.api, &w.tenant, None).await;
        let launched_too = posted_response(
            &other
                .get(&w.api, &format!("/{}/apps/{second}/launch", w.tenant))
                .await,
        );
        let (same_name_id, other_index) = name_id_and_session_index(&launched_too);
        assert_eq!(same_name_id, name_id, "pairwise per user and application");
        assert!(soap.calls().is_empty());

        let user = w
            .api
            .get(&format!(
                "/api/v1/tenants/{}/users/alice@contoso.example",
                w.tenant
            ))
            .await
            .body["id"]
            .as_str()
            .unwrap()
            .to_string();
        let admin_path = format!("/api/v1/tenants/{}/users/{user}", w.tenant);
        let scim = || async {
            let token = w
                .api
                .json(
                    "POST",
                    &format!("/api/v1/tenants/{}/scim/tokens", w.tenant),
                    json!({ "name": "Entra" }),
                )
                .await;
            token.body["secret"].as_str().unwrap().to_string()
        };
        let scim_path = format!("/{}/scim/v2/Users/{user}", w.tenant);
        let status = match removal {
            AdminDisable => {
                w.api
                    .json("PATCH", &admin_path, json!({ "accountEnabled": false }))
                    .await
                    .status
            }
            AdminDelete => {
                w.api
                    .call("DELETE", &admin_path, Some(ADMIN), None)
                    .await
                    .status
            }
            ScimDisable => {
                let patch = json!({
                    "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                    "Operations": [{ "op": "replace", "path": "active", "value": false }],
                });
                let body = ("application/scim+json", patch.to_string().into_bytes());
                w.api
                    .call("PATCH", &scim_path, Some(&scim().await), Some(body))
                    .await
                    .status
            }
            ScimDelete => {
                w.api
                    .call("DELETE", &scim_path, Some(&scim().await), None)
                    .await
                    .status
            }
        };
        assert!(status.is_success(), "{removal:?}: {status}");

        // The call runs in the background.
        let mut calls = soap.calls();
        for _ in 0..200 {
            if !calls.is_empty() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            calls = soap.calls();
        }
        assert_eq!(calls.len(), 1, "{removal:?}: {calls:?}");
        assert_eq!(calls[0].0, "https://two.example/slo/soap");
        let request = soap_logout_request(&w, &second, &calls[0].1).await;
        assert_eq!(request.name_id.value, name_id, "{removal:?}");
        let mut both = vec![index, other_index];
        both.sort();
        assert_eq!(request.session_indexes, both, "{removal:?}");
        assert_eq!(
            request.reason.as_deref(),
            Some("urn:oasis:names:tc:SAML:2.0:logout:admin")
        );
        if matches!(removal, AdminDisable | ScimDisable) {
            // Enabled again, the account has no session left: they ended, not just paused.
            let r = w
                .api
                .json("PATCH", &admin_path, json!({ "accountEnabled": true }))
                .await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        }
        for browser in [&mut b, &mut other] {
            assert_eq!(
                browser.get(&w.api, &format!("/{}/", w.tenant)).await.status,
                StatusCode::SEE_OTHER,
                "{removal:?}: the session is over"
            );
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        assert_eq!(soap.calls().len(), 1, "{removal:?}: one call only");
    }
}
