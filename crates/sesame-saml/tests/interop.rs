//! Differential tests of what we issue, judged by independent implementations:
//! - `xmlsec1 --verify` on every Response (each signing mode, and RSA-SHA1), error Response,
//!   LogoutRequest, LogoutResponse and metadata we emit; `xmlsec1 --decrypt` on encrypted
//!   assertions, then the inner assertion signature verified again;
//! - pysaml2 as an SP parses our Responses (plain and encrypted) against our IdP metadata.
//!
//! Skipped with a message when a tool is missing, unless `SESAME_REQUIRE_XMLSEC1` /
//! `SESAME_REQUIRE_PEERS` is set.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;

use base64::Engine as _;
use common::{TempDir, cert_der, key_path, read, run, signing_key, tool, trusted};
use sesame_saml::{
    AssertionEncryption, Attribute, IdpMetadataParams, LogoutRequestParams, LogoutResponseParams,
    NameId, ResponseParams, SignWith, Signer, SigningMode, Status, StatusCode,
    StatusResponseParams, build_logout_request, build_logout_response, build_response,
    build_status_response, idp_metadata, ns,
};
use sesame_xmlsec::{
    ContentEncryption, DecryptionKey, ElementPath, EncryptionRecipient, KeyTransport,
    SignatureAlgorithm, VerifyPolicy,
};
use time::{Duration, OffsetDateTime};

const IDP: &str = "https://idp.sesame.example/tenant/";
const SP: &str = "https://sp.pysaml2.example/metadata";
const ACS: &str = "https://sp.pysaml2.example/acs/post";

fn name_id() -> NameId {
    NameId {
        value: "alice@contoso.example".into(),
        format: Some(ns::nameid::EMAIL.into()),
        name_qualifier: None,
        sp_name_qualifier: None,
    }
}

fn attributes() -> Vec<Attribute> {
    vec![
        Attribute {
            name: "mail".into(),
            name_format: Some(ns::attrname::BASIC.into()),
            friendly_name: None,
            values: vec!["alice@contoso.example".into()],
        },
        Attribute {
            name: "urn:oid:2.5.4.42".into(),
            name_format: Some(ns::attrname::URI.into()),
            friendly_name: Some("givenName".into()),
            values: vec!["Alice & <Co>".into()],
        },
        Attribute {
            name: "groups".into(),
            name_format: None,
            friendly_name: None,
            values: vec!["admins".into(), "users".into()],
        },
    ]
}

fn response(now: OffsetDateTime, signer: &Signer<'_>, in_response_to: Option<&str>) -> String {
    let name_id = name_id();
    let attrs = attributes();
    build_response(
        &ResponseParams {
            response_id: "_resp1",
            assertion_id: "_assert1",
            issue_instant: now,
            issuer: IDP,
            destination: ACS,
            in_response_to,
            audience: SP,
            name_id: &name_id,
            subject_not_on_or_after: now + Duration::minutes(5),
            not_before: now - Duration::minutes(1),
            not_on_or_after: now + Duration::minutes(60),
            authn_instant: now - Duration::seconds(30),
            session_index: Some("_sess1"),
            session_not_on_or_after: Some(now + Duration::hours(8)),
            authn_context_class_ref: ns::AC_PASSWORD_PROTECTED_TRANSPORT,
            attributes: &attrs,
        },
        signer,
    )
    .unwrap()
}

const XPATH_ASSERTION_SIG: &str = "//*[local-name()='Assertion']/*[local-name()='Signature']";
const XPATH_RESPONSE_SIG: &str = "/*[local-name()='Response']/*[local-name()='Signature']";

/// `xmlsec1 --verify` of the signature at `xpath` with the IdP's certificate.
fn xmlsec1_verify(bin: &Path, dir: &TempDir, xml: &str, xpath: &str) {
    let file = dir.write("doc.xml", xml);
    let cert = key_path("idp.cert.pem");
    let (ok, out, err) = run(
        bin,
        &[
            "--verify",
            "--id-attr:ID",
            "urn:oasis:names:tc:SAML:2.0:assertion:Assertion",
            "--id-attr:ID",
            "urn:oasis:names:tc:SAML:2.0:protocol:Response",
            "--id-attr:ID",
            "urn:oasis:names:tc:SAML:2.0:protocol:LogoutRequest",
            "--id-attr:ID",
            "urn:oasis:names:tc:SAML:2.0:protocol:LogoutResponse",
            "--id-attr:ID",
            "urn:oasis:names:tc:SAML:2.0:metadata:EntityDescriptor",
            "--node-xpath",
            xpath,
            "--pubkey-cert-pem",
            &cert,
            &file,
        ],
    );
    assert!(
        ok,
        "xmlsec1 refused the signature at {xpath}:\n{out}\n{err}\n{xml}"
    );
}

