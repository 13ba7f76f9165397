//! SP side, accepting: one valid Response per protection mode (assertion signed, Response signed
//! only, both, encrypted assertion signed, encrypted under a signed Response), signed by the
//! crate's own signer and by `xmlsec1 --sign`, and seed 001's sample Response (RSA-SHA1, SP-Lite)
//! re-signed with the test IdP key. Each checks the values read and the report.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod sp_common;

use sesame_saml::{
    Protection, SigningMode, SpExpectations, SpRule, inspect_response, unverified_in_response_to,
    validate_response,
};
use sesame_xmlsec::{DigestAlgorithm, SignatureAlgorithm};
use sp_common::*;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

fn accept(xml: &str, exp: &SpExpectations<'_>) -> sesame_saml::ValidatedAssertion {
    let report = inspect_response(xml, exp);
    assert!(
        report.outcomes.iter().all(|o| o.passed),
        "{:#?}",
        report.outcomes
    );
    report
        .result
        .unwrap_or_else(|e| panic!("refused ({}): {e}\n{xml}", e.rule()))
        .get()
        .clone()
}

fn check_baseline(v: &sesame_saml::ValidatedAssertion, protection: Protection) {
    assert_eq!(v.id, ASSERTION_ID);
    assert_eq!(v.response_id, RESPONSE_ID);
    assert_eq!(v.issuer, IDP);
    assert_eq!(v.name_id.value, IMMUTABLE_ID);
    assert_eq!(v.session_index.as_deref(), Some("_session-1"));
    assert_eq!(v.authn_instant, NOW - Duration::seconds(30));
    assert_eq!(v.attribute_values("IDPEmail"), ["alice@contoso.example"]);
    // The earlier of SubjectConfirmationData (5 min) and Conditions (1 h) NotOnOrAfter.
    assert_eq!(v.not_on_or_after, NOW + Duration::minutes(5));
    assert_eq!(v.protection, protection);
}

#[test]
fn every_protection_mode_is_accepted() {
    let f = Fixture::new();
    let idp = signing_key("idp");
    let cases = [
        (SigningMode::Assertion, false, true, false),
        (SigningMode::Response, false, false, true),
        (SigningMode::Both, false, true, true),
        (SigningMode::Assertion, true, true, false),
        (SigningMode::Response, true, false, true),
        (SigningMode::Both, true, true, true),
    ];
    for (mode, encrypted, assertion_signed, response_signed) in cases {
        let xml = build_with(mode, encrypted, &idp, |_| {});
        let v = accept(&xml, &f.exp());
        check_baseline(
            &v,
            Protection {
                response_signed,
                assertion_signed,
                encrypted,
                sha1: false,
            },
        );
    }
}

#[test]
fn the_report_lists_every_rule_in_order() {
    let f = Fixture::new();
    let report = inspect_response(&build(SigningMode::Assertion), &f.exp());
    let ran: Vec<SpRule> = report.outcomes.iter().map(|o| o.rule).collect();
    let expected: Vec<SpRule> = SpRule::ALL
        .into_iter()
        .filter(|r| *r != SpRule::AssertionDecrypts)
        .collect();
    // ResponseStructure is reported twice: the envelope as received, then the verified parts.
    let mut seen = Vec::new();
    for r in ran {
        if !seen.contains(&r) {
            seen.push(r);
        }
    }
    assert_eq!(seen, expected);
    assert!(report.passed());
}

#[test]
fn unsolicited_is_accepted_when_allowed() {
    let f = Fixture::new();
    let xml = build_with(SigningMode::Assertion, false, &signing_key("idp"), |p| {
        p.in_response_to = None;
    });
    let mut exp = f.exp();
    exp.outstanding_request_id = None;
    exp.allow_unsolicited = true;
    assert_eq!(accept(&xml, &exp).name_id.value, IMMUTABLE_ID);
    assert_eq!(unverified_in_response_to(&xml).unwrap(), None);
}

#[test]
fn in_response_to_can_be_peeked_for_the_lookup() {
    let xml = build(SigningMode::Assertion);
    assert_eq!(
        unverified_in_response_to(&xml).unwrap().as_deref(),
        Some(REQ)
    );
    assert!(unverified_in_response_to("<!DOCTYPE x><x/>").is_err());
}

