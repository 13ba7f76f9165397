//! Table-driven tests of the IdP rules: each accepting case and each rejection path.

use time::macros::datetime;

use super::*;
use crate::authn_request::{NameIdPolicy, parse_authn_request};
use crate::logout::NameId;

const NOW: OffsetDateTime = datetime!(2026-11-02 10:00 UTC);

fn request(attrs: &str) -> AuthnRequest {
    parse_authn_request(&format!(
        r#"<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_r" Version="2.0" IssueInstant="2026-11-02T10:00:00Z" {attrs}><saml:Issuer>sp</saml:Issuer></samlp:AuthnRequest>"#
    ))
    .unwrap()
}

fn acs(index: u16, binding: &str, location: &str, is_default: Option<bool>) -> IndexedEndpoint {
    IndexedEndpoint {
        binding: binding.to_owned(),
        location: location.to_owned(),
        index,
        is_default,
    }
}

#[test]
fn version() {
    assert!(request_version_is_2_0("2.0").is_ok());
    for v in ["1.1", "2.1", "2", ""] {
        assert_eq!(
            request_version_is_2_0(v).map_err(|e| e.status_code()),
            Err(crate::StatusCode::VersionMismatch)
        );
    }
}

#[test]
fn issue_instant_window() {
    let r = request("");
    let skew = DEFAULT_CLOCK_SKEW;
    for (now, ok) in [
        (NOW, true),
        (NOW + skew, true),
        (NOW - skew, true),
        (NOW + skew + Duration::seconds(1), false),
        (NOW - skew - Duration::seconds(1), false),
    ] {
        assert_eq!(
            request_issue_instant_within_skew(&r.header, now, skew).is_ok(),
            ok,
            "{now}"
        );
    }
}

