//! Sésame as the SP of a federated SAML IdP (issue 5), through the router: home-realm
//! discovery posts an AuthnRequest, the ACS validates the IdP's Response (built with
//! `sesame_saml::build_response`, signed by the test IdP key of `sesame-saml/testdata/keys`),
//! matches the user and opens a session; every refusal is an error page naming its code and a
//! sign-in log entry with protocol `saml`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use sesame_core::federation::FederationInput;
use sesame_core::{NewTenant, NewUser};
use sesame_model::{Domain, DomainStatus, SignInQuery, Tenant};
use sesame_saml::{Attribute, NameId, ResponseParams, SignWith, Signer, SigningMode, ns};
use sesame_xmlsec::SigningKey;
use time::{Duration, OffsetDateTime};
use tower::ServiceExt;

const IDP: &str = "https://idp.fabrikam.example/idp";
const DOMAIN: &str = "fabrikam.example";
const IMMUTABLE: &str = "ABCDEG1234567890";
const UPN: &str = "alice@fabrikam.example";

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

async fn env() -> Env {
    let api = common::api().await;
    let core = &api.core;
    let tenant = core
        .create_tenant(NewTenant {
            name: "Contoso".into(),
            initial_domain: Some("contoso.example".into()),
        })
        .await
        .unwrap();
    core.store()
        .add_domain(&Domain {
            tenant_id: tenant.id,
            name: DOMAIN.into(),
            status: DomainStatus::Verified,
            verification_token: "tok".into(),
            created_at: OffsetDateTime::now_utc(),
            verified_at: Some(OffsetDateTime::now_utc()),
        })
        .await
        .unwrap();
    core.create_user(
        tenant.id,
        NewUser {
            user_principal_name: UPN.into(),
            immutable_id: Some(IMMUTABLE.into()),
            ..NewUser::default()
        },
    )
    .await
    .unwrap();
    let e = Env { api, tenant };
    federate(&e, |_| {}).await;
    e
}

/// Federates the domain with the IdP (again), with the settings `with` changes.
async fn federate(e: &Env, with: impl FnOnce(&mut FederationInput)) {
    let mut input = FederationInput {
        issuer_uri: Some(IDP.into()),
        passive_logon_url: Some("https://idp.fabrikam.example/sso".into()),
        logoff_url: Some("https://idp.fabrikam.example/slo".into()),
        signing_certificates: vec![keys("idp").1],
        ..FederationInput::default()
    };
    with(&mut input);
    e.api
        .core
        .set_federation(e.tenant.id, DOMAIN, input)
        .await
        .unwrap();
}

struct Reply {
    status: StatusCode,
    location: Option<String>,
    cookie: Option<String>,
    text: String,
}

