//! Real messages from real peers (pysaml2 7.5.5, Shibboleth SP 3.4.1 metadata, AWS IAM Identity
//! Center's metadata shape) under `testdata/`, read by the crate, plus tampered variants of each
//! that must be refused with the named rule.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{read, trusted};
use sesame_saml::{
    MessageKind, SamlError, decode_post, decode_redirect, ns, parse_authn_request,
    parse_logout_request, parse_sp_metadata, rules, verify_authn_request_post,
    verify_logout_request_post, verify_redirect_signature,
};
use sesame_xmlsec::AllowedAlgorithms;

const PYSAML2_SP: &str = "https://sp.pysaml2.example/metadata";
const SSO: &str = "https://idp.sesame.example/tenant/saml2";

fn rule<T: std::fmt::Debug>(r: Result<T, SamlError>) -> &'static str {
    r.expect_err("expected a refusal").rule()
}

/// The `EncryptionMethod`s of an SP's encryption keys (metadata §2.4.1.1) are read, in order;
/// those of a signing-only key are not.
#[test]
fn sp_metadata_encryption_methods() {
    let pysaml2 = read("pysaml2/sp_metadata.xml");
    // Both KeyDescriptors (signing, then encryption) list two methods.
    let with_methods = pysaml2.replacen(
        "</ns0:KeyDescriptor>",
        "<ns0:EncryptionMethod Algorithm=\"http://www.w3.org/2001/04/xmlenc#aes128-cbc\"/><ns0:EncryptionMethod Algorithm=\"http://www.w3.org/2001/04/xmlenc#tripledes-cbc\"/></ns0:KeyDescriptor>",
        2,
    );
    assert_ne!(with_methods, pysaml2, "the fixture has KeyDescriptors");
    let md = parse_sp_metadata(&with_methods).unwrap();
    assert_eq!(
        md.encryption_methods,
        [
            "http://www.w3.org/2001/04/xmlenc#aes128-cbc",
            "http://www.w3.org/2001/04/xmlenc#tripledes-cbc"
        ]
    );
}

#[test]
fn sp_metadata_of_real_peers() {
    struct Case {
        file: &'static str,
        entity_id: &'static str,
        acs: usize,
        default_acs: &'static str,
        slo: usize,
        signing: usize,
        encryption: usize,
        want_assertions_signed: bool,
        authn_requests_signed: bool,
        formats: &'static [&'static str],
    }
    let cases = [
        Case {
            file: "aws/sp_metadata.xml",
            entity_id: "https://us-east-1.signin.aws.amazon.com/platform/saml/d-9067a1b2c3",
            acs: 1,
            default_acs: "https://us-east-1.signin.aws.amazon.com/platform/saml/acs/9c3f0a2e-5b7d-4e1f-8a6c-2d4b7e9f1a3c",
            slo: 0,
            signing: 1,
            encryption: 0,
            want_assertions_signed: true,
            authn_requests_signed: false,
            formats: &[ns::nameid::EMAIL],
        },
        Case {
            file: "shibboleth/sp_metadata.xml",
            entity_id: "https://sp.shib.example/shibboleth",
            acs: 3,
            default_acs: "https://sp.shib.example/Shibboleth.sso/SAML2/POST",
            slo: 3,
            // Two KeyDescriptors without `use`: each certificate serves both purposes.
            signing: 2,
            encryption: 2,
            want_assertions_signed: false,
            authn_requests_signed: false,
            formats: &[],
        },
        Case {
            file: "pysaml2/sp_metadata.xml",
            entity_id: PYSAML2_SP,
            acs: 1,
            default_acs: "https://sp.pysaml2.example/acs/post",
            slo: 2,
            signing: 1,
            encryption: 1,
            want_assertions_signed: true,
            authn_requests_signed: true,
            formats: &[ns::nameid::PERSISTENT, ns::nameid::EMAIL],
        },
    ];
    for c in cases {
        let md = parse_sp_metadata(&read(c.file)).unwrap_or_else(|e| panic!("{}: {e}", c.file));
        assert_eq!(md.entity_id, c.entity_id, "{}", c.file);
        assert_eq!(md.assertion_consumer_services.len(), c.acs, "{}", c.file);
        assert_eq!(
            md.default_acs().map(|e| e.location.as_str()),
            Some(c.default_acs),
            "{}",
            c.file
        );
        assert_eq!(md.single_logout_services.len(), c.slo, "{}", c.file);
        assert_eq!(md.signing_certificates.len(), c.signing, "{}", c.file);
        assert_eq!(md.encryption_certificates.len(), c.encryption, "{}", c.file);
        assert!(md.encryption_methods.is_empty(), "{}", c.file);
        assert_eq!(
            md.want_assertions_signed, c.want_assertions_signed,
            "{}",
            c.file
        );
        assert_eq!(
            md.authn_requests_signed, c.authn_requests_signed,
            "{}",
            c.file
        );
        assert_eq!(md.name_id_formats, c.formats, "{}", c.file);
        // Every certificate is usable by the XML security layer.
        for der in &md.signing_certificates {
            sesame_xmlsec::TrustedKeys::new()
                .add_certificate_der(der)
                .unwrap();
        }
        for der in &md.encryption_certificates {
            sesame_xmlsec::EncryptionRecipient::from_certificate_der(der).unwrap();
        }
    }
}