fn fixed_now() -> OffsetDateTime {
    time::macros::datetime!(2026-11-02 10:00 UTC)
}

#[test]
fn responses_verify_with_xmlsec1_in_every_mode() {
    let Some(bin) = tool("xmlsec1", "SESAME_REQUIRE_XMLSEC1") else {
        return;
    };
    let dir = TempDir::new("resp");
    let key = signing_key("idp");
    for (mode, xpaths) in [
        (SigningMode::Assertion, vec![XPATH_ASSERTION_SIG]),
        (SigningMode::Response, vec![XPATH_RESPONSE_SIG]),
        (
            SigningMode::Both,
            vec![XPATH_ASSERTION_SIG, XPATH_RESPONSE_SIG],
        ),
    ] {
        let signer = Signer {
            sign: SignWith::rsa_sha256(&key),
            mode,
            encryption: None,
        };
        let xml = response(fixed_now(), &signer, Some("_req1"));
        for xpath in xpaths {
            xmlsec1_verify(&bin, &dir, &xml, xpath);
        }
        // And by our own verifier, on the element it would consume.
        let path = match mode {
            SigningMode::Response => ElementPath::root(ns::PROTOCOL, "Response"),
            _ => ElementPath::root(ns::PROTOCOL, "Response").child(ns::ASSERTION, "Assertion"),
        };
        sesame_xmlsec::verify_enveloped(&xml, &path, &trusted(&["idp"]), &VerifyPolicy::default())
            .unwrap();
        // Signature right after Issuer (SAML schemas).
        assert!(xml.contains("</saml:Issuer><ds:Signature"), "{mode:?}");
    }
}

/// RSA-SHA1 on request (SAML-IDP-4, for SPs that still need it): both signatures of a Response
/// signed in mode Both verify with xmlsec1, and with ours only when SHA-1 is allowed.
#[test]
fn rsa_sha1_responses_verify_with_xmlsec1_and_ours_when_allowed() {
    let key = signing_key("idp");
    let signer = Signer {
        sign: SignWith::with_algorithm(&key, SignatureAlgorithm::RsaSha1),
        mode: SigningMode::Both,
        encryption: None,
    };
    let xml = response(fixed_now(), &signer, Some("_req1"));
    assert_eq!(
        xml.matches("Algorithm=\"http://www.w3.org/2000/09/xmldsig#rsa-sha1\"")
            .count(),
        2
    );
    assert_eq!(
        xml.matches("Algorithm=\"http://www.w3.org/2000/09/xmldsig#sha1\"")
            .count(),
        2
    );
    let response = ElementPath::root(ns::PROTOCOL, "Response");
    for path in [response.clone(), response.child(ns::ASSERTION, "Assertion")] {
        let refused = sesame_xmlsec::verify_enveloped(
            &xml,
            &path,
            &trusted(&["idp"]),
            &VerifyPolicy::default(),
        )
        .unwrap_err();
        assert_eq!(refused.rule(), "disallowed-algorithm");
        let policy = VerifyPolicy {
            algorithms: sesame_xmlsec::AllowedAlgorithms::default().with_sha1(),
            ..VerifyPolicy::default()
        };
        let verified =
            sesame_xmlsec::verify_enveloped(&xml, &path, &trusted(&["idp"]), &policy).unwrap();
        assert_eq!(
            verified.info().signature_algorithm,
            SignatureAlgorithm::RsaSha1
        );
    }
    let Some(bin) = tool("xmlsec1", "SESAME_REQUIRE_XMLSEC1") else {
        return;
    };
    let dir = TempDir::new("sha1");
    for xpath in [XPATH_ASSERTION_SIG, XPATH_RESPONSE_SIG] {
        xmlsec1_verify(&bin, &dir, &xml, xpath);
    }
}

