//! B2B guests (DIR-4) through direct federation (SAML-SP-5, seed 002), through the router:
//! every refusal of a direct federation (verified domain of the tenant, logon host outside the
//! partner's domain and the allow-list, more than 1,000 federations), invitations, and the
//! guest's sign-in through the partner's IdP (persistent NameID + `emailaddress` claim), which
//! redeems the invitation and binds it to that identity.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Value, json};
use sesame_core::NewTenant;
use sesame_core::guests::EMAIL_CLAIM;
use sesame_model::{Domain, DomainStatus, SignInQuery, Tenant};
use sesame_saml::{Attribute, NameId, ResponseParams, SignWith, Signer, SigningMode, ns};
use sesame_xmlsec::SigningKey;
use time::{Duration, OffsetDateTime};
use tower::ServiceExt;

const PARTNER: &str = "partner.example";
const IDP: &str = "https://sts.partner.example/idp";
const GUEST: &str = "ann@partner.example";

fn keys(name: &str) -> (String, String) {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../sesame-saml/testdata/keys");
    (
        std::fs::read_to_string(format!("{dir}/{name}.key.pem")).unwrap(),
        std::fs::read_to_string(format!("{dir}/{name}.cert.pem")).unwrap(),
    )
}

struct Env {
    api: common::Api,
    tenant: Tenant,
}

fn direct(passive: &str) -> Value {
    json!({
        "issuerUri": IDP,
        "passiveLogonUrl": passive,
        "logoffUrl": "https://sts.partner.example/slo",
        "signingCertificates": [keys("idp").1],
    })
}