#[test]
fn sp_metadata_refusals() {
    let aws = read("aws/sp_metadata.xml");
    let shib = read("shibboleth/sp_metadata.xml");
    let strip_decl = |s: &str| {
        s.trim_start_matches(|c| c != '<').replacen(
            "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>",
            "",
            1,
        )
    };
    let two = format!(
        "<md:EntitiesDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\">{}{}</md:EntitiesDescriptor>",
        strip_decl(&aws),
        shib
    );
    let one = format!(
        "<md:EntitiesDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\" validUntil=\"2030-01-01T00:00:00Z\">{}</md:EntitiesDescriptor>",
        shib
    );
    let md = parse_sp_metadata(&one).unwrap();
    assert_eq!(md.entity_id, "https://sp.shib.example/shibboleth");
    assert!(md.valid_until.is_some());
    let cases: Vec<(String, &str)> = vec![
        (two, "metadata"),
        (
            aws.replace(
                "protocolSupportEnumeration=\"urn:oasis:names:tc:SAML:2.0:protocol\"",
                "protocolSupportEnumeration=\"urn:oasis:names:tc:SAML:1.1:protocol\"",
            ),
            "metadata",
        ),
        (aws.replace(" index=\"0\"", ""), "missing-attribute"),
        (
            aws.replace(
                "entityID=\"https://us-east-1.signin.aws.amazon.com/platform/saml/d-9067a1b2c3\"",
                "",
            ),
            "missing-attribute",
        ),
        (
            aws.replace("<ds:X509Certificate>", "<ds:X509Certificate>!!"),
            "metadata",
        ),
        (
            aws.replace("use=\"signing\"", "use=\"both\""),
            "invalid-value",
        ),
        (
            aws.replace(
                "WantAssertionsSigned=\"true\"",
                "WantAssertionsSigned=\"yes\"",
            ),
            "invalid-value",
        ),
        (
            aws.replace(
                "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>",
                "<!DOCTYPE x [<!ENTITY a \"b\">]>",
            ),
            "doctype-refused",
        ),
        (
            "<md:IDPSSODescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\"/>".to_owned(),
            "metadata",
        ),
    ];
    for (xml, expected) in cases {
        assert_eq!(rule(parse_sp_metadata(&xml)), expected);
    }
}

