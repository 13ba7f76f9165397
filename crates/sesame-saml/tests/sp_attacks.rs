//! SP side, refusing: a table of attacks on a Response posted to our ACS, each rejected with the
//! named rule (and, for the XML security rules, the `sesame-xmlsec` cause): XML signature
//! wrapping (XSW) variants, signature/key/digest/reference tampering, comment truncation
//! (CVE-2017-11427 family), XSW inside an EncryptedAssertion, every condition of profiles 2.0
//! §4.1.4.3, SHA-1 when disallowed, DOCTYPE and entities. The valid baselines come from the
//! crate's own `build_response` with the test IdP key; `sp_accept.rs` shows they are accepted.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod sp_common;

use sesame_saml::{
    SamlError, SigningMode, SpExpectations, Status, StatusCode, StatusResponseParams,
    build_status_response, inspect_response, ns, validate_response,
};
use sesame_xmlsec::{DigestAlgorithm, EncryptOptions, EncryptionRecipient};
use sp_common::*;
use time::Duration;

type Tweak = fn(&mut SpExpectations<'_>);

struct Case {
    name: &'static str,
    xml: String,
    tweak: Tweak,
    rule: &'static str,
    cause: Option<&'static str>,
}

fn case(name: &'static str, xml: String, rule: &'static str, cause: Option<&'static str>) -> Case {
    Case {
        name,
        xml,
        tweak: |_| {},
        rule,
        cause,
    }
}

fn with(mut c: Case, tweak: Tweak) -> Case {
    c.tweak = tweak;
    c
}

fn cause_of(e: &SamlError) -> Option<&'static str> {
    match e {
        SamlError::SpRule(f) => f.cause.as_ref().map(|c| c.rule()),
        _ => None,
    }
}

/// The signed baseline (assertion signed) and its signed assertion's text.
fn baseline() -> (String, String) {
    let xml = build(SigningMode::Assertion);
    let a = assertion_text(&xml).to_owned();
    (xml, a)
}

/// An unsigned assertion saying the attacker is the admin, with `id`.
fn evil_assertion(id: &str) -> String {
    let unsigned = strip_signatures(&build(SigningMode::Assertion));
    assertion_text(&unsigned)
        .replace(&format!(">{IMMUTABLE_ID}<"), ">EVIL-ADMIN<")
        .replace(&format!("ID=\"{ASSERTION_ID}\""), &format!("ID=\"{id}\""))
}

/// Inserts `text` after the Response's own Issuer (the first Issuer of the document).
fn after_response_issuer(xml: &str, text: &str) -> String {
    let at = xml.find("</saml:Issuer>").unwrap() + "</saml:Issuer>".len();
    format!("{}{}{}", &xml[..at], text, &xml[at..])
}

fn encrypt(xml: &str) -> String {
    let recipient = EncryptionRecipient::from_certificate_pem(&read("keys/sp.cert.pem")).unwrap();
    let options = EncryptOptions {
        wrap_in: Some("EncryptedAssertion"),
        ..EncryptOptions::default()
    };
    sesame_xmlsec::encrypt_element(xml, &assertion_path(), &recipient, &options).unwrap()
}

fn element_content<'x>(xml: &'x str, open: &str, close: &str) -> (usize, &'x str) {
    let start = xml.find(open).unwrap() + open.len();
    let end = xml[start..].find(close).unwrap() + start;
    (start, &xml[start..end])
}