impl Env {
    async fn send(&self, req: Request<Body>) -> Reply {
        let res = self.api.router.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let header = |n: &str| {
            res.headers()
                .get_all(n)
                .iter()
                .map(|v| v.to_str().unwrap().to_owned())
                .find(|v| {
                    n != "set-cookie"
                        || v.starts_with("sesame_session_") && !v.contains("Max-Age=0")
                })
        };
        let location = header("location");
        let cookie = header("set-cookie");
        let bytes = axum::body::to_bytes(res.into_body(), 1 << 20)
            .await
            .unwrap();
        Reply {
            status,
            location,
            cookie,
            text: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    /// Home-realm discovery via `login_hint`: returns the AuthnRequest's ID.
    async fn start(&self) -> String {
        let r = self
            .send(
                Request::get(format!(
                    "/{}/login?login_hint={UPN}&continue=/{}/myapps",
                    self.tenant.id, self.tenant.id
                ))
                .body(Body::empty())
                .unwrap(),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(
            r.text
                .contains("action=\"https://idp.fabrikam.example/sso\""),
            "{}",
            r.text
        );
        let value = r
            .text
            .split("name=\"SAMLRequest\" value=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        let xml = String::from_utf8(B64.decode(value).unwrap()).unwrap();
        assert!(xml.contains(ns::nameid::PERSISTENT));
        assert!(xml.contains(&format!("/{}/saml2/acs", self.tenant.id)));
        let req = sesame_saml::parse_authn_request(&xml).unwrap();
        req.id().to_owned()
    }

    fn acs(&self) -> String {
        format!("http://127.0.0.1:8080/{}/saml2/acs", self.tenant.id)
    }

    fn sp(&self) -> String {
        format!("http://127.0.0.1:8080/{}/sp", self.tenant.id)
    }

    async fn post_response(&self, xml: &str) -> Reply {
        let body = format!("SAMLResponse={}", urlencode(&B64.encode(xml)));
        self.send(
            Request::post(format!("/{}/saml2/acs", self.tenant.id))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(Body::from(body))
                .unwrap(),
        )
        .await
    }

    async fn last_sign_in_reason(&self) -> (String, Option<String>) {
        let page = self
            .api
            .core
            .store()
            .list_sign_ins(self.tenant.id, &SignInQuery::default(), &Default::default())
            .await
            .unwrap();
        let e = &page.items[0];
        (e.protocol.clone(), e.reason.clone())
    }
}

fn urlencode(s: &str) -> String {
    s.replace('+', "%2B")
        .replace('/', "%2F")
        .replace('=', "%3D")
}

struct Resp<'a> {
    key: &'a str,
    in_response_to: Option<&'a str>,
    assertion_id: &'a str,
    name_id: &'a str,
    email: &'a str,
    audience: &'a str,
    destination: &'a str,
}

fn response(r: &Resp<'_>) -> String {
    let (k, c) = keys(r.key);
    let key = SigningKey::from_pem(&k, &c).unwrap();
    let now = OffsetDateTime::now_utc();
    let nid = NameId {
        value: r.name_id.into(),
        format: Some(ns::nameid::PERSISTENT.into()),
        name_qualifier: None,
        sp_name_qualifier: None,
    };
    let attrs = vec![Attribute {
        name: "IDPEmail".into(),
        name_format: None,
        friendly_name: None,
        values: vec![r.email.into()],
    }];
    let p = ResponseParams {
        response_id: "_resp-1",
        assertion_id: r.assertion_id,
        issue_instant: now - Duration::seconds(5),
        issuer: IDP,
        destination: r.destination,
        in_response_to: r.in_response_to,
        audience: r.audience,
        name_id: &nid,
        subject_not_on_or_after: now + Duration::minutes(5),
        not_before: now - Duration::seconds(5),
        not_on_or_after: now + Duration::hours(1),
        authn_instant: now - Duration::seconds(30),
        session_index: Some("_s1"),
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

/// A well-formed answer to `req`; `edit` changes one thing.
async fn answer(e: &Env, req: &str, edit: impl FnOnce(&mut Resp<'_>)) -> Reply {
    let (acs, sp) = (e.acs(), e.sp());
    let mut r = Resp {
        key: "idp",
        in_response_to: Some(req),
        assertion_id: "_assert-1",
        name_id: IMMUTABLE,
        email: "Alice@Fabrikam.example",
        audience: &sp,
        destination: &acs,
    };
    edit(&mut r);
    e.post_response(&response(&r)).await
}

#[tokio::test]
async fn happy_path_signs_in_and_redirects_to_continue() {
    let e = env().await;
    let req = e.start().await;
    let r = answer(&e, &req, |_| {}).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    assert_eq!(r.location.unwrap(), format!("/{}/myapps", e.tenant.id));
    let cookie = r.cookie.expect("session cookie");
    let (protocol, reason) = e.last_sign_in_reason().await;
    assert_eq!((protocol.as_str(), reason), ("saml", None));
    // The landing page knows the user.
    let pair = cookie.split(';').next().unwrap().to_owned();
    let landing = e
        .send(
            Request::get(format!("/{}/", e.tenant.id))
                .header("cookie", &pair)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert!(landing.text.contains(UPN), "{}", landing.text);
    // Sign-out ends the session and sends a LogoutRequest to the IdP over Redirect.
    let out = e
        .send(
            Request::get(format!("/{}/logout", e.tenant.id))
                .header("cookie", &pair)
                .header("sec-fetch-site", "same-origin")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    // Signed with the tenant's SP key, which the SP metadata publishes.
    let location = out.location.unwrap();
    let request = fabrikam_logout_request(&e, &location).await;
    assert_eq!(request.name_id.value, IMMUTABLE);
}

async fn refused(e: &Env, r: Reply, code: &str, rule: &str) {
    assert!(r.status.is_client_error(), "{:?} {}", r.status, r.text);
    assert!(r.cookie.is_none());
    assert!(r.text.contains(code), "{code} not in {}", r.text);
    let (protocol, reason) = e.last_sign_in_reason().await;
    assert_eq!(protocol, "saml");
    let reason = reason.unwrap();
    assert!(reason.contains(code) && reason.contains(rule), "{reason}");
}

#[tokio::test]
async fn replay_of_the_same_assertion_is_refused() {
    let e = env().await;
    let req = e.start().await;
    let ok = answer(&e, &req, |_| {}).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
    // Same assertion ID, answering a fresh request.
    let req2 = e.start().await;
    let r = answer(&e, &req2, |_| {}).await;
    refused(&e, r, "SESAME-4005", "replay-cache").await;
}

#[tokio::test]
async fn unknown_or_consumed_in_response_to_is_refused() {
    let e = env().await;
    let r = answer(&e, "_never-sent", |_| {}).await;
    refused(&e, r, "SESAME-4002", "in-response-to-matches").await;
    let req = e.start().await;
    assert_eq!(answer(&e, &req, |_| {}).await.status, StatusCode::SEE_OTHER);
    let r = answer(&e, &req, |r| r.assertion_id = "_assert-2").await;
    refused(&e, r, "SESAME-4002", "in-response-to-matches").await;
}

#[tokio::test]
async fn unsolicited_is_refused_by_default() {
    let e = env().await;
    let r = answer(&e, "x", |r| r.in_response_to = None).await;
    refused(&e, r, "SESAME-4002", "in-response-to-matches").await;
}

#[tokio::test]
async fn wrong_audience_recipient_and_untrusted_key_are_refused_by_rule() {
    let e = env().await;
    let req = e.start().await;
    let r = answer(&e, &req, |r| r.audience = "https://someone-else/sp").await;
    refused(&e, r, "SESAME-4004", "audience").await;

    let req = e.start().await;
    let r = answer(&e, &req, |r| r.destination = "https://evil.example/acs").await;
    refused(&e, r, "SESAME-4004", "destination").await;

    let req = e.start().await;
    let r = answer(&e, &req, |r| r.key = "idp2").await;
    refused(&e, r, "SESAME-4004", "assertion-signed-by-trusted-key").await;
}

#[tokio::test]
async fn user_not_matched_is_refused() {
    let e = env().await;
    let req = e.start().await;
    let r = answer(&e, &req, |r| r.name_id = "SOMEONE-ELSE").await;
    refused(&e, r, "SESAME-4006", "user-matching").await;
    let req = e.start().await;
    let r = answer(&e, &req, |r| {
        r.assertion_id = "_assert-2";
        r.email = "bob@fabrikam.example";
    })
    .await;
    refused(&e, r, "SESAME-4006", "user-matching").await;
}

#[tokio::test]
async fn removed_federation_refuses_and_local_prompt_returns() {
    let e = env().await;
    let req = e.start().await;
    e.api
        .core
        .remove_federation(e.tenant.id, DOMAIN)
        .await
        .unwrap();
    let r = answer(&e, &req, |_| {}).await;
    refused(&e, r, "SESAME-4003", "federation").await;
    // Home-realm discovery no longer sends the user to the IdP.
    let page = e
        .send(
            Request::get(format!("/{}/login?login_hint={UPN}", e.tenant.id))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert!(!page.text.contains("SAMLRequest"));
}

#[tokio::test]
async fn sp_metadata_names_acs_and_entity_id() {
    let e = env().await;
    let r = e
        .send(
            Request::get(format!("/{}/sp/metadata.xml", e.tenant.id))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let md = sesame_saml::parse_sp_metadata(&r.text).unwrap();
    assert_eq!(md.entity_id, e.sp());
    // Signed by the tenant's key, whose certificate it publishes (SAML-SP-6).
    assert_eq!(md.signing_certificates.len(), 1);
    let mut trusted = sesame_xmlsec::TrustedKeys::new();
    trusted
        .add_certificate_der(&md.signing_certificates[0])
        .unwrap();
    let path = sesame_xmlsec::ElementPath::root(
        "urn:oasis:names:tc:SAML:2.0:metadata",
        "EntityDescriptor",
    );
    sesame_xmlsec::verify_enveloped(
        &r.text,
        &path,
        &trusted,
        &sesame_xmlsec::VerifyPolicy::default(),
    )
    .unwrap();
    assert_eq!(md.default_acs().unwrap().location, e.acs());
    assert!(md.want_assertions_signed);
}

#[tokio::test]
async fn admin_api_puts_gets_and_removes_a_federation() {
    let e = env().await;
    let base = format!(
        "/api/v1/tenants/{}/domains/{DOMAIN}/federation",
        e.tenant.id
    );
    let got = e.api.get(&base).await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.body["issuerUri"], IDP);
    assert_eq!(got.body["allowSha1"], true);
    assert_eq!(got.body["clockSkewSecs"], 180);
    let put = e
        .api
        .json(
            "PUT",
            &base,
            serde_json::json!({
                "issuerUri": IDP,
                "passiveLogonUrl": "https://idp.fabrikam.example/sso2",
                "logoffUrl": "https://idp.fabrikam.example/slo",
                "signingCertificates": [keys("idp").1],
                "allowSha1": false
            }),
        )
        .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.text);
    assert_eq!(put.body["allowSha1"], false);
    let bad = e
        .api
        .json("PUT", &base, serde_json::json!({"issuerUri": IDP}))
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let del = e.api.call("DELETE", &base, Some(common::ADMIN), None).await;
    assert_eq!(del.status, StatusCode::NO_CONTENT);
    assert_eq!(e.api.get(&base).await.status, StatusCode::NOT_FOUND);
    let d = e
        .api
        .get(&format!("/api/v1/tenants/{}/domains/{DOMAIN}", e.tenant.id))
        .await;
    assert_eq!(d.body["status"], "verified");
}

/// A user of a federated domain who also has a local password cannot skip the IdP: the form
/// with a password still goes to the IdP, and a direct password attempt is refused and logged.
#[tokio::test]
async fn federated_users_cannot_sign_in_with_a_local_password() {
    let e = env().await;
    let user = e
        .api
        .core
        .store()
        .find_user_by_upn(e.tenant.id, UPN)
        .await
        .unwrap();
    e.api
        .core
        .set_password(e.tenant.id, user.id, "Correct-Horse-1".into())
        .await
        .unwrap();
    // Through the form, username and password together (double-submit CSRF value of our own).
    let csrf = "federated-test-csrf-value";
    let cookie = format!("sesame_csrf={csrf}");
    let form = format!(
        "csrf={csrf}&username={}&password=Correct-Horse-1",
        urlencode(UPN)
    );
    let r = e
        .send(
            Request::post(format!("/{}/login", e.tenant.id))
                .header("cookie", &cookie)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(Body::from(form))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(
        r.text
            .contains("action=\"https://idp.fabrikam.example/sso\""),
        "to the IdP: {}",
        r.text
    );
    assert!(r.cookie.is_none(), "no session");
    // In the core, the password path refuses too (defence in depth).
    let outcome = e
        .api
        .core
        .sign_in_with_password(sesame_core::SignInAttempt {
            tenant: e.tenant.id,
            user_principal_name: UPN.into(),
            password: "Correct-Horse-1".into(),
            ip: None,
            correlation_id: "t".into(),
        })
        .await
        .unwrap();
    assert!(matches!(
        outcome,
        sesame_core::SignInOutcome::Failure(sesame_core::SignInFailure::InvalidCredentials)
    ));
    let (protocol, reason) = e.last_sign_in_reason().await;
    assert_eq!(protocol, "password");
    assert!(reason.unwrap().contains("domain is federated"));
}

/// The SSO test tool (OPS-3) through the admin API: the report for a Response.
async fn inspect(e: &Env, xml: &str) -> serde_json::Value {
    inspect_value(e, &B64.encode(xml)).await
}

async fn inspect_value(e: &Env, value: &str) -> serde_json::Value {
    let r = e
        .api
        .json(
            "POST",
            &format!(
                "/api/v1/tenants/{}/domains/{DOMAIN}/federation/inspect",
                e.tenant.id
            ),
            serde_json::json!({ "samlResponse": value }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body
}

/// What the ACS answered for the same file: `None` when it signed in, else (code, rule) as
/// written in the sign-in log ("SESAME-40xx rule: message").
async fn acs_verdict(e: &Env, r: &Reply) -> Option<(String, String)> {
    if r.status == StatusCode::SEE_OTHER {
        assert!(r.cookie.is_some());
        return None;
    }
    assert!(r.status.is_client_error(), "{:?} {}", r.status, r.text);
    let (_, reason) = e.last_sign_in_reason().await;
    let reason = reason.unwrap();
    let (code, rest) = reason.split_once(' ').unwrap();
    let rule = rest.split_once(':').unwrap().0;
    assert!(r.text.contains(code), "the page shows {code}: {}", r.text);
    Some((code.to_owned(), rule.to_owned()))
}

fn report_verdict(report: &serde_json::Value) -> Option<(String, String)> {
    if report["passed"] == true {
        assert!(report["verdict"].is_null());
        assert!(
            report["checks"]
                .as_array()
                .unwrap()
                .iter()
                .all(|c| c["passed"] == true)
        );
        return None;
    }
    let v = &report["verdict"];
    // The verdict is the first failed check, in the ACS's order.
    let first = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["passed"] == false)
        .unwrap();
    assert_eq!((&first["rule"], &first["code"]), (&v["rule"], &v["code"]));
    Some((
        v["code"].as_str().unwrap().to_owned(),
        v["rule"].as_str().unwrap().to_owned(),
    ))
}

/// Acceptance of OPS-3: for the same files, `inspect` gives the ACS's verdict (same code, same
/// rule), and inspecting consumes nothing (inspected twice, then posted, the file still signs
/// in when valid).
#[tokio::test]
async fn inspect_gives_the_acs_verdicts_for_the_same_files() {
    let e = env().await;
    let (acs, sp) = (e.acs(), e.sp());
    type Edit = fn(&mut Resp<'_>);
    let cases: Vec<(&str, Option<&str>, Edit)> = vec![
        ("valid", None, |_| {}),
        (
            "wrong audience",
            Some("audience-restriction-includes-sp"),
            |r| r.audience = "https://someone-else/sp",
        ),
        (
            "wrong destination",
            Some("response-destination-matches"),
            |r| r.destination = "https://evil.example/acs",
        ),
        (
            "key not configured",
            Some("assertion-signed-by-trusted-key"),
            |r| r.key = "idp2",
        ),
        ("unknown request", Some("in-response-to-matches"), |r| {
            r.in_response_to = Some("_never-sent")
        }),
        ("unsolicited", Some("in-response-to-matches"), |r| {
            r.in_response_to = None
        }),
        ("NameID of nobody", Some("user-matching"), |r| {
            r.name_id = "SOMEONE-ELSE"
        }),
        ("IDPEmail of another", Some("user-matching"), |r| {
            r.email = "bob@fabrikam.example"
        }),
    ];
    for (i, (name, expected_rule, edit)) in cases.into_iter().enumerate() {
        let req = e.start().await;
        let assertion_id = format!("_assert-case-{i}");
        let mut r = Resp {
            key: "idp",
            in_response_to: Some(&req),
            assertion_id: &assertion_id,
            name_id: IMMUTABLE,
            email: "Alice@Fabrikam.example",
            audience: &sp,
            destination: &acs,
        };
        edit(&mut r);
        let file = response(&r);
        let first = inspect(&e, &file).await;
        let again = inspect(&e, &file).await;
        let verdicts = |r: &serde_json::Value| -> Vec<(String, bool)> {
            r["checks"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| (c["rule"].as_str().unwrap().to_owned(), c["passed"] == true))
                .collect()
        };
        assert_eq!(
            verdicts(&first),
            verdicts(&again),
            "{name}: inspection changes nothing"
        );
        let by_inspect = report_verdict(&first);
        let posted = e.post_response(&file).await;
        let by_acs = acs_verdict(&e, &posted).await;
        assert_eq!(by_inspect, by_acs, "{name}: {first:#}");
        assert_eq!(
            by_acs.as_ref().map(|v| v.1.as_str()),
            expected_rule,
            "{name}"
        );
        if expected_rule.is_none() {
            // Every rule reported, each with the values compared.
            let checks = first["checks"].as_array().unwrap();
            for rule in [
                "in-response-to-matches",
                "assertion-signed-by-trusted-key",
                "response-destination-matches",
                "audience-restriction-includes-sp",
                "bearer-subject-confirmation",
                "replay-cache",
                "user-matching",
                "account-enabled",
            ] {
                let c = checks.iter().find(|c| c["rule"] == rule).expect(rule);
                assert!(c["detail"].is_string(), "{rule}: {c}");
            }
            let audience = checks
                .iter()
                .find(|c| c["rule"] == "audience-restriction-includes-sp")
                .unwrap();
            assert!(audience["detail"].as_str().unwrap().contains(&sp));
            // Now used: the same file is a replay and answers a consumed request, and
            // inspect says so against the stored state, as the ACS does.
            let after = inspect(&e, &file).await;
            let failed: Vec<&str> = after["checks"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|c| c["passed"] == false)
                .map(|c| c["rule"].as_str().unwrap())
                .collect();
            assert!(failed.contains(&"replay-cache") || failed.contains(&"in-response-to-matches"));
            let posted = e.post_response(&file).await;
            assert_eq!(report_verdict(&after), acs_verdict(&e, &posted).await);
        }
    }

    // A replay of a used assertion answering a fresh request: replay-cache, at both.
    let req = e.start().await;
    let r = Resp {
        key: "idp",
        in_response_to: Some(&req),
        assertion_id: "_assert-case-0",
        name_id: IMMUTABLE,
        email: UPN,
        audience: &sp,
        destination: &acs,
    };
    let file = response(&r);
    let report = inspect(&e, &file).await;
    let by_inspect = report_verdict(&report);
    assert_eq!(
        by_inspect,
        Some(("SESAME-4005".to_owned(), "replay-cache".to_owned()))
    );
    let posted = e.post_response(&file).await;
    assert_eq!(by_inspect, acs_verdict(&e, &posted).await);

    // Unreadable input: a DOCTYPE, and base64 that is not.
    let req = e.start().await;
    let doctype = format!(
        "<!DOCTYPE x [<!ENTITY e \"x\">]><samlp:Response xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" InResponseTo=\"{req}\"/>"
    );
    let report = inspect(&e, &doctype).await;
    let posted = e.post_response(&doctype).await;
    let by_acs = acs_verdict(&e, &posted).await;
    assert_eq!(by_acs.as_ref().unwrap().0, "SESAME-4001");
    assert_eq!(report_verdict(&report), by_acs);
    let report = inspect_value(&e, "not base64 at all!").await;
    assert_eq!(report["verdict"]["code"], "SESAME-4001");
    assert_eq!(report["passed"], false);
}

/// Inspection of a domain without federation, and API errors: 404 for an unknown tenant, 400
/// for a body without `samlResponse`.
#[tokio::test]
async fn inspect_reports_an_unfederated_domain_and_rejects_bad_bodies() {
    let e = env().await;
    let req = e.start().await;
    let (acs, sp) = (e.acs(), e.sp());
    let file = response(&Resp {
        key: "idp",
        in_response_to: Some(&req),
        assertion_id: "_a",
        name_id: IMMUTABLE,
        email: UPN,
        audience: &sp,
        destination: &acs,
    });
    e.api
        .core
        .remove_federation(e.tenant.id, DOMAIN)
        .await
        .unwrap();
    let report = inspect(&e, &file).await;
    assert_eq!(
        report_verdict(&report),
        Some(("SESAME-4003".to_owned(), "federation".to_owned()))
    );
    let posted = e.post_response(&file).await;
    assert_eq!(report_verdict(&report), acs_verdict(&e, &posted).await);

    let bad = e
        .api
        .json(
            "POST",
            &format!(
                "/api/v1/tenants/{}/domains/{DOMAIN}/federation/inspect",
                e.tenant.id
            ),
            serde_json::json!({ "xml": file }),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.text);
    let missing = e
        .api
        .json(
            "POST",
            "/api/v1/tenants/nowhere.example/domains/x/federation/inspect",
            serde_json::json!({ "samlResponse": "" }),
        )
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND, "{}", missing.text);
}

/// A request with `cookies`: the answer's status, Location, body, and every cookie it sets
/// (name=value, or name= when it deletes it).
async fn send_with_cookies(
    e: &Env,
    uri: &str,
    cookies: &[String],
) -> (StatusCode, Option<String>, String, Vec<String>) {
    send_request_with_cookies(e, Request::get(uri), Body::empty(), cookies).await
}

/// [`send_with_cookies`] for a form posted to `uri`.
async fn post_with_cookies(
    e: &Env,
    uri: &str,
    form: &str,
    cookies: &[String],
) -> (StatusCode, Option<String>, String, Vec<String>) {
    let req = Request::post(uri).header("content-type", "application/x-www-form-urlencoded");
    send_request_with_cookies(e, req, Body::from(form.to_owned()), cookies).await
}

async fn send_request_with_cookies(
    e: &Env,
    req: axum::http::request::Builder,
    body: Body,
    cookies: &[String],
) -> (StatusCode, Option<String>, String, Vec<String>) {
    let mut req = req.header("sec-fetch-site", "same-origin");
    if !cookies.is_empty() {
        req = req.header("cookie", cookies.join("; "));
    }
    let res = e
        .api
        .router
        .clone()
        .oneshot(req.body(body).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let location = res
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_owned());
    let set: Vec<String> = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| {
            let v = v.to_str().unwrap();
            let pair = v.split(';').next().unwrap().to_owned();
            if v.contains("Max-Age=0") {
                format!("{}=", pair.split('=').next().unwrap())
            } else {
                pair
            }
        })
        .collect();
    let bytes = axum::body::to_bytes(res.into_body(), 1 << 20)
        .await
        .unwrap();
    (
        status,
        location,
        String::from_utf8_lossy(&bytes).into_owned(),
        set,
    )
}

/// The query of an unsigned LogoutResponse over HTTP-Redirect from `issuer`, answering
/// request `in_response_to` with `status`.
fn logout_response_query(id: &str, in_response_to: &str, issuer: &str, status: &str) -> String {
    signed_logout_response((id, in_response_to, issuer, status), None, false)
}

/// A LogoutResponse signed by the test key `signed` names, with the `Destination` it says,
/// when given: the query of an HTTP-Redirect answer (query-string signature), or with `post`
/// the form of an HTTP-POST one (enveloped signature).
fn signed_logout_response(
    (id, in_response_to, issuer, status): (&str, &str, &str, &str),
    signed: Option<(&str, Option<&str>)>,
    post: bool,
) -> String {
    let key = test_key(signed);
    let destination = signed.and_then(|(_, d)| d);
    let enveloped = key.as_ref().filter(|_| post);
    let xml = logout_response_xml(id, in_response_to, issuer, status, destination, enveloped);
    if post {
        return format!("SAMLResponse={}", urlencode(&B64.encode(xml)));
    }
    let sign = key
        .as_ref()
        .map(|k| (k, sesame_xmlsec::SignatureAlgorithm::RsaSha256));
    sesame_saml::encode_redirect(&xml, sesame_saml::MessageKind::Response, None, sign).unwrap()
}

/// The test key `signed` names.
fn test_key(signed: Option<(&str, Option<&str>)>) -> Option<SigningKey> {
    signed.map(|(signer, _)| {
        let (k, c) = keys(signer);
        SigningKey::from_pem(&k, &c).unwrap()
    })
}

/// A LogoutResponse from `issuer` answering `in_response_to` with the status URI `status`,
/// enveloped-signed with `key` when given.
fn logout_response_xml(
    id: &str,
    in_response_to: &str,
    issuer: &str,
    status: &str,
    destination: Option<&str>,
    key: Option<&SigningKey>,
) -> String {
    let sign = key.map(sesame_saml::SignWith::rsa_sha256);
    let status = sesame_saml::Status::of(sesame_saml::StatusCode::from_uri(status).unwrap(), None);
    sesame_saml::build_logout_response(
        &sesame_saml::LogoutResponseParams {
            id,
            issue_instant: OffsetDateTime::now_utc(),
            issuer,
            destination,
            in_response_to,
            status,
        },
        sign.as_ref(),
    )
    .unwrap()
}

/// The LogoutRequest a sign-out sent to the IdP's logoff URL (`location`), its signature
/// checked with the tenant's SP key.
async fn fabrikam_logout_request(e: &Env, location: &str) -> sesame_saml::LogoutRequest {
    e.api
        .idp_logout_request(e.tenant.id, location, "https://idp.fabrikam.example/slo")
        .await
}

/// The SAML message of a browser step to Payroll's logout URL (HTTP-Redirect).
fn payroll_slo_xml(location: &str) -> String {
    let query = location
        .strip_prefix("https://payroll.example/slo?")
        .unwrap_or_else(|| panic!("{location}"));
    sesame_saml::decode_redirect(query).unwrap().xml
}

/// The cookie named `prefix…` among `set`, if set (not deleted).
fn cookie_set(set: &[String], prefix: &str) -> Option<String> {
    set.iter()
        .find(|c| c.starts_with(prefix) && !c.ends_with('='))
        .cloned()
}

/// Payroll, a SAML application with a front-channel logout URL, assigned to the federated
/// user: its id.
async fn payroll(e: &Env) -> String {
    let app = e
        .api
        .json(
            "POST",
            &format!("/api/v1/tenants/{}/apps/saml", e.tenant.id),
            serde_json::json!({ "name": "Payroll", "settings": {
                "identifiers": ["https://payroll.example/sp"],
                "replyUrls": [{ "url": "https://payroll.example/acs", "index": 0, "isDefault": true }],
                "logoutUrl": "https://payroll.example/slo",
            }}),
        )
        .await;
    assert_eq!(app.status, StatusCode::CREATED, "{}", app.text);
    let app = app.body["app"]["id"].as_str().unwrap().to_owned();
    let user = e
        .api
        .get(&format!("/api/v1/tenants/{}/users/{UPN}", e.tenant.id))
        .await
        .body["id"]
        .clone();
    let r = e
        .api
        .json(
            "POST",
            &format!("/api/v1/tenants/{}/apps/{app}/assignments", e.tenant.id),
            serde_json::json!({ "principalType": "user", "principalId": user }),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.text);
    app
}

/// Signs the federated user in (the IdP's Response carrying `assertion_id`) and launches
/// Payroll: the browser's cookies.
async fn launch_payroll(e: &Env, app: &str, assertion_id: &'static str) -> Vec<String> {
    let req = e.start().await;
    let signed_in = answer(e, &req, |r| r.assertion_id = assertion_id).await;
    let session = signed_in.cookie.unwrap();
    let cookies = vec![session.split(';').next().unwrap().to_owned()];
    let (status, _, page, _) =
        send_with_cookies(e, &format!("/{}/apps/{app}/launch", e.tenant.id), &cookies).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("https://payroll.example/acs"), "{page}");
    cookies
}

/// Signs out at Sésame: the browser goes to Payroll first. Sésame's LogoutRequest, the
/// logout progress cookie, and the cookies set.
async fn sign_out_to_payroll(
    e: &Env,
    cookies: &[String],
) -> (sesame_saml::LogoutRequest, String, Vec<String>) {
    let (status, to_app, _, set) =
        send_with_cookies(e, &format!("/{}/logout", e.tenant.id), cookies).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let request = sesame_saml::parse_logout_request(&payroll_slo_xml(&to_app.unwrap())).unwrap();
    let progress = cookie_set(&set, "sesame_slo_").expect("logout progress");
    (request, progress, set)
}

/// A federated user's sign-out first visits the applications of the session, then goes on
/// to the user's IdP (before, the IdP was reached only when no application had a logout URL,
/// and kept its session otherwise). The IdP's answer to that request brings the signed-out
/// page, with a note for the applications and one for the IdP when they did not confirm. The
/// IdP's answer counts only for that request, from its issuer, with Success; signed, only with
/// a signature by its certificate and a Destination; and no answer clears the session cookie
/// again. A logout an application starts reaches the IdP too, before Sésame answers the
/// application.
#[tokio::test]
async fn federated_sign_out_reaches_the_idp_after_the_applications() {
    let e = env().await;
    let app = payroll(&e).await;

    let success = "urn:oasis:names:tc:SAML:2.0:status:Success";
    let failure = "urn:oasis:names:tc:SAML:2.0:status:Responder";
    let here = format!("http://127.0.0.1:8080/{}/saml2", e.tenant.id);
    let signed_here = Some(("idp", Some(here.as_str())));
    /// How the IdP answers, and the notes the signed-out page then shows.
    struct Case<'a> {
        app_status: &'a str,
        idp_answers_it: bool,
        idp_issuer: &'a str,
        idp_status: &'a str,
        /// The test key signing the IdP's answer, and its Destination.
        signed: Option<(&'a str, Option<&'a str>)>,
        /// The answer comes by HTTP-POST (enveloped signature), else HTTP-Redirect.
        post: bool,
        /// The federation requires signed LogoutResponses.
        require_signed: bool,
        apps_note: bool,
        idp_note: bool,
    }
    let ok = Case {
        app_status: success,
        idp_answers_it: true,
        idp_issuer: IDP,
        idp_status: success,
        signed: None,
        post: false,
        require_signed: false,
        apps_note: false,
        idp_note: false,
    };
    let cases = [
        Case { ..ok },
        Case {
            app_status: failure,
            apps_note: true,
            ..ok
        },
        Case {
            idp_answers_it: false,
            idp_note: true,
            ..ok
        },
        Case {
            idp_status: failure,
            idp_note: true,
            ..ok
        },
        Case {
            idp_issuer: "https://idp.elsewhere.example/",
            idp_note: true,
            ..ok
        },
        Case {
            signed: signed_here,
            ..ok
        },
        // Signed by a key the federation does not trust.
        Case {
            signed: Some(("idp2", Some(here.as_str()))),
            idp_note: true,
            ..ok
        },
        // Signed without saying where it was sent (bindings §3.4.5.2), or naming elsewhere.
        Case {
            signed: Some(("idp", None)),
            idp_note: true,
            ..ok
        },
        Case {
            signed: Some(("idp", Some("https://elsewhere.example/saml2"))),
            idp_note: true,
            ..ok
        },
        // Over HTTP-POST, with the signature in the message.
        Case {
            signed: signed_here,
            post: true,
            ..ok
        },
        Case {
            signed: Some(("idp2", Some(here.as_str()))),
            post: true,
            idp_note: true,
            ..ok
        },
        Case { post: true, ..ok },
        // The federation requires signed answers: an unsigned one (which anyone who learnt
        // the request's ID could forge) does not confirm; a signed one does.
        Case {
            require_signed: true,
            idp_note: true,
            ..ok
        },
        Case {
            require_signed: true,
            post: true,
            idp_note: true,
            ..ok
        },
        Case {
            require_signed: true,
            signed: signed_here,
            ..ok
        },
        // The IdP ended its session, but not all of its own applications were told.
        Case {
            idp_status: "urn:oasis:names:tc:SAML:2.0:status:PartialLogout",
            apps_note: true,
            ..ok
        },
        Case {
            app_status: failure,
            idp_status: failure,
            apps_note: true,
            idp_note: true,
            ..ok
        },
    ];
    for (n, case) in cases.iter().enumerate() {
        federate(&e, |f| {
            f.require_signed_logout_responses = Some(case.require_signed)
        })
        .await;
        let assertion_id: &'static str = Box::leak(format!("_a-{n}").into_boxed_str());
        let cookies = launch_payroll(&e, &app, assertion_id).await;
        // Sign-out: the application first.
        let (request, progress, set) = sign_out_to_payroll(&e, &cookies).await;
        assert!(
            set.iter()
                .any(|c| c.starts_with("sesame_session_") && c.ends_with('=')),
            "the session cookie goes at once: {set:?}"
        );
        let q = logout_response_query(
            &format!("_r-{n}"),
            &request.header.id,
            "https://payroll.example/sp",
            case.app_status,
        );
        // Then the IdP, with Sésame's signed LogoutRequest.
        let (status, to_idp, page, set) =
            send_with_cookies(&e, &format!("/{}/saml2?{q}", e.tenant.id), &[progress]).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{page}");
        let location = to_idp.unwrap();
        let to_idp = fabrikam_logout_request(&e, &location).await;
        assert_eq!(to_idp.name_id.value, IMMUTABLE);
        let progress = cookie_set(&set, "sesame_slo_").expect("the IdP's answer is awaited");

        // The IdP answers: the signed-out page, with a note for whoever did not confirm.
        let answering = if case.idp_answers_it {
            to_idp.header.id.as_str()
        } else {
            "_another-request"
        };
        let id = format!("_idp-r{n}");
        let slo = format!("/{}/saml2", e.tenant.id);
        let message = signed_logout_response(
            (&id, answering, case.idp_issuer, case.idp_status),
            case.signed,
            case.post,
        );
        let (status, _, page, set) = if case.post {
            post_with_cookies(&e, &slo, &message, &[progress]).await
        } else {
            send_with_cookies(&e, &format!("{slo}?{message}"), &[progress]).await
        };
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(
            !set.iter().any(|c| c.starts_with("sesame_session_")),
            "an answer does not clear the session cookie again (a session opened since): {set:?}"
        );
        assert!(page.contains("Signed out"), "{page}");
        assert_eq!(
            page.contains("Some applications could not be told"),
            case.apps_note,
            "case {n}: {page}"
        );
        assert_eq!(
            page.contains("did not confirm that you signed out there"),
            case.idp_note,
            "case {n}: {page}"
        );
    }

    // Started by the application, for the browser's own session: the IdP too, then the
    // application gets Sésame's answer, PartialLogout when the IdP did not confirm.
    for (n, (idp_status, partial)) in [(success, false), (failure, true)].into_iter().enumerate() {
        let req = e.start().await;
        let signed_in = answer(&e, &req, |r| r.assertion_id = ["_a-sp0", "_a-sp1"][n]).await;
        let session = signed_in.cookie.unwrap();
        let cookies = vec![session.split(';').next().unwrap().to_owned()];
        let (_, _, page, _) =
            send_with_cookies(&e, &format!("/{}/apps/{app}/launch", e.tenant.id), &cookies).await;
        let posted = page
            .split("name=\"SAMLResponse\" value=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        let xml = String::from_utf8(B64.decode(posted).unwrap()).unwrap();
        let name_id = xml.split("<saml:NameID").nth(1).unwrap();
        let name_id = name_id[name_id.find('>').unwrap() + 1..]
            .split('<')
            .next()
            .unwrap();
        let index = xml
            .split("SessionIndex=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        let now = OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap();
        let logout_request = |id: &str, name_id: &str, index: &str| {
            let request = format!(
                r#"<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="{id}" Version="2.0" IssueInstant="{now}" Destination="http://127.0.0.1:8080/{}/saml2"><saml:Issuer>https://payroll.example/sp</saml:Issuer><saml:NameID>{name_id}</saml:NameID>{index}</samlp:LogoutRequest>"#,
                e.tenant.id
            );
            sesame_saml::encode_redirect(&request, sesame_saml::MessageKind::Request, None, None)
                .unwrap()
        };
        // A request naming someone else's session, in this browser: it ends nothing of the
        // browser's, so the browser is not sent to the IdP; straight back to the application.
        let q = logout_request(&format!("_sp-other{n}"), "someone-else", "");
        let (status, back, page, _) =
            send_with_cookies(&e, &format!("/{}/saml2?{q}", e.tenant.id), &cookies).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{page}");
        let back = back.unwrap();
        assert!(
            back.starts_with("https://payroll.example/slo?SAMLResponse="),
            "{back}"
        );
        // The request for the browser's own session.
        let q = logout_request(
            &format!("_sp-lo{n}"),
            name_id,
            &format!("<samlp:SessionIndex>{index}</samlp:SessionIndex>"),
        );
        let (status, to_idp, page, set) =
            send_with_cookies(&e, &format!("/{}/saml2?{q}", e.tenant.id), &cookies).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{page}");
        let to_idp = fabrikam_logout_request(&e, &to_idp.unwrap()).await;
        let progress = cookie_set(&set, "sesame_slo_").expect("the IdP's answer is awaited");
        let q = logout_response_query(&format!("_idp-sp{n}"), &to_idp.header.id, IDP, idp_status);
        let (status, to_app, page, _) =
            send_with_cookies(&e, &format!("/{}/saml2?{q}", e.tenant.id), &[progress]).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{page}");
        let to_app = to_app.unwrap();
        let answer = sesame_saml::parse_logout_response(&payroll_slo_xml(&to_app)).unwrap();
        assert_eq!(
            answer.in_response_to.as_deref(),
            Some(format!("_sp-lo{n}").as_str())
        );
        let expected = if partial {
            sesame_saml::Status::of(sesame_saml::StatusCode::PartialLogout, None)
        } else {
            sesame_saml::Status::success()
        };
        assert_eq!(answer.status, expected);
    }
}

/// An IdP step that cannot be sent (here the account was removed while the browser visited
/// the applications) does not stop the logout: the signed-out page says the IdP may still
/// hold a session.
#[tokio::test]
async fn an_idp_step_that_cannot_be_sent_is_told_on_the_page() {
    let e = env().await;
    let app = payroll(&e).await;
    let cookies = launch_payroll(&e, &app, "_a-gone").await;
    let (request, progress, _) = sign_out_to_payroll(&e, &cookies).await;
    let r = e
        .api
        .delete(&format!("/api/v1/tenants/{}/users/{UPN}", e.tenant.id))
        .await;
    assert!(r.status.is_success(), "{}", r.text);
    let q = logout_response_query(
        "_r-gone",
        &request.header.id,
        "https://payroll.example/sp",
        "urn:oasis:names:tc:SAML:2.0:status:Success",
    );
    let (status, to, page, _) =
        send_with_cookies(&e, &format!("/{}/saml2?{q}", e.tenant.id), &[progress]).await;
    assert_eq!(status, StatusCode::OK, "{to:?} {page}");
    assert!(
        !page.contains("Some applications could not be told"),
        "{page}"
    );
    assert!(
        page.contains("did not confirm that you signed out there"),
        "{page}"
    );
}

/// An IdP whose logoff URL never sends the browser back (`idpAnswersLogout` false): a
/// sign-out at Sésame ends there, after the applications, with nothing left in progress; an
/// application's LogoutRequest is answered without going there, PartialLogout (the IdP keeps
/// its session).
#[tokio::test]
async fn an_idp_that_does_not_answer_logout_is_the_last_stop_or_skipped() {
    let e = env().await;
    federate(&e, |f| f.idp_answers_logout = Some(false)).await;
    let app = payroll(&e).await;
    let cookies = launch_payroll(&e, &app, "_a-last").await;
    let (request, progress, _) = sign_out_to_payroll(&e, &cookies).await;
    let q = logout_response_query(
        "_r-last",
        &request.header.id,
        "https://payroll.example/sp",
        "urn:oasis:names:tc:SAML:2.0:status:Success",
    );
    let (status, to_idp, page, set) =
        send_with_cookies(&e, &format!("/{}/saml2?{q}", e.tenant.id), &[progress]).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{page}");
    let to_idp = fabrikam_logout_request(&e, &to_idp.unwrap()).await;
    assert_eq!(to_idp.name_id.value, IMMUTABLE);
    assert!(
        cookie_set(&set, "sesame_slo_").is_none(),
        "nothing awaited: {set:?}"
    );

    // An application that did not confirm: the page says so first, and links to the IdP.
    let cookies = launch_payroll(&e, &app, "_a-note").await;
    let (request, progress, _) = sign_out_to_payroll(&e, &cookies).await;
    let q = logout_response_query(
        "_r-note",
        &request.header.id,
        "https://payroll.example/sp",
        "urn:oasis:names:tc:SAML:2.0:status:Responder",
    );
    let (status, _, page, _) =
        send_with_cookies(&e, &format!("/{}/saml2?{q}", e.tenant.id), &[progress]).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(
        page.contains("Some applications could not be told"),
        "{page}"
    );
    let link = page
        .split("<a href=\"")
        .find(|l| l.starts_with("https://idp.fabrikam.example/slo?"))
        .unwrap_or_else(|| panic!("no link to the IdP: {page}"));
    let link = link.split('"').next().unwrap().replace("&amp;", "&");
    let to_idp = fabrikam_logout_request(&e, &link).await;
    assert_eq!(to_idp.name_id.value, IMMUTABLE);

    // No application in the session: the IdP is the first and last step.
    let req = e.start().await;
    let signed_in = answer(&e, &req, |r| r.assertion_id = "_a-alone").await;
    let cookies = vec![
        signed_in
            .cookie
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_owned(),
    ];
    let (status, to_idp, _, set) =
        send_with_cookies(&e, &format!("/{}/logout", e.tenant.id), &cookies).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(
        to_idp
            .unwrap()
            .starts_with("https://idp.fabrikam.example/slo?SAMLRequest="),
        "{set:?}"
    );
    assert!(
        set.iter()
            .any(|c| c.starts_with("sesame_session_") && c.ends_with('=')),
        "the session cookie goes: {set:?}"
    );
    assert!(cookie_set(&set, "sesame_slo_").is_none(), "{set:?}");

    // Started by the application: answered at once, PartialLogout (the request names the
    // browser's own session, so nothing else makes it partial).
    let cookies = launch_payroll(&e, &app, "_a-skip").await;
    let now = OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let request = format!(
        r#"<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_sp-skip" Version="2.0" IssueInstant="{now}" Destination="http://127.0.0.1:8080/{}/saml2"><saml:Issuer>https://payroll.example/sp</saml:Issuer><saml:NameID>{UPN}</saml:NameID></samlp:LogoutRequest>"#,
        e.tenant.id
    );
    let q = sesame_saml::encode_redirect(&request, sesame_saml::MessageKind::Request, None, None)
        .unwrap();
    let (status, back, page, set) =
        send_with_cookies(&e, &format!("/{}/saml2?{q}", e.tenant.id), &cookies).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{page}");
    assert!(
        set.iter()
            .any(|c| c.starts_with("sesame_session_") && c.ends_with('=')),
        "the browser's session ended: {set:?}"
    );
    let answer = sesame_saml::parse_logout_response(&payroll_slo_xml(&back.unwrap())).unwrap();
    assert_eq!(answer.in_response_to.as_deref(), Some("_sp-skip"));
    assert_eq!(
        answer.status,
        sesame_saml::Status::of(sesame_saml::StatusCode::PartialLogout, None)
    );
}