#[test]
fn encrypted_assertions_decrypt_with_xmlsec1() {
    let Some(bin) = tool("xmlsec1", "SESAME_REQUIRE_XMLSEC1") else {
        return;
    };
    let dir = TempDir::new("enc");
    let key = signing_key("idp");
    let recipient = EncryptionRecipient::from_certificate_pem(&read("keys/sp.cert.pem")).unwrap();
    for content in [ContentEncryption::Aes256Gcm, ContentEncryption::Aes128Cbc] {
        let signer = Signer {
            sign: SignWith::rsa_sha256(&key),
            mode: SigningMode::Both,
            encryption: Some(AssertionEncryption {
                recipient: &recipient,
                content,
                key_transport: KeyTransport::RsaOaepMgf1pSha1,
            }),
        };
        let xml = response(fixed_now(), &signer, Some("_req1"));
        assert!(xml.contains("<saml:EncryptedAssertion"), "{content:?}");
        assert!(
            !xml.contains("alice@contoso.example"),
            "{content:?}: plaintext leaked"
        );
        // The Response signature covers the EncryptedAssertion as sent.
        xmlsec1_verify(&bin, &dir, &xml, XPATH_RESPONSE_SIG);

        let file = dir.write("enc.xml", &xml);
        let out = dir.0.join("dec.xml").display().to_string();
        let (ok, _, err) = run(
            &bin,
            &[
                "--decrypt",
                "--privkey-pem",
                &key_path("sp.key.pem"),
                "--output",
                &out,
                &file,
            ],
        );
        assert!(ok, "xmlsec1 could not decrypt ({content:?}): {err}");
        let decrypted = std::fs::read_to_string(&out).unwrap();
        assert!(decrypted.contains("alice@contoso.example"), "{content:?}");
        // The assertion signed before encryption still verifies after decryption.
        xmlsec1_verify(&bin, &dir, &decrypted, XPATH_ASSERTION_SIG);

        // Our own decryptor agrees (CBC opted in).
        let dk = DecryptionKey::from_pem(&read("keys/sp.key.pem")).unwrap();
        let allowed = sesame_xmlsec::AllowedEncryption::default().with_cbc();
        sesame_xmlsec::decrypt_element(
            &xml,
            &ElementPath::root(ns::PROTOCOL, "Response")
                .child(ns::ASSERTION, "EncryptedAssertion")
                .child("http://www.w3.org/2001/04/xmlenc#", "EncryptedData"),
            &[dk],
            &allowed,
            &sesame_xmlsec::Limits::default(),
        )
        .unwrap();
    }
}

#[test]
fn other_messages_verify_with_xmlsec1() {
    let Some(bin) = tool("xmlsec1", "SESAME_REQUIRE_XMLSEC1") else {
        return;
    };
    let dir = TempDir::new("other");
    let key = signing_key("idp");
    let with = SignWith::rsa_sha256(&key);
    let now = fixed_now();

    let status = build_status_response(
        &StatusResponseParams {
            response_id: "_err1",
            issue_instant: now,
            issuer: IDP,
            destination: ACS,
            in_response_to: Some("_req1"),
            status: Status::of(StatusCode::NoPassive, Some("no session".into())),
        },
        Some(&with),
    )
    .unwrap();
    assert!(status.contains(StatusCode::Responder.uri()));
    assert!(status.contains(StatusCode::NoPassive.uri()));
    xmlsec1_verify(&bin, &dir, &status, XPATH_RESPONSE_SIG);

    let nid = name_id();
    let lreq = build_logout_request(
        &LogoutRequestParams {
            id: "_lr1",
            issue_instant: now,
            issuer: IDP,
            destination: "https://sp.example/slo",
            name_id: &nid,
            session_indexes: &["_sess1"],
            not_on_or_after: Some(now + Duration::minutes(5)),
            reason: Some("urn:oasis:names:tc:SAML:2.0:logout:user"),
        },
        Some(&with),
    )
    .unwrap();
    xmlsec1_verify(&bin, &dir, &lreq, "/*/*[local-name()='Signature']");
    let parsed = sesame_saml::parse_logout_request(&lreq).unwrap();
    assert_eq!(parsed.name_id, nid);
    assert_eq!(parsed.session_indexes, ["_sess1"]);

    let lresp = build_logout_response(
        &LogoutResponseParams {
            id: "_lresp1",
            issue_instant: now,
            issuer: IDP,
            destination: Some("https://sp.example/slo"),
            in_response_to: "_lr0",
            status: Status::of(StatusCode::PartialLogout, None),
        },
        Some(&with),
    )
    .unwrap();
    xmlsec1_verify(&bin, &dir, &lresp, "/*/*[local-name()='Signature']");
    let parsed = sesame_saml::parse_logout_response(&lresp).unwrap();
    assert_eq!(parsed.status.code, StatusCode::Success);
    assert_eq!(parsed.status.sub_code, Some(StatusCode::PartialLogout));
    assert_eq!(parsed.in_response_to.as_deref(), Some("_lr0"));

    let certs = [cert_der("idp"), cert_der("idp2")];
    let md = metadata(now, &certs, Some(&with));
    xmlsec1_verify(&bin, &dir, &md, "/*/*[local-name()='Signature']");
    assert_eq!(md.matches("<md:KeyDescriptor use=\"signing\">").count(), 2);
}