fn wrapping_cases() -> Vec<Case> {
    let (signed, a) = baseline();
    let evil_same_id = evil_assertion(ASSERTION_ID);
    let mut cases = vec![
        // XSW: the signed assertion hidden under Extensions, an unsigned one where we read.
        case(
            "xsw-signed-under-extensions",
            after_response_issuer(
                &signed.replace(&a, &evil_assertion("_evil")),
                &format!("<samlp:Extensions>{a}</samlp:Extensions>"),
            ),
            "one-assertion-only",
            None,
        ),
        case(
            "xsw-unsigned-copy-same-id-before",
            signed.replace(&a, &format!("{evil_same_id}{a}")),
            "one-assertion-only",
            None,
        ),
        case(
            "xsw-unsigned-copy-same-id-after",
            signed.replace(&a, &format!("{a}{evil_same_id}")),
            "one-assertion-only",
            None,
        ),
        // XSW4-like: the signed assertion inside the evil one.
        case(
            "xsw-signed-inside-evil-assertion",
            signed.replace(
                &a,
                &evil_assertion("_evil")
                    .replace("</saml:Assertion>", &format!("{a}</saml:Assertion>")),
            ),
            "one-assertion-only",
            None,
        ),
        case(
            "xsw-signed-under-status-detail",
            signed.replace(&a, &evil_assertion("_evil")).replace(
                "</samlp:Status>",
                &format!("<samlp:StatusDetail>{a}</samlp:StatusDetail></samlp:Status>"),
            ),
            "one-assertion-only",
            None,
        ),
        case(
            "two-signed-assertions",
            {
                let other = build_with(SigningMode::Assertion, false, &signing_key("idp"), |p| {
                    p.assertion_id = "_assert-2";
                });
                signed.replace(&a, &format!("{a}{}", assertion_text(&other)))
            },
            "one-assertion-only",
            None,
        ),
        // The original signature copied onto an evil assertion with its own ID.
        case(
            "signature-copied-to-evil-assertion",
            signed.replace(
                &a,
                &a.replace(&format!(">{IMMUTABLE_ID}<"), ">EVIL-ADMIN<")
                    .replacen(&format!("ID=\"{ASSERTION_ID}\""), "ID=\"_evil\"", 1),
            ),
            "assertion-signed-by-trusted-key",
            Some("reference-uri-mismatch"),
        ),
        case(
            "signed-assertion-modified",
            replace_once(&signed, &format!(">{IMMUTABLE_ID}<"), ">EVIL-ADMIN<"),
            "assertion-signed-by-trusted-key",
            Some("digest-mismatch"),
        ),
        case(
            "reference-to-another-element",
            replace_once(
                &signed,
                &format!("URI=\"#{ASSERTION_ID}\""),
                &format!("URI=\"#{RESPONSE_ID}\""),
            ),
            "assertion-signed-by-trusted-key",
            Some("reference-uri-mismatch"),
        ),
        case(
            "signature-removed",
            strip_signatures(&signed),
            "assertion-signed-by-trusted-key",
            Some("missing-signature"),
        ),
        case(
            "signature-corrupted",
            {
                let (at, value) = element_content(&signed, "<ds:SignatureValue>", "<");
                let flipped = if value.starts_with('A') { "B" } else { "A" };
                format!("{}{flipped}{}", &signed[..at], &signed[at + 1..])
            },
            "assertion-signed-by-trusted-key",
            Some("signature-invalid"),
        ),
        case(
            "key-not-configured-cert-in-keyinfo",
            build_with(SigningMode::Assertion, false, &signing_key("idp2"), |_| {}),
            "assertion-signed-by-trusted-key",
            Some("untrusted-key"),
        ),
        case(
            "key-not-configured-no-keyinfo",
            {
                let xml = build_with(SigningMode::Assertion, false, &signing_key("idp2"), |_| {});
                let start = xml.find("<ds:KeyInfo").unwrap();
                let end = xml.find("</ds:KeyInfo>").unwrap() + "</ds:KeyInfo>".len();
                format!("{}{}", &xml[..start], &xml[end..])
            },
            "assertion-signed-by-trusted-key",
            Some("signature-invalid"),
        ),
        case(
            "sha256-signature-with-sha1-digest-disallowed",
            sign(
                &strip_signatures(&signed),
                &assertion_path(),
                &signing_key("idp"),
                DigestAlgorithm::Sha1,
            ),
            "assertion-signed-by-trusted-key",
            Some("disallowed-algorithm"),
        ),
    ];

    // Response signed only: its assertion swapped for an evil one with the same ID.
    let response_signed = build(SigningMode::Response);
    let ra = assertion_text(&response_signed).to_owned();
    cases.push(case(
        "signed-response-assertion-swapped",
        response_signed.replace(&ra, &evil_same_id),
        "assertion-signed-by-trusted-key",
        Some("digest-mismatch"),
    ));
    // XSW1-like: an evil unsigned Response carrying the signed one under Extensions.
    let evil_response = strip_signatures(&response_signed).replace(&ra, &evil_assertion("_evil"));
    cases.push(case(
        "xsw-signed-response-under-extensions",
        after_response_issuer(
            &evil_response,
            &format!(
                "<samlp:Extensions>{}</samlp:Extensions>",
                response_signed.trim_start_matches(|c| c != '<')
            ),
        ),
        "one-assertion-only",
        None,
    ));
    cases
}

fn encryption_cases() -> Vec<Case> {
    let (signed, a) = baseline();
    let wrapped =
        evil_assertion("_evil").replace("</saml:Assertion>", &format!("{a}</saml:Assertion>"));
    let encrypted = build_with(SigningMode::Assertion, true, &signing_key("idp"), |_| {});
    vec![
        case(
            "xsw-inside-encrypted-assertion",
            encrypt(&signed.replace(&a, &wrapped)),
            "one-assertion-only",
            None,
        ),
        case(
            "encrypted-unsigned-evil-assertion",
            encrypt(&signed.replace(&a, &evil_assertion("_evil"))),
            "assertion-signed-by-trusted-key",
            Some("missing-signature"),
        ),
        case(
            "encrypted-and-plain-assertion",
            encrypted.replace("</samlp:Response>", &format!("{a}</samlp:Response>")),
            "one-assertion-only",
            None,
        ),
        with(
            case(
                "encrypted-without-our-key",
                encrypted.clone(),
                "assertion-decrypts",
                Some("no-decryptable-key"),
            ),
            |e| e.decryption_keys = &[],
        ),
    ]
}