#[test]
fn pysaml2_authn_requests() {
    let sp_keys = trusted(&["sp"]);
    let wrong_keys = trusted(&["idp"]);
    let allowed = AllowedAlgorithms::default();

    // Redirect, unsigned.
    let m = decode_redirect(read("pysaml2/authn_redirect_unsigned.query").trim()).unwrap();
    assert_eq!(m.kind, MessageKind::Request);
    assert_eq!(m.relay_state.as_deref(), Some("/after?x=1&y=2"));
    assert!(m.signature.is_none());
    let r = parse_authn_request(&m.xml).unwrap();
    assert_eq!(r.issuer(), PYSAML2_SP);
    assert_eq!(r.header.destination.as_deref(), Some(SSO));
    assert_eq!(
        r.assertion_consumer_service_url.as_deref(),
        Some("https://sp.pysaml2.example/acs/post")
    );
    assert_eq!(r.protocol_binding.as_deref(), Some(ns::BINDING_HTTP_POST));
    rules::request_destination_matches(&r.header, SSO, false).unwrap();
    let md = parse_sp_metadata(&read("pysaml2/sp_metadata.xml")).unwrap();
    let acs = rules::acs_url_is_registered(&r, &md.assertion_consumer_services).unwrap();
    assert_eq!(acs.location, "https://sp.pysaml2.example/acs/post");
    rules::request_issue_instant_within_skew(
        &r.header,
        r.header.issue_instant,
        rules::DEFAULT_CLOCK_SKEW,
    )
    .unwrap();

    // Redirect, signed in the query.
    let query = read("pysaml2/authn_redirect_signed.query");
    let query = query.trim();
    let m = decode_redirect(query).unwrap();
    verify_redirect_signature(&m, &sp_keys, &allowed).unwrap();
    let r = parse_authn_request(&m.xml).unwrap();
    rules::request_destination_matches(&r.header, SSO, true).unwrap();
    assert_eq!(
        rule(verify_redirect_signature(&m, &wrong_keys, &allowed)),
        "signature-invalid"
    );
    let tampered = [
        query.replace("RelayState=rs-redirect", "RelayState=rs-redirecx"),
        query.replace("&RelayState=rs-redirect", ""),
        query.replace("rsa-sha256", "rsa-sha512"),
    ];
    for t in tampered {
        let m = decode_redirect(&t).unwrap();
        assert_eq!(
            rule(verify_redirect_signature(&m, &sp_keys, &allowed)),
            "signature-invalid",
            "{t}"
        );
    }
    let m =
        decode_redirect(&query.replace("xmldsig-more%23rsa-sha256", "xmldsig%23rsa-sha1")).unwrap();
    assert_eq!(
        rule(verify_redirect_signature(&m, &sp_keys, &allowed)),
        "disallowed-algorithm"
    );

    // POST, unsigned: parses, and a required signature is missing.
    let xml = decode_post(&read("pysaml2/authn_post_unsigned.b64")).unwrap();
    assert_eq!(parse_authn_request(&xml).unwrap().issuer(), PYSAML2_SP);
    assert_eq!(
        rule(verify_authn_request_post(&xml, &sp_keys, &allowed)),
        "missing-signature"
    );

    // POST, enveloped signature.
    let xml = decode_post(&read("pysaml2/authn_post_signed.b64")).unwrap();
    let v = verify_authn_request_post(&xml, &sp_keys, &allowed).unwrap();
    assert_eq!(v.issuer(), PYSAML2_SP);
    assert_eq!(v.info().id, v.id());
    // KeyInfo names the SP's certificate, which these keys do not trust.
    assert_eq!(
        rule(verify_authn_request_post(&xml, &wrong_keys, &allowed)),
        "untrusted-key"
    );
    let cases = [
        (
            xml.replace(
                "https://sp.pysaml2.example/acs/post",
                "https://evil.example/acs",
            ),
            "digest-mismatch",
        ),
        (
            xml.replace("IssueInstant=\"", "ForceAuthn=\"true\" IssueInstant=\""),
            "digest-mismatch",
        ),
        (strip_signature(&xml), "missing-signature"),
    ];
    for (t, expected) in cases {
        assert_eq!(
            rule(verify_authn_request_post(&t, &sp_keys, &allowed)),
            expected
        );
    }
}

/// Removes the ds:Signature element, whatever its prefix.
fn strip_signature(xml: &str) -> String {
    let start = xml
        .find(":Signature ")
        .or_else(|| xml.find(":Signature>"))
        .unwrap();
    let open = xml[..start].rfind('<').unwrap();
    let prefix = &xml[open + 1..start];
    let close_tag = format!("</{prefix}:Signature>");
    let end = xml.find(&close_tag).unwrap() + close_tag.len();
    format!("{}{}", &xml[..open], &xml[end..])
}