#[test]
fn clock_skew_is_tolerated_on_both_sides() {
    let f = Fixture::new();
    // Issued 2 minutes "in the future" (IdP clock ahead), within the 3-minute skew.
    let ahead = build_with(SigningMode::Assertion, false, &signing_key("idp"), |p| {
        p.issue_instant = NOW + Duration::minutes(2);
        p.not_before = NOW + Duration::minutes(2);
    });
    accept(&ahead, &f.exp());
    // SubjectConfirmationData expired 2 minutes ago, within the skew.
    let behind = build_with(SigningMode::Assertion, false, &signing_key("idp"), |p| {
        p.subject_not_on_or_after = NOW - Duration::minutes(2);
    });
    accept(&behind, &f.exp());
}

#[test]
fn cdata_in_a_value_is_read_whole() {
    let f = Fixture::new();
    let signed = build_with(SigningMode::Assertion, false, &signing_key("idp"), |_| {});
    // CDATA does not change the canonical form, so the signature still verifies; the value is
    // the whole value, never the part before the CDATA section.
    let xml = replace_once(
        &signed,
        &format!(">{IMMUTABLE_ID}<"),
        ">ABCDEG<![CDATA[1234]]>567890<",
    );
    assert_eq!(accept(&xml, &f.exp()).name_id.value, IMMUTABLE_ID);
}

#[test]
fn xmlsec1_signed_assertion_is_accepted() {
    let f = Fixture::new();
    let unsigned = strip_signatures(&build(SigningMode::Assertion));
    let Some(xml) = xmlsec1_sign_assertion(
        &unsigned,
        ASSERTION_ID,
        SignatureAlgorithm::RsaSha256,
        DigestAlgorithm::Sha256,
    ) else {
        return;
    };
    check_baseline(
        &accept(&xml, &f.exp()),
        Protection {
            assertion_signed: true,
            ..Protection::default()
        },
    );
}

#[test]
fn xmlsec1_rsa_sha1_is_accepted_only_when_allowed() {
    let unsigned = strip_signatures(&build(SigningMode::Assertion));
    let Some(xml) = xmlsec1_sign_assertion(
        &unsigned,
        ASSERTION_ID,
        SignatureAlgorithm::RsaSha1,
        DigestAlgorithm::Sha1,
    ) else {
        return;
    };
    let strict = Fixture::new();
    let e = validate_response(&xml, &strict.exp()).unwrap_err();
    assert_eq!(e.rule(), "assertion-signed-by-trusted-key");
    assert!(e.to_string().contains("disallowed-algorithm"), "{e}");
    let lenient = Fixture::new().with_sha1();
    let v = accept(&xml, &lenient.exp());
    assert!(v.protection.sha1);
}

const SEED_NOW: OffsetDateTime = datetime!(2014-01-31 15:37 UTC);

fn seed_exp(f: &Fixture) -> SpExpectations<'_> {
    SpExpectations {
        idp_entity_id: "http://WS2012R2-0.contoso.com/adfs/services/trust",
        sp_entity_id: "urn:federation:MicrosoftOnline",
        acs_url: "https://login.microsoftonline.com/login.srf",
        outstanding_request_id: Some("_049917a6-1183-42fd-a190-1d2cbaf9b144"),
        now: SEED_NOW,
        ..f.exp()
    }
}

fn seed_signed() -> Option<String> {
    xmlsec1_sign_assertion(
        &read("sp/seed001_response.xml"),
        "_7e3c1bcd-f180-4f78-83e1-7680920793aa",
        SignatureAlgorithm::RsaSha1,
        DigestAlgorithm::Sha1,
    )
}

#[test]
fn seed_001_sample_response_rsa_sha1_is_accepted_when_sha1_is_allowed() {
    let Some(xml) = seed_signed() else { return };
    let f = Fixture::new().with_sha1();
    let v = accept(&xml, &seed_exp(&f));
    assert_eq!(v.name_id.value, "ABCDEG1234567890");
    assert_eq!(
        v.attribute_values("IDPEmail"),
        ["administrator@contoso.com"]
    );
    assert_eq!(
        v.session_index.as_deref(),
        Some("_7e3c1bcd-f180-4f78-83e1-7680920793aa")
    );
    assert_eq!(v.not_on_or_after, datetime!(2014-01-31 15:41:31.357 UTC));
    assert!(v.protection.sha1 && v.protection.assertion_signed);

    // The same sample, SHA-1 not allowed for the federation.
    let strict = Fixture::new();
    let e = validate_response(&xml, &seed_exp(&strict)).unwrap_err();
    assert_eq!(e.rule(), "assertion-signed-by-trusted-key");
    // Five minutes after its SubjectConfirmationData expired (plus skew): refused.
    let mut late = seed_exp(&f);
    late.now = datetime!(2014-01-31 15:45 UTC);
    let e = validate_response(&xml, &late).unwrap_err();
    assert_eq!(e.rule(), "bearer-subject-confirmation");
}