fn text_cases() -> Vec<Case> {
    let evil_id = resigned(|x| x.replace(IMMUTABLE_ID, "user@evil.com.example.com"));
    vec![
        // CVE-2017-11427: a comment does not change the canonical form (the signature still
        // verifies); a reader of the first text node would see `user@evil.com`.
        case(
            "comment-truncation-in-name-id",
            replace_once(
                &evil_id,
                "user@evil.com.example.com",
                "user@evil.com<!---->.example.com",
            ),
            "text-not-split",
            Some("text-split-by-comment"),
        ),
        case(
            "comment-truncation-in-email-attribute",
            replace_once(
                &build(SigningMode::Assertion),
                ">alice@contoso.example<",
                ">alice@contoso.example<!-- -->.evil.example<",
            ),
            "text-not-split",
            Some("text-split-by-comment"),
        ),
        case(
            "doctype-internal-entity",
            format!(
                "<!DOCTYPE samlp:Response [<!ENTITY x \"admin\">]>{}",
                build(SigningMode::Assertion)
            ),
            "strict-xml",
            Some("doctype-refused"),
        ),
        case(
            "doctype-external-entity",
            format!(
                "<!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>{}",
                build(SigningMode::Assertion)
            ),
            "strict-xml",
            Some("doctype-refused"),
        ),
        case(
            "not-a-response",
            assertion_text(&build(SigningMode::Assertion)).to_owned(),
            "response-structure",
            None,
        ),
    ]
}