async fn env() -> Env {
    let api = common::api().await;
    let tenant = api
        .core
        .create_tenant(NewTenant {
            name: "Contoso".into(),
            initial_domain: Some("contoso.example".into()),
        })
        .await
        .unwrap();
    let e = Env { api, tenant };
    let r = e
        .put_direct(PARTNER, direct("https://sts.partner.example/sso"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    e
}

impl Env {
    async fn put_direct(&self, domain: &str, body: Value) -> common::Reply {
        self.api
            .json(
                "PUT",
                &format!(
                    "/api/v1/tenants/{}/directfederations/{domain}",
                    self.tenant.id
                ),
                body,
            )
            .await
    }

    async fn invite(&self, email: &str) -> common::Reply {
        self.api
            .json(
                "POST",
                &format!("/api/v1/tenants/{}/guests", self.tenant.id),
                json!({ "email": email }),
            )
            .await
    }

    async fn send(&self, req: Request<Body>) -> (StatusCode, Option<String>, String) {
        let res = self.api.router.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let cookie = res
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .find(|v| v.starts_with("sesame_session_") && !v.contains("Max-Age=0"));
        let bytes = axum::body::to_bytes(res.into_body(), 1 << 20)
            .await
            .unwrap();
        (status, cookie, String::from_utf8_lossy(&bytes).into_owned())
    }

    /// Follows a redemption link (the tenant's sign-in page with `login_hint`): the ID of the
    /// AuthnRequest posted to the partner's IdP.
    async fn follow(&self, link: &str) -> String {
        let path = link.strip_prefix("http://127.0.0.1:8080").unwrap();
        let (status, _, text) = self
            .send(Request::get(path).body(Body::empty()).unwrap())
            .await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            text.contains("action=\"https://sts.partner.example/sso\""),
            "{text}"
        );
        let value = text
            .split("name=\"SAMLRequest\" value=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        let xml = String::from_utf8(B64.decode(value).unwrap()).unwrap();
        sesame_saml::parse_authn_request(&xml)
            .unwrap()
            .id()
            .to_owned()
    }

    fn link(&self) -> String {
        format!(
            "http://127.0.0.1:8080/{}/login?login_hint=ann%40partner.example",
            self.tenant.id
        )
    }

    async fn post(&self, xml: &str) -> (StatusCode, Option<String>, String) {
        let body = format!(
            "SAMLResponse={}",
            B64.encode(xml)
                .replace('+', "%2B")
                .replace('/', "%2F")
                .replace('=', "%3D")
        );
        self.send(
            Request::post(format!("/{}/saml2/acs", self.tenant.id))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(Body::from(body))
                .unwrap(),
        )
        .await
    }

    /// The partner IdP's answer to `req` for `name_id`, with `email` in the emailaddress claim.
    fn answer(&self, req: &str, assertion_id: &str, name_id: &str, email: Option<&str>) -> String {
        let (k, c) = keys("idp");
        let key = SigningKey::from_pem(&k, &c).unwrap();
        let now = OffsetDateTime::now_utc();
        let nid = NameId {
            value: name_id.into(),
            format: Some(ns::nameid::PERSISTENT.into()),
            name_qualifier: None,
            sp_name_qualifier: None,
        };
        let attrs: Vec<Attribute> = email
            .map(|e| Attribute {
                name: EMAIL_CLAIM.into(),
                name_format: None,
                friendly_name: None,
                values: vec![e.into()],
            })
            .into_iter()
            .collect();
        let acs = format!("http://127.0.0.1:8080/{}/saml2/acs", self.tenant.id);
        let sp = format!("http://127.0.0.1:8080/{}/sp", self.tenant.id);
        let p = ResponseParams {
            response_id: "_r",
            assertion_id,
            issue_instant: now,
            issuer: IDP,
            destination: &acs,
            in_response_to: Some(req),
            audience: &sp,
            name_id: &nid,
            subject_not_on_or_after: now + Duration::minutes(5),
            not_before: now - Duration::seconds(5),
            not_on_or_after: now + Duration::minutes(5),
            authn_instant: now,
            session_index: None,
            session_not_on_or_after: None,
            authn_context_class_ref: ns::AC_PASSWORD_PROTECTED_TRANSPORT,
            attributes: &attrs,
        };
        let signer = Signer {
            sign: SignWith::rsa_sha256(&key),
            mode: SigningMode::Assertion,
            encryption: None,
        };
        sesame_saml::build_response(&p, &signer).unwrap()
    }

    /// The tenant's landing page for the browser holding `session`.
    async fn landing(&self, session: &str) -> String {
        let (_, _, page) = self
            .send(
                Request::get(format!("/{}/", self.tenant.id))
                    .header("cookie", session)
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        page
    }

    /// Signs out at Sésame's page: where the browser goes next, and the page.
    async fn sign_out(&self, session: &str) -> (Option<String>, String) {
        let out = self
            .api
            .router
            .clone()
            .oneshot(
                Request::get(format!("/{}/logout", self.tenant.id))
                    .header("cookie", session)
                    .header("sec-fetch-site", "same-origin")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        let location = out
            .headers()
            .get("location")
            .map(|l| l.to_str().unwrap().to_owned());
        let bytes = axum::body::to_bytes(out.into_body(), 1 << 20)
            .await
            .unwrap();
        (location, String::from_utf8_lossy(&bytes).into_owned())
    }

    async fn last_reason(&self) -> String {
        let page = self
            .api
            .core
            .store()
            .list_sign_ins(self.tenant.id, &SignInQuery::default(), &Default::default())
            .await
            .unwrap();
        page.items[0].reason.clone().unwrap_or_default()
    }

    async fn refused(&self, r: (StatusCode, Option<String>, String), code: &str, rule: &str) {
        assert!(r.0.is_client_error(), "{:?} {}", r.0, r.2);
        assert!(r.1.is_none(), "no session");
        assert!(r.2.contains(code), "{code}: {}", r.2);
        let reason = self.last_reason().await;
        assert!(reason.contains(code) && reason.contains(rule), "{reason}");
    }
}

#[tokio::test]
async fn direct_federation_of_a_verified_domain_of_the_tenant_is_refused() {
    let e = env().await;
    e.api
        .core
        .store()
        .add_domain(&Domain {
            tenant_id: e.tenant.id,
            name: "fabrikam.example".into(),
            status: DomainStatus::Verified,
            verification_token: "t".into(),
            created_at: OffsetDateTime::now_utc(),
            verified_at: Some(OffsetDateTime::now_utc()),
        })
        .await
        .unwrap();
    for domain in ["fabrikam.example", "contoso.example"] {
        let r = e
            .put_direct(domain, direct(&format!("https://sts.{domain}/sso")))
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{domain}: {}", r.text);
    }
    let r = e
        .put_direct(
            "fabrikam.example",
            direct("https://sts.fabrikam.example/sso"),
        )
        .await;
    assert!(r.text.contains("verified domain"), "{}", r.text);
}

#[tokio::test]
async fn logon_url_outside_the_domain_and_the_allow_list_is_refused() {
    let e = env().await;
    for (url, ok) in [
        ("https://adfs.northwind.example/adfs/ls", true),
        ("https://northwind.example/adfs/ls", true),
        ("https://accounts.google.com/o/saml2/idp", true),
        ("https://northwind.okta.com/app/sso/saml", true),
        ("https://northwindconglomerate.example/adfs", false),
        ("https://northwind.example.evil.example/adfs", false),
        ("https://northwind.example@evil.example/adfs", false),
        ("https://idp.partner.example/sso", false),
    ] {
        let r = e.put_direct("northwind.example", direct(url)).await;
        let want = if ok {
            StatusCode::OK
        } else {
            StatusCode::BAD_REQUEST
        };
        assert_eq!(r.status, want, "{url}: {}", r.text);
        if !ok {
            assert!(r.text.contains("passiveLogonUrl"), "{}", r.text);
        }
    }
    // A logon URL read from metadata is held to the same rule.
    let metadata = format!(
        r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="{IDP}"><md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"><md:KeyDescriptor use="signing"><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data><ds:X509Certificate>{}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor><md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://evil.example/slo"/><md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://evil.example/sso"/></md:IDPSSODescriptor></md:EntityDescriptor>"#,
        keys("idp")
            .1
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .collect::<String>()
    );
    let r = e
        .put_direct("northwind.example", json!({ "metadataXml": metadata }))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert!(r.text.contains("evil.example"), "{}", r.text);
}

#[tokio::test]
async fn more_than_a_thousand_federations_per_tenant_are_refused() {
    let e = env().await;
    // 1 so far (partner.example); the store holds 998 more, the API adds the 1,000th.
    let template = e
        .api
        .core
        .get_direct_federation(e.tenant.id, PARTNER)
        .await
        .unwrap();
    for i in 0..998 {
        let mut f = template.clone();
        f.domain = format!("p{i}.example");
        e.api
            .core
            .store()
            .put_direct_federation(&f, 1000)
            .await
            .unwrap();
    }
    let r = e
        .put_direct("last.example", direct("https://sts.last.example/sso"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = e
        .put_direct(
            "one-too-many.example",
            direct("https://sts.one-too-many.example/sso"),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert!(r.text.contains("at most 1000 federations"), "{}", r.text);
    // Replacing an existing one is not a new one.
    let r = e
        .put_direct("last.example", direct("https://sts2.last.example/sso"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
}

#[tokio::test]
async fn invitations_are_refused_without_direct_federation_for_members_and_twice() {
    let e = env().await;
    for (email, status) in [
        ("someone@nofederation.example", StatusCode::BAD_REQUEST),
        ("alice@contoso.example", StatusCode::BAD_REQUEST),
        ("not an address", StatusCode::BAD_REQUEST),
        (GUEST, StatusCode::CREATED),
        ("Ann@Partner.example", StatusCode::CONFLICT),
    ] {
        let r = e.invite(email).await;
        assert_eq!(r.status, status, "{email}: {}", r.text);
    }
    let list = e
        .api
        .get(&format!("/api/v1/tenants/{}/guests", e.tenant.id))
        .await;
    assert_eq!(list.body.as_array().unwrap().len(), 1);
    // One guest user, not two.
    let users = e
        .api
        .get(&format!("/api/v1/tenants/{}/users", e.tenant.id))
        .await;
    let guests: Vec<&Value> = users.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["userType"] == "Guest")
        .collect();
    assert_eq!(guests.len(), 1, "{}", users.text);
}

#[tokio::test]
async fn the_first_sign_in_redeems_the_invitation_and_binds_the_identity() {
    let e = env().await;
    let r = e.invite(GUEST).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let link = r.body["redeemUrl"].as_str().unwrap().to_owned();
    assert_eq!(link, e.link(), "the link carries the tenant context");
    let upn = r.body["user"]["userPrincipalName"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(upn, "ann_partner.example#ext#@contoso.example");

    // Refusals before redemption leave the invitation open.
    let req = e.follow(&link).await;
    let r = e.post(&e.answer(&req, "_a0", "PERSIST-ANN", None)).await;
    e.refused(r, "SESAME-4006", "user-matching").await;
    let req = e.follow(&link).await;
    let r = e
        .post(&e.answer(&req, "_a1", "PERSIST-ANN", Some("carl@partner.example")))
        .await;
    e.refused(r, "SESAME-4006", "user-matching").await;
    let req = e.follow(&link).await;
    let r = e
        .post(&e.answer(&req, "_a2", "PERSIST-ANN", Some("ann@elsewhere.example")))
        .await;
    e.refused(r, "SESAME-4006", "user-matching").await;

    // The first good sign-in redeems and opens a session for the guest.
    let req = e.follow(&link).await;
    let file = e.answer(&req, "_a3", "PERSIST-ANN", Some("Ann@Partner.example"));
    // The SSO test tool agrees and binds nothing.
    let report = e
        .api
        .json(
            "POST",
            &format!(
                "/api/v1/tenants/{}/domains/{PARTNER}/federation/inspect",
                e.tenant.id
            ),
            json!({ "samlResponse": B64.encode(&file) }),
        )
        .await;
    assert_eq!(report.body["passed"], true, "{}", report.text);
    let (status, cookie, text) = e.post(&file).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{text}");
    let pair = cookie.unwrap().split(';').next().unwrap().to_owned();
    let landing = e.landing(&pair).await;
    assert!(landing.contains(&upn), "{landing}");
    let list = e
        .api
        .get(&format!("/api/v1/tenants/{}/guests", e.tenant.id))
        .await;
    let inv = &list.body[0];
    assert_eq!(
        (inv["issuer"].as_str(), inv["nameId"].as_str()),
        (Some(IDP), Some("PERSIST-ANN"))
    );
    assert!(inv["redeemedAt"].is_string());

    // Later: the same identity signs in again; another NameID with the same address does not.
    let req = e.follow(&link).await;
    let (status, cookie, text) = e
        .post(&e.answer(&req, "_a4", "PERSIST-ANN", Some(GUEST)))
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{text}");
    // Signing out sends the guest on to the partner's IdP with a signed LogoutRequest for the
    // identity the invitation bound.
    let pair = cookie.unwrap().split(';').next().unwrap().to_owned();
    let (location, page) = e.sign_out(&pair).await;
    let location = location.unwrap_or_else(|| panic!("{page}"));
    let request = e
        .api
        .idp_logout_request(e.tenant.id, &location, "https://sts.partner.example/slo")
        .await;
    assert_eq!(request.name_id.value, "PERSIST-ANN");
    let req = e.follow(&link).await;
    let r = e
        .post(&e.answer(&req, "_a5", "PERSIST-MALLORY", Some(GUEST)))
        .await;
    e.refused(r, "SESAME-4006", "user-matching").await;
    assert!(e.last_reason().await.contains("user-matching"));

    // Removing the direct federation stops the guest.
    let req = e.follow(&link).await;
    let del = e
        .api
        .call(
            "DELETE",
            &format!(
                "/api/v1/tenants/{}/directfederations/{PARTNER}",
                e.tenant.id
            ),
            Some(common::ADMIN),
            None,
        )
        .await;
    assert_eq!(del.status, StatusCode::NO_CONTENT);
    let r = e
        .post(&e.answer(&req, "_a6", "PERSIST-ANN", Some(GUEST)))
        .await;
    e.refused(r, "SESAME-4003", "federation").await;
    let (_, _, page) = e
        .send(
            Request::get(link.strip_prefix("http://127.0.0.1:8080").unwrap())
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert!(
        !page.contains("SAMLRequest"),
        "no longer sent to the partner"
    );
}

/// A guest's sign-out reaches the IdP that redeemed the invitation even after the guest's
/// address changed (the invitation is found by user), and no longer once the direct
/// federation names another IdP: that one never issued the NameID.
#[tokio::test]
async fn guest_sign_out_follows_the_redeeming_idp() {
    let e = env().await;
    let r = e.invite(GUEST).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let user = r.body["user"]["id"].as_str().unwrap().to_owned();
    let link = e.link();
    let sign_in = |id: &'static str| {
        let (e, link) = (&e, &link);
        async move {
            let req = e.follow(link).await;
            let (status, cookie, text) = e
                .post(&e.answer(&req, id, "PERSIST-ANN", Some(GUEST)))
                .await;
            assert_eq!(status, StatusCode::SEE_OTHER, "{text}");
            cookie.unwrap().split(';').next().unwrap().to_owned()
        }
    };
    let pair = sign_in("_m1").await;
    let changed = e
        .api
        .json(
            "PATCH",
            &format!("/api/v1/tenants/{}/users/{user}", e.tenant.id),
            json!({ "mail": "ann.new@partner.example" }),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.text);
    let (location, page) = e.sign_out(&pair).await;
    let location = location.unwrap_or_else(|| panic!("not sent to the IdP: {page}"));
    let request = e
        .api
        .idp_logout_request(e.tenant.id, &location, "https://sts.partner.example/slo")
        .await;
    assert_eq!(request.name_id.value, "PERSIST-ANN");

    // Back to the invited address, signed in, then the partner moves to another IdP.
    let restored = e
        .api
        .json(
            "PATCH",
            &format!("/api/v1/tenants/{}/users/{user}", e.tenant.id),
            json!({ "mail": GUEST }),
        )
        .await;
    assert_eq!(restored.status, StatusCode::OK, "{}", restored.text);
    let pair = sign_in("_m2").await;
    let landing = e.landing(&pair).await;
    assert!(
        landing.contains("ann_partner.example#ext#"),
        "signed in: {landing}"
    );
    let mut replaced = direct("https://sts2.partner.example/sso");
    replaced["issuerUri"] = json!("https://sts2.partner.example/idp");
    replaced["logoffUrl"] = json!("https://sts2.partner.example/slo");
    let r = e.put_direct(PARTNER, replaced).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let (location, page) = e.sign_out(&pair).await;
    assert!(
        location.is_none() && page.contains("Signed out"),
        "{location:?}: {page}"
    );
}

/// A partner domain the tenant verifies later is its own: home-realm discovery no longer sends
/// its addresses to the partner's IdP, and the ACS no longer accepts that IdP for it.
#[tokio::test]
async fn a_domain_verified_after_direct_federation_is_no_longer_direct() {
    let e = env().await;
    assert_eq!(e.invite(GUEST).await.status, StatusCode::CREATED);
    let req = e.follow(&e.link()).await;
    e.api
        .core
        .store()
        .add_domain(&Domain {
            tenant_id: e.tenant.id,
            name: PARTNER.into(),
            status: DomainStatus::Verified,
            verification_token: "t".into(),
            created_at: OffsetDateTime::now_utc(),
            verified_at: Some(OffsetDateTime::now_utc()),
        })
        .await
        .unwrap();
    let r = e
        .post(&e.answer(&req, "_v1", "PERSIST-ANN", Some(GUEST)))
        .await;
    e.refused(r, "SESAME-4003", "federation").await;
    let (_, _, page) = e
        .send(
            Request::get(e.link().strip_prefix("http://127.0.0.1:8080").unwrap())
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert!(!page.contains("SAMLRequest"), "{page}");
}
