//! Property test: random JSON and random bytes sent to every write endpoint never produce a
//! 5xx or a panic; every rejection is problem+json with a code; the stored data survives. The
//! SOAP logout endpoint answers random documents with SOAP (a status, or a fault with a code).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::http::StatusCode;
use common::*;
use proptest::prelude::*;
use serde_json::{Value, json};

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        ".{0,40}".prop_map(Value::from),
        "[a-z]{1,10}@contoso\\.example".prop_map(Value::from),
    ];
    let field = prop_oneof![
        Just("userPrincipalName".to_string()),
        Just("displayName".to_string()),
        Just("name".to_string()),
        Just("password".to_string()),
        Just("principalType".to_string()),
        Just("principalId".to_string()),
        Just("userId".to_string()),
        Just("extensionAttributes".to_string()),
        Just("accountEnabled".to_string()),
        Just("identifiers".to_string()),
        Just("replyUrls".to_string()),
        Just("settings".to_string()),
        Just("metadata".to_string()),
        Just("issuerUri".to_string()),
        Just("signingCertificates".to_string()),
        Just("expires".to_string()),
        "[a-zA-Z]{1,12}",
    ];
    leaf.prop_recursive(3, 24, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(field.clone(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn arb_body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => arb_json().prop_map(|v| v.to_string().into_bytes()),
        1 => prop::collection::vec(any::<u8>(), 0..200),
    ]
}

struct World {
    rt: tokio::runtime::Runtime,
    api: Api,
    endpoints: Vec<(&'static str, String)>,
}

fn world() -> World {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (api, endpoints) = rt.block_on(async {
        let api = api().await;
        let t = api
            .json(
                "POST",
                "/api/v1/tenants",
                json!({ "name": "C", "initialDomain": "contoso.example" }),
            )
            .await;
        let t = t.body["id"].as_str().unwrap().to_string();
        let base = format!("/api/v1/tenants/{t}");
        let u = api
            .json(
                "POST",
                &format!("{base}/users"),
                json!({ "userPrincipalName": "keep@contoso.example", "displayName": "Keep" }),
            )
            .await;
        let uid = u.body["id"].as_str().unwrap().to_string();
        let g = api
            .json(
                "POST",
                &format!("{base}/groups"),
                json!({ "displayName": "G" }),
            )
            .await;
        let gid = g.body["id"].as_str().unwrap().to_string();
        let a = api
            .json("POST", &format!("{base}/apps"), json!({ "name": "A" }))
            .await;
        let aid = a.body["id"].as_str().unwrap().to_string();
        // The issuer the SOAP property test's requests name, so that they get past the lookup.
        let saml = api
            .json(
                "POST",
                &format!("{base}/apps/saml"),
                json!({ "name": "SP", "settings": {
                    "identifiers": ["https://sp.example/sp"],
                    "replyUrls": [{ "url": "https://sp.example/acs", "index": 0 }],
                }}),
            )
            .await;
        assert_eq!(saml.status, StatusCode::CREATED, "{}", saml.text);
        let endpoints = vec![
            ("POST", "/api/v1/tenants".to_string()),
            ("PATCH", base.clone()),
            ("POST", format!("{base}/domains")),
            ("POST", format!("{base}/users")),
            ("PATCH", format!("{base}/users/{uid}")),
            ("PUT", format!("{base}/users/{uid}/password")),
            ("POST", format!("{base}/groups")),
            ("PATCH", format!("{base}/groups/{gid}")),
            ("POST", format!("{base}/groups/{gid}/members")),
            ("POST", format!("{base}/apps")),
            ("PATCH", format!("{base}/apps/{aid}")),
            ("POST", format!("{base}/apps/{aid}/assignments")),
            ("POST", "/api/v1/tokens".to_string()),
            ("POST", format!("{base}/apps/saml")),
            ("PUT", format!("{base}/apps/{aid}/saml")),
            ("PUT", format!("{base}/domains/contoso.example/federation")),
            ("POST", format!("{base}/scim/tokens")),
            (
                "POST",
                format!("{base}/domains/contoso.example/federation/inspect"),
            ),
            ("PUT", format!("{base}/directfederations/partner.example")),
            ("POST", format!("{base}/guests")),
        ];
        (api, endpoints)
    });
    World { rt, api, endpoints }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn write_endpoints_never_fail_with_5xx(bodies in prop::collection::vec(arb_body(), 20)) {
        thread_local! { static WORLD: World = world(); }
        WORLD.with(|w| {
            for ((method, path), body) in w.endpoints.iter().zip(bodies) {
                let r = w.rt.block_on(w.api.call(method, path, Some(ADMIN), Some(("application/json", body.clone()))));
                prop_assert!(r.status.as_u16() < 500, "{method} {path} {:?} -> {} {}", String::from_utf8_lossy(&body), r.status, r.text);
                if r.status.is_client_error() {
                    prop_assert_eq!(&r.content_type, "application/problem+json");
                    prop_assert!(r.body["code"].as_str().is_some_and(|c| c.starts_with("SESAME-")));
                }
            }
            // The user created before the storm is still readable (nothing already stored is lost;
            // random PATCHes may change its fields but never remove it).
            let r = w.rt.block_on(w.api.get("/api/v1/tenants/contoso.example/users?limit=1000"));
            prop_assert_eq!(r.status, StatusCode::OK);
            Ok(())
        })?;
    }
}

/// Random SOAP-ish documents and bytes.
fn arb_soap() -> impl Strategy<Value = Vec<u8>> {
    let fragment = prop_oneof![
        Just("<S:Envelope xmlns:S=\"http://schemas.xmlsoap.org/soap/envelope/\">".to_string()),
        Just("<S:Body>".to_string()),
        Just("</S:Body></S:Envelope>".to_string()),
        Just("<samlp:LogoutRequest xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" ID=\"_x\" Version=\"2.0\" IssueInstant=\"2026-01-01T00:00:00Z\">".to_string()),
        Just("<saml:Issuer>https://sp.example/sp</saml:Issuer><saml:NameID>a</saml:NameID>".to_string()),
        Just("</samlp:LogoutRequest>".to_string()),
        Just("<!DOCTYPE x [<!ENTITY a \"b\">]>".to_string()),
        ".{0,20}",
    ];
    prop_oneof![
        4 => prop::collection::vec(fragment, 0..8).prop_map(|f| f.concat().into_bytes()),
        1 => prop::collection::vec(any::<u8>(), 0..200),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, failure_persistence: None, ..ProptestConfig::default() })]

    /// The SOAP logout endpoint answers anything with a SOAP message: a LogoutResponse (HTTP
    /// 200), or a fault with a code (HTTP 500, as SOAP 1.1 §6.2 requires), never a page or a
    /// panic.
    #[test]
    fn the_soap_endpoint_answers_random_bodies_with_soap(body in arb_soap()) {
        thread_local! { static WORLD: World = world(); }
        WORLD.with(|w| {
            let r = w.rt.block_on(w.api.call("POST", "/contoso.example/saml2/soap", None, Some(("text/xml", body.clone()))));
            prop_assert!(r.content_type.starts_with("text/xml"), "{}", r.content_type);
            match r.status.as_u16() {
                200 => prop_assert!(sesame_saml::parse_soap_logout_response(&r.text).is_ok(), "{}", r.text),
                500 => prop_assert!(matches!(
                    sesame_saml::parse_soap_logout_response(&r.text),
                    Err(sesame_saml::SamlError::SoapFault(reason)) if reason.contains("SESAME-")
                ), "{}", r.text),
                other => prop_assert!(false, "HTTP {other}: {}", r.text),
            }
            Ok(())
        })?;
    }
}