fn build_p(edit: impl FnOnce(&mut sesame_saml::ResponseParams<'_>)) -> String {
    build_with(SigningMode::Assertion, false, &signing_key("idp"), edit)
}

fn condition_cases() -> Vec<Case> {
    let signed = build(SigningMode::Assertion);
    let acs_attr = format!("Recipient=\"{ACS}\"");
    vec![
        with(
            case("expired", signed.clone(), "conditions-time-window", None),
            |e| e.now += Duration::hours(2),
        ),
        case(
            "not-yet-valid-beyond-skew",
            build_p(|p| p.not_before = NOW + Duration::minutes(4)),
            "conditions-time-window",
            None,
        ),
        case(
            "issued-in-the-future",
            build_p(|p| p.issue_instant = NOW + Duration::minutes(10)),
            "issue-instant-not-in-future",
            None,
        ),
        case(
            "wrong-audience",
            build_p(|p| p.audience = "https://other-sp.example"),
            "audience-restriction-includes-sp",
            None,
        ),
        case(
            "no-audience-restriction",
            resigned(|x| {
                let s = x.find("<saml:AudienceRestriction>").unwrap();
                let e = x.find("</saml:AudienceRestriction>").unwrap() + 27;
                format!("{}{}", &x[..s], &x[e..])
            }),
            "audience-restriction-includes-sp",
            None,
        ),
        case(
            "wrong-recipient",
            resigned(|x| replace_once(&x, &acs_attr, "Recipient=\"https://evil.example/acs\"")),
            "bearer-subject-confirmation",
            None,
        ),
        case(
            "wrong-destination-unsigned-envelope",
            replace_once(
                &signed,
                &format!("Destination=\"{ACS}\""),
                "Destination=\"https://evil.example/acs\"",
            ),
            "response-destination-matches",
            None,
        ),
        case(
            "wrong-destination-signed",
            build_with(SigningMode::Both, false, &signing_key("idp"), |p| {
                p.destination = "https://other.example/acs";
            }),
            "response-destination-matches",
            None,
        ),
        case(
            "subject-confirmation-without-not-on-or-after",
            resigned(|x| {
                // The first NotOnOrAfter after the SubjectConfirmationData's start is its own.
                let scd = x.find("<saml:SubjectConfirmationData").unwrap();
                let s = x[scd..].find(" NotOnOrAfter=\"").unwrap() + scd;
                let e = x[s + 15..].find('"').unwrap() + s + 16;
                format!("{}{}", &x[..s], &x[e..])
            }),
            "bearer-subject-confirmation",
            None,
        ),
        case(
            "subject-confirmation-with-not-before",
            resigned(|x| {
                x.replace(
                    &acs_attr,
                    &format!("{acs_attr} NotBefore=\"2026-11-02T09:59:00Z\""),
                )
            }),
            "bearer-subject-confirmation",
            None,
        ),
        case(
            "subject-confirmation-not-bearer",
            resigned(|x| {
                replace_once(
                    &x,
                    ns::CM_BEARER,
                    "urn:oasis:names:tc:SAML:2.0:cm:holder-of-key",
                )
            }),
            "bearer-subject-confirmation",
            None,
        ),
        with(
            case(
                "wrong-in-response-to",
                signed.clone(),
                "in-response-to-matches",
                None,
            ),
            |e| e.outstanding_request_id = Some("_another-request"),
        ),
        case(
            "subject-in-response-to-differs",
            resigned(|x| {
                replace_once(
                    &x,
                    &format!("InResponseTo=\"{REQ}\" NotOnOrAfter"),
                    "InResponseTo=\"_old\" NotOnOrAfter",
                )
            }),
            "in-response-to-matches",
            None,
        ),
        with(
            case(
                "unsolicited-not-allowed",
                build_p(|p| p.in_response_to = None),
                "in-response-to-matches",
                None,
            ),
            |e| e.outstanding_request_id = None,
        ),
        with(
            case(
                "unsolicited-allowed-but-claims-a-request",
                signed.clone(),
                "in-response-to-matches",
                None,
            ),
            |e| {
                e.outstanding_request_id = None;
                e.allow_unsolicited = true;
            },
        ),
        case(
            "status-not-success",
            build_status_response(
                &StatusResponseParams {
                    response_id: RESPONSE_ID,
                    issue_instant: NOW,
                    issuer: IDP,
                    destination: ACS,
                    in_response_to: Some(REQ),
                    status: Status::of(StatusCode::AuthnFailed, None),
                },
                Some(&sesame_saml::SignWith::rsa_sha256(&signing_key("idp"))),
            )
            .unwrap(),
            "status-is-success",
            None,
        ),
        with(
            case("wrong-issuer", signed.clone(), "issuer-matches", None),
            |e| e.idp_entity_id = "https://other-idp.example",
        ),
        case(
            "wrong-response-issuer-unsigned-envelope",
            signed.replacen(
                &format!("<saml:Issuer>{IDP}</saml:Issuer>"),
                "<saml:Issuer>https://evil.example</saml:Issuer>",
                1,
            ),
            "issuer-matches",
            None,
        ),
        case(
            "name-id-not-persistent",
            resigned(|x| replace_once(&x, ns::nameid::PERSISTENT, ns::nameid::EMAIL)),
            "name-id-format-is-persistent",
            None,
        ),
        case(
            "response-version-not-2-0",
            resigned(|x| {
                x.replace(
                    "Version=\"2.0\" IssueInstant",
                    "Version=\"2.1\" IssueInstant",
                )
            }),
            "version-is-2-0",
            None,
        ),
    ]
}

#[test]
fn every_attack_is_refused_by_the_named_rule() {
    let f = Fixture::new();
    let mut cases = wrapping_cases();
    cases.extend(encryption_cases());
    cases.extend(text_cases());
    cases.extend(condition_cases());
    let mut failures = Vec::new();
    for c in &cases {
        let mut exp = f.exp();
        (c.tweak)(&mut exp);
        match validate_response(&c.xml, &exp) {
            Ok(v) => failures.push(format!(
                "{}: ACCEPTED ({:?})",
                c.name,
                v.get().name_id.value
            )),
            Err(e) if e.rule() == c.rule && cause_of(&e) == c.cause => {
                // The report names the same rule as failed.
                let report = inspect_response(&c.xml, &exp);
                assert!(
                    report
                        .outcomes
                        .iter()
                        .any(|o| !o.passed && o.rule.name() == c.rule),
                    "{}: report {:#?}",
                    c.name,
                    report.outcomes
                );
                println!("{:<48} refused: {e}", c.name);
            }
            Err(e) => failures.push(format!(
                "{}: expected {} ({:?}), got {} ({:?}): {e}",
                c.name,
                c.rule,
                c.cause,
                e.rule(),
                cause_of(&e)
            )),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(cases.len() >= 40, "{} cases", cases.len());
}

#[test]
fn sha1_signature_is_refused_when_disallowed_and_accepted_when_allowed() {
    let unsigned = strip_signatures(&build(SigningMode::Assertion));
    let Some(xml) = xmlsec1_sign_assertion(
        &unsigned,
        ASSERTION_ID,
        sesame_xmlsec::SignatureAlgorithm::RsaSha1,
        DigestAlgorithm::Sha1,
    ) else {
        return;
    };
    let e = validate_response(&xml, &Fixture::new().exp()).unwrap_err();
    assert_eq!(
        (e.rule(), cause_of(&e)),
        (
            "assertion-signed-by-trusted-key",
            Some("disallowed-algorithm")
        )
    );
    let sha1 = Fixture::new().with_sha1();
    assert!(
        validate_response(&xml, &sha1.exp())
            .unwrap()
            .protection
            .sha1
    );
}