#[test]
fn destination() {
    let with = request(r#"Destination="https://idp/t/saml2""#);
    let without = request("");
    let url = "https://idp/t/saml2";
    assert!(request_destination_matches(&with.header, url, true).is_ok());
    assert!(request_destination_matches(&without.header, url, false).is_ok());
    assert_eq!(
        request_destination_matches(&without.header, url, true).map_err(|e| e.rule()),
        Err("missing-attribute")
    );
    for other in [
        "https://idp/t/saml2/",
        "https://IDP/t/saml2",
        "https://idp/u/saml2",
    ] {
        assert_eq!(
            request_destination_matches(&with.header, other, false).map_err(|e| e.rule()),
            Err("destination-mismatch"),
            "{other}"
        );
    }
}

#[test]
fn acs_choice() {
    let post = ns::BINDING_HTTP_POST;
    let art = ns::BINDING_HTTP_ARTIFACT;
    let registered = [
        acs(0, art, "https://sp/art", Some(true)),
        acs(1, post, "https://sp/acs1", None),
        acs(2, post, "https://sp/acs2", Some(true)),
        acs(3, art, "https://sp/acs3", None),
    ];
    let cases: Vec<(&str, std::result::Result<u16, &str>)> = vec![
        ("", Ok(2)),
        (r#"AssertionConsumerServiceURL="https://sp/acs1""#, Ok(1)),
        (
            r#"AssertionConsumerServiceURL="https://sp/acs1" ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST""#,
            Ok(1),
        ),
        (r#"AssertionConsumerServiceIndex="1""#, Ok(1)),
        (
            r#"ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST""#,
            Ok(2),
        ),
        (
            r#"AssertionConsumerServiceURL="https://sp/acs1/x""#,
            Err("acs-not-registered"),
        ),
        (
            r#"AssertionConsumerServiceURL="https://sp/acs""#,
            Err("acs-not-registered"),
        ),
        (
            r#"AssertionConsumerServiceURL="https://sp/acs3""#,
            Err("no-usable-acs"),
        ),
        (
            r#"AssertionConsumerServiceIndex="9""#,
            Err("acs-index-not-registered"),
        ),
        (
            r#"AssertionConsumerServiceIndex="3""#,
            Err("unsupported-binding"),
        ),
        (
            r#"AssertionConsumerServiceIndex="1" AssertionConsumerServiceURL="https://sp/acs1""#,
            Err("acs-index-and-url"),
        ),
        (
            r#"AssertionConsumerServiceIndex="1" ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST""#,
            Err("acs-index-and-url"),
        ),
        (
            r#"AssertionConsumerServiceURL="https://sp/acs1" ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect""#,
            Err("unsupported-binding"),
        ),
    ];
    for (attrs, expected) in cases {
        let got = acs_url_is_registered(&request(attrs), &registered)
            .map(|e| e.index)
            .map_err(|e| e.rule());
        assert_eq!(got, expected, "{attrs}");
    }
}

#[test]
fn default_acs_follows_metadata_rules() {
    let post = ns::BINDING_HTTP_POST;
    let pick = |eps: &[IndexedEndpoint]| default_endpoint(eps.iter()).map(|e| e.index);
    assert_eq!(
        pick(&[acs(1, post, "a", Some(false)), acs(2, post, "b", None)]),
        Some(2)
    );
    assert_eq!(
        pick(&[
            acs(1, post, "a", Some(false)),
            acs(2, post, "b", Some(false))
        ]),
        Some(1)
    );
    assert_eq!(
        pick(&[acs(1, post, "a", None), acs(2, post, "b", Some(true))]),
        Some(2)
    );
    assert_eq!(pick(&[]), None);
    let none: [IndexedEndpoint; 0] = [];
    assert_eq!(
        acs_url_is_registered(&request(""), &none)
            .map_err(|e| e.rule())
            .err(),
        Some("no-usable-acs")
    );
}

#[test]
fn passive_and_forced() {
    let passive = request(r#"IsPassive="true""#);
    let normal = request("");
    let forced = request(r#"ForceAuthn="true""#);
    assert_eq!(
        passive_request_has_session(&passive, false).map_err(|e| e.status_code()),
        Err(crate::StatusCode::NoPassive)
    );
    assert!(passive_request_has_session(&passive, true).is_ok());
    assert!(passive_request_has_session(&normal, false).is_ok());

    let before = NOW - Duration::minutes(10);
    let after = NOW + Duration::seconds(20);
    assert!(needs_fresh_authentication(&normal, None, NOW));
    assert!(!needs_fresh_authentication(&normal, Some(before), NOW));
    assert!(needs_fresh_authentication(&forced, Some(before), NOW));
    assert!(!needs_fresh_authentication(&forced, Some(after), NOW));
}

#[test]
fn name_id_policy() {
    let mut r = request("");
    let supported = [ns::nameid::PERSISTENT, ns::nameid::EMAIL];
    assert_eq!(name_id_format_is_supported(&r, &supported).unwrap(), None);
    for (format, expected) in [
        (ns::nameid::UNSPECIFIED, Ok(None)),
        (ns::nameid::EMAIL, Ok(Some(ns::nameid::EMAIL))),
        (ns::nameid::TRANSIENT, Err("invalid-name-id-policy")),
    ] {
        r.name_id_policy = Some(NameIdPolicy {
            format: Some(format.to_owned()),
            ..NameIdPolicy::default()
        });
        assert_eq!(
            name_id_format_is_supported(&r, &supported).map_err(|e| e.rule()),
            expected,
            "{format}"
        );
    }
}

#[test]
fn logout_expiry() {
    let mut req = LogoutRequest {
        header: request("").header,
        not_on_or_after: None,
        reason: None,
        name_id: NameId::default(),
        session_indexes: vec![],
    };
    let skew = DEFAULT_CLOCK_SKEW;
    assert!(logout_request_not_expired(&req, NOW, skew).is_ok());
    req.not_on_or_after = Some(NOW);
    assert!(logout_request_not_expired(&req, NOW + skew - Duration::seconds(1), skew).is_ok());
    assert_eq!(
        logout_request_not_expired(&req, NOW + skew, skew).map_err(|e| e.rule()),
        Err("expired")
    );
}