#[test]
fn pysaml2_logout_requests() {
    let sp_keys = trusted(&["sp"]);
    let allowed = AllowedAlgorithms::default();
    let m = decode_redirect(read("pysaml2/logout_redirect_signed.query").trim()).unwrap();
    verify_redirect_signature(&m, &sp_keys, &allowed).unwrap();
    let r = parse_logout_request(&m.xml).unwrap();
    assert_eq!(r.header.issuer, PYSAML2_SP);
    assert_eq!(r.name_id.value, "u-1234");
    assert_eq!(r.name_id.format.as_deref(), Some(ns::nameid::PERSISTENT));
    assert_eq!(r.session_indexes, ["_s1"]);

    let xml = decode_post(&read("pysaml2/logout_post_signed.b64")).unwrap();
    let v = verify_logout_request_post(&xml, &sp_keys, &allowed).unwrap();
    assert_eq!(v.name_id.value, "u-1234");
    assert_eq!(v.name_id.sp_name_qualifier.as_deref(), Some(PYSAML2_SP));
    let cases = [
        (xml.replace(">u-1234<", ">admin<"), "digest-mismatch"),
        (strip_signature(&xml), "missing-signature"),
    ];
    for (t, expected) in cases {
        assert_eq!(
            rule(verify_logout_request_post(&t, &sp_keys, &allowed)),
            expected
        );
    }
    // pysaml2's default SHA-1 digest: refused by default, accepted when SHA-1 is allowed.
    let sha1 = decode_post(&read("pysaml2/logout_post_signed_sha1_digest.b64")).unwrap();
    assert_eq!(
        rule(verify_logout_request_post(&sha1, &sp_keys, &allowed)),
        "disallowed-algorithm"
    );
    verify_logout_request_post(&sha1, &sp_keys, &allowed.clone().with_sha1()).unwrap();

    // A comment inside the signed NameID: the canonical form drops it, the signature holds, and
    // the value is read whole from the verified element (never "u-12").
    let commented = xml.replace(">u-1234<", ">u-12<!---->34<");
    let v = verify_logout_request_post(&commented, &sp_keys, &allowed).unwrap();
    assert_eq!(v.name_id.value, "u-1234");
    // A comment splitting the NameID in an unsigned request is refused, not truncated.
    let unsigned = strip_signature(&xml).replace(">u-1234<", ">u-12<!---->34<");
    assert_eq!(
        rule(parse_logout_request(&unsigned)),
        "text-split-by-comment"
    );

    // Bounds: each SessionIndex is a lookup, and the ID is kept and sealed into a cookie.
    let plain = strip_signature(&xml);
    let index = |i: usize| format!("<ns0:SessionIndex>_s{i}</ns0:SessionIndex>");
    let with_indexes = |n: usize, distinct: bool| {
        let all: String = (0..n)
            .map(|i| index(if distinct { i } else { 0 }))
            .collect();
        let at = plain.find("<ns0:SessionIndex>").unwrap();
        let end = plain.find("</ns0:SessionIndex>").unwrap() + "</ns0:SessionIndex>".len();
        format!("{}{all}{}", &plain[..at], &plain[end..])
    };
    let r = parse_logout_request(&with_indexes(16, true)).unwrap();
    assert_eq!(r.session_indexes.len(), 16);
    let r = parse_logout_request(&with_indexes(5_000, false)).unwrap();
    assert_eq!(r.session_indexes, ["_s0"], "repeated values count once");
    assert_eq!(
        rule(parse_logout_request(&with_indexes(17, true))),
        "invalid-value"
    );
    let id = |len: usize| {
        let start = plain.find(" ID=\"").unwrap() + " ID=\"".len();
        let end = start + plain[start..].find('"').unwrap();
        format!(
            "{}_{}{}",
            &plain[..start],
            "a".repeat(len - 1),
            &plain[end..]
        )
    };
    parse_logout_request(&id(256)).unwrap();
    assert_eq!(rule(parse_logout_request(&id(257))), "invalid-value");
}