fn metadata(now: OffsetDateTime, certs: &[Vec<u8>], sign: Option<&SignWith<'_>>) -> String {
    idp_metadata(
        &IdpMetadataParams {
            id: "_md1",
            entity_id: IDP,
            valid_until: now + Duration::days(7),
            cache_duration: Duration::hours(24),
            want_authn_requests_signed: true,
            signing_certificates: certs,
            sso_url: "https://idp.sesame.example/tenant/saml2",
            slo_url: Some("https://idp.sesame.example/tenant/saml2"),
            slo_soap_url: Some("https://idp.sesame.example/tenant/saml2/soap"),
            name_id_formats: &[ns::nameid::EMAIL, ns::nameid::PERSISTENT],
            accepted_algorithms: &sesame_xmlsec::AllowedAlgorithms::default(),
        },
        sign,
    )
    .unwrap()
}

/// pysaml2 judges validity windows with its own clock: ask the peer for its "now".
fn peer_now() -> OffsetDateTime {
    let out = std::process::Command::new("python3")
        .args(["-c", "import time; print(int(time.time()))"])
        .output()
        .unwrap();
    let secs: i64 = String::from_utf8(out.stdout)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    OffsetDateTime::from_unix_timestamp(secs).unwrap()
}

#[test]
fn pysaml2_accepts_our_responses_and_metadata() {
    if !common::pysaml2_available() {
        return;
    }
    if tool("xmlsec1", "SESAME_REQUIRE_PEERS").is_none() {
        return;
    }
    let dir = TempDir::new("pysaml2");
    let now = peer_now();
    let key = signing_key("idp");
    let certs = [cert_der("idp"), cert_der("idp2")];
    let md = metadata(now, &certs, Some(&SignWith::rsa_sha256(&key)));
    let md_path = dir.write("idp.xml", &md);
    let recipient = EncryptionRecipient::from_certificate_pem(&read("keys/sp.cert.pem")).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/pysaml2_peer.py");
    for (label, mode, encrypt, in_response_to) in [
        (
            "assertion-signed",
            SigningMode::Assertion,
            false,
            Some("_req1"),
        ),
        ("both-signed", SigningMode::Both, false, Some("_req1")),
        ("encrypted", SigningMode::Assertion, true, Some("_req1")),
        ("idp-initiated", SigningMode::Assertion, false, None),
    ] {
        let signer = Signer {
            sign: SignWith::with_algorithm(&key, SignatureAlgorithm::RsaSha256),
            mode,
            encryption: encrypt.then(|| AssertionEncryption::new(&recipient)),
        };
        let xml = response(now, &signer, in_response_to);
        let b64 = base64::engine::general_purpose::STANDARD.encode(&xml);
        let file = dir.write("resp.b64", &b64);
        let out = std::process::Command::new("python3")
            .arg(&script)
            .args([
                "parse-response",
                &md_path,
                &file,
                in_response_to.unwrap_or("-"),
            ])
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{label}: pysaml2 refused our Response:\n{}\n{xml}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            stdout.contains("\"name_id\": \"alice@contoso.example\""),
            "{label}: {stdout}"
        );
        assert!(
            stdout.contains("\"session_index\": \"_sess1\""),
            "{label}: {stdout}"
        );
        assert!(stdout.contains("Alice & <Co>"), "{label}: {stdout}");
        assert!(
            stdout.contains("\"admins\", \"users\""),
            "{label}: {stdout}"
        );
        assert!(stdout.contains(IDP), "{label}: {stdout}");
    }
}
