//! Attack tests: each tampered or hostile document must be refused with the rule named.
//! Data-driven: (case name, document, expected rule).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::*;
use sesame_xmlsec::{
    AllowedAlgorithms, DigestAlgorithm, ElementPath, Limits, SignOptions, SignatureAlgorithm,
    VerifyPolicy, element_text, sign_enveloped, strict, verify_enveloped,
};

const DS: &str = "http://www.w3.org/2000/09/xmldsig#";

fn assertion_path() -> ElementPath<'static> {
    ElementPath::root(SAMLP, "Response").child(SAML, "Assertion")
}

/// The pretty-printed Response of the corpus with its Assertion signed by the trusted RSA key.
fn signed() -> String {
    let xml = read("corpus/05_pretty_response.xml");
    sign_enveloped(&xml, &assertion_path(), &rsa_key(), &SignOptions::default()).unwrap()
}

/// The `<saml:Assertion …>…</saml:Assertion>` text of a document.
fn assertion_text(xml: &str) -> &str {
    let start = xml.find("<saml:Assertion").unwrap();
    let end = xml.rfind("</saml:Assertion>").unwrap() + "</saml:Assertion>".len();
    &xml[start..end]
}

fn evil_assertion(id: &str) -> String {
    format!(
        r#"<saml:Assertion ID="{id}" Version="2.0" IssueInstant="2026-01-01T00:00:00Z"><saml:Issuer>https://idp.example.org/</saml:Issuer><saml:Subject><saml:NameID>admin</saml:NameID></saml:Subject></saml:Assertion>"#
    )
}

fn check(name: &str, xml: &str, policy: &VerifyPolicy, expected: &str) {
    match verify_enveloped(xml, &assertion_path(), &trusted(), policy) {
        Ok(_) => panic!("{name}: accepted, expected {expected}"),
        Err(e) => assert_eq!(e.rule(), expected, "{name}: {e}"),
    }
}

fn cases() -> Vec<(&'static str, String, &'static str)> {
    let s = signed();
    let a = assertion_text(&s).to_owned();
    let signature = {
        let start = s.find("<ds:Signature").unwrap();
        let end = s.find("</ds:Signature>").unwrap() + "</ds:Signature>".len();
        s[start..end].to_owned()
    };
    let untrusted_signed = sign_enveloped(
        &read("corpus/05_pretty_response.xml"),
        &assertion_path(),
        &untrusted_rsa_key(),
        &SignOptions::default(),
    )
    .unwrap();
    let rsa2_cert_b64: String = read("keys/rsa2.cert.pem")
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    let rsa_cert_start = s.find("<ds:X509Certificate>").unwrap() + "<ds:X509Certificate>".len();
    let rsa_cert_end = s.find("</ds:X509Certificate>").unwrap();
    let rsa_cert_b64 = s[rsa_cert_start..rsa_cert_end].to_owned();
    let sha1_digest = sign_enveloped(
        &read("corpus/05_pretty_response.xml"),
        &assertion_path(),
        &rsa_key(),
        &SignOptions {
            digest: DigestAlgorithm::Sha1,
            ..SignOptions::default()
        },
    )
    .unwrap();
    let enveloped = r#"<ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"></ds:Transform>"#;
    let exc =
        r#"<ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"></ds:Transform>"#;

    vec![
        // --- signature wrapping -----------------------------------------------------------------
        (
            "signed assertion moved under Extensions, evil one with the same ID in its place",
            s.replace(&a, &format!("<samlp:Extensions>{a}</samlp:Extensions>{}", evil_assertion("_a5"))),
            "duplicate-id",
        ),
        (
            "signed assertion moved under Extensions, evil one with another ID in its place",
            s.replace(&a, &format!("<samlp:Extensions>{a}</samlp:Extensions>{}", evil_assertion("_evil"))),
            "missing-signature",
        ),
        (
            "signed assertion moved inside the evil one (any other parent)",
            s.replace(&a, &evil_assertion("_evil").replace("</saml:Assertion>", &format!("<saml:Advice>{a}</saml:Advice></saml:Assertion>"))),
            "signature-not-direct-child",
        ),
        (
            "signature moved onto the evil assertion",
            s.replace(&a, &evil_assertion("_evil").replace("</saml:Issuer>", &format!("</saml:Issuer>{signature}"))),
            "reference-uri-mismatch",
        ),
        (
            "unsigned copy with the same ID before",
            s.replace(&a, &format!("{}{a}", evil_assertion("_a5"))),
            "duplicate-id",
        ),
        (
            "unsigned copy with the same ID after, under Extensions",
            s.replace("</samlp:Response>", &format!("<samlp:Extensions>{}</samlp:Extensions></samlp:Response>", evil_assertion("_a5"))),
            "duplicate-id",
        ),
        (
            "two candidate elements",
            s.replace(&a, &format!("{a}{}", evil_assertion("_other"))),
            "ambiguous-element",
        ),
        (
            "Reference to another element (the Response)",
            s.replace("URI=\"#_a5\"", "URI=\"#_r5\""),
            "reference-uri-mismatch",
        ),
        (
            "Reference by XPointer",
            s.replace("URI=\"#_a5\"", "URI=\"#xpointer(id('_a5'))\""),
            "reference-uri-mismatch",
        ),
        (
            "empty Reference URI (whole document)",
            s.replace("URI=\"#_a5\"", "URI=\"\""),
            "reference-uri-mismatch",
        ),
        (
            "two References",
            {
                let start = s.find("<ds:Reference").unwrap();
                let end = s.find("</ds:Reference>").unwrap() + "</ds:Reference>".len();
                let r = &s[start..end];
                s.replace(r, &format!("{r}{r}"))
            },
            "multiple-references",
        ),
        (
            "no Reference",
            {
                let start = s.find("<ds:Reference").unwrap();
                let end = s.find("</ds:Reference>").unwrap() + "</ds:Reference>".len();
                s.replace(&s[start..end], "")
            },
            "missing-reference",
        ),
        ("extra transform", s.replace(exc, &format!("{exc}{exc}")), "transforms-not-exact"),
        ("missing enveloped transform", s.replace(enveloped, ""), "transforms-not-exact"),
        ("missing c14n transform", s.replace(exc, ""), "transforms-not-exact"),
        (
            "no Transforms at all",
            s.replace(&format!("<ds:Transforms>{enveloped}{exc}</ds:Transforms>"), ""),
            "transforms-not-exact",
        ),
        (
            "transforms in the other order",
            s.replace(&format!("{enveloped}{exc}"), &format!("{exc}{enveloped}")),
            "transforms-not-exact",
        ),
        (
            "XPath transform",
            s.replace(exc, r#"<ds:Transform Algorithm="http://www.w3.org/TR/1999/REC-xpath-19991116"><ds:XPath>not(ancestor-or-self::ds:Signature)</ds:XPath></ds:Transform>"#),
            "transforms-not-exact",
        ),
        (
            "inclusive C14N as reference transform",
            s.replace(exc, r#"<ds:Transform Algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315"></ds:Transform>"#),
            "transforms-not-exact",
        ),
        (
            "HMAC SignatureMethod",
            s.replace("http://www.w3.org/2001/04/xmldsig-more#rsa-sha256", "http://www.w3.org/2000/09/xmldsig#hmac-sha1"),
            "disallowed-algorithm",
        ),
        (
            "inclusive C14N for SignedInfo",
            s.replace(
                "<ds:CanonicalizationMethod Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\">",
                "<ds:CanonicalizationMethod Algorithm=\"http://www.w3.org/TR/2001/REC-xml-c14n-20010315\">",
            ),
            "disallowed-algorithm",
        ),
        (
            "RSA-SHA1 SignatureMethod when SHA-1 is not allowed",
            s.replace("http://www.w3.org/2001/04/xmldsig-more#rsa-sha256", "http://www.w3.org/2000/09/xmldsig#rsa-sha1"),
            "disallowed-algorithm",
        ),
        ("SHA-1 DigestMethod when SHA-1 is not allowed", sha1_digest, "disallowed-algorithm"),
        ("untrusted key in KeyInfo", untrusted_signed.clone(), "untrusted-key"),
        (
            "untrusted key, KeyInfo removed",
            {
                let start = untrusted_signed.find("<ds:KeyInfo>").unwrap();
                let end = untrusted_signed.find("</ds:KeyInfo>").unwrap() + "</ds:KeyInfo>".len();
                untrusted_signed.replace(&untrusted_signed[start..end], "")
            },
            "signature-invalid",
        ),
        (
            "trusted signature, KeyInfo swapped to an untrusted certificate",
            s.replace(&rsa_cert_b64, &rsa2_cert_b64),
            "untrusted-key",
        ),
        (
            // The trusted certificate's exact text selects the trusted key without being decoded:
            // the signature is then checked with that key, and refused.
            "untrusted signature, KeyInfo swapped to the trusted certificate",
            untrusted_signed.replace(&rsa2_cert_b64, &rsa_cert_b64),
            "signature-invalid",
        ),
        (
            "trusted certificate, then a second X509Certificate that is not base64",
            s.replace(
                "</ds:X509Certificate>",
                "</ds:X509Certificate><ds:X509Certificate>not base64!</ds:X509Certificate>",
            ),
            "base64",
        ),
        ("digest mismatch (NameID changed)", s.replace("alice@example.com", "admin@example.com"), "digest-mismatch"),
        (
            "digest mismatch (attribute added)",
            s.replace("<saml:Subject>", "<saml:Subject Extra=\"1\">"),
            "digest-mismatch",
        ),
        (
            "signature value changed",
            {
                let at = s.find("<ds:SignatureValue>").unwrap() + "<ds:SignatureValue>".len();
                let mut b = s.clone().into_bytes();
                b[at + 5] = if b[at + 5] == b'A' { b'B' } else { b'A' };
                String::from_utf8(b).unwrap()
            },
            "signature-invalid",
        ),
        (
            "SignedInfo changed after signing (digest value recomputed by attacker)",
            s.replace("<ds:DigestMethod", "<ds:DigestMethod Extra=\"x\""),
            "signature-invalid",
        ),
        (
            "Object element in Signature",
            s.replace("</ds:KeyInfo></ds:Signature>", "</ds:KeyInfo><ds:Object>x</ds:Object></ds:Signature>"),
            "signature-structure",
        ),
        (
            "two Signature children",
            s.replacen("</ds:Signature>", &format!("</ds:Signature>{signature}"), 1),
            "multiple-signatures",
        ),
        ("no signature at all", read("corpus/05_pretty_response.xml"), "missing-signature"),
        ("element without ID", s.replace("ID=\"_a5\"", ""), "missing-id"),
        (
            "seed 001 sample: its ds prefix is bound to https://www.w3.org/2000/09/xmldsig#, not XML-DSig",
            read("corpus/02_seed001_response_verbatim.xml"),
            "missing-signature",
        ),
        // --- strict reading ---------------------------------------------------------------------
        ("DOCTYPE", format!("<!DOCTYPE x>{s}"), "doctype-refused"),
        (
            "external entity",
            format!("<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>{s}"),
            "doctype-refused",
        ),
        (
            "billion laughs",
            format!(
                "<!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\"><!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">]>{}",
                s.replace("alice@example.com", "&lol3;")
            ),
            "doctype-refused",
        ),
        (
            "entity declaration without DOCTYPE keyword (in a comment, still refused)",
            s.replace("<samlp:Status>", "<!-- <!ENTITY x \"y\"> --><samlp:Status>"),
            "entity-refused",
        ),
        (
            "processing instruction inside SAML content",
            s.replace("<samlp:Status>", "<?evil data?><samlp:Status>"),
            "processing-instruction-refused",
        ),
        ("not well-formed", s.replace("</samlp:Response>", ""), "malformed"),
        ("undefined entity", s.replace("alice@example.com", "&nbsp;"), "malformed"),
    ]
}

#[test]
fn every_attack_is_refused_with_its_rule() {
    let policy = VerifyPolicy::default();
    let cases = cases();
    assert!(cases.len() >= 35);
    for (name, xml, expected) in &cases {
        check(name, xml, &policy, expected);
    }
}

#[test]
fn the_untampered_document_verifies() {
    // The control: without it every rejection above could be vacuous.
    let v = verify_enveloped(
        &signed(),
        &assertion_path(),
        &trusted(),
        &VerifyPolicy::default(),
    )
    .unwrap();
    assert_eq!(v.info().id, "_a5");
    assert_eq!(v.info().signature_algorithm, SignatureAlgorithm::RsaSha256);
}

#[test]
fn keyinfo_certificate_selects_a_trusted_key_however_it_is_written() {
    // Our own exact base64 (the fast path), the same certificate line-wrapped as other signers
    // write it (decoded, then compared by public key), and an untrusted certificate listed first.
    let s = signed();
    let start = s.find("<ds:X509Certificate>").unwrap() + "<ds:X509Certificate>".len();
    let end = s.find("</ds:X509Certificate>").unwrap();
    let b64 = &s[start..end];
    let wrapped: String = b64
        .as_bytes()
        .chunks(64)
        .map(|line| format!("\n{}", std::str::from_utf8(line).unwrap()))
        .collect::<String>()
        + "\n";
    let rsa2_cert_b64: String = read("keys/rsa2.cert.pem")
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    let untrusted_first = format!("{rsa2_cert_b64}</ds:X509Certificate><ds:X509Certificate>{b64}");
    for (name, text) in [
        ("exact", b64.to_owned()),
        ("line-wrapped", wrapped),
        ("after an untrusted certificate", untrusted_first),
    ] {
        let xml = s.replace(b64, &text);
        let v = verify_enveloped(
            &xml,
            &assertion_path(),
            &trusted(),
            &VerifyPolicy::default(),
        )
        .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(v.info().key_index, 0, "{name}");
    }
}

#[test]
fn sha1_is_accepted_only_when_allowed() {
    let xml = sign_enveloped(
        &read("corpus/05_pretty_response.xml"),
        &assertion_path(),
        &rsa_key(),
        &SignOptions {
            digest: DigestAlgorithm::Sha1,
            ..SignOptions::default()
        },
    )
    .unwrap();
    check(
        "sha1 digest",
        &xml,
        &VerifyPolicy::default(),
        "disallowed-algorithm",
    );
    let policy = VerifyPolicy {
        algorithms: AllowedAlgorithms::default().with_sha1(),
        ..VerifyPolicy::default()
    };
    verify_enveloped(&xml, &assertion_path(), &trusted(), &policy).unwrap();
}

#[test]
fn limits_are_enforced() {
    let s = signed();
    let tight = |f: fn(&mut Limits)| {
        let mut limits = Limits::default();
        f(&mut limits);
        VerifyPolicy {
            limits,
            ..VerifyPolicy::default()
        }
    };
    check("oversized", &s, &tight(|l| l.max_bytes = 1000), "too-large");
    check("too deep", &s, &tight(|l| l.max_depth = 3), "too-deep");
    check(
        "too many nodes",
        &s,
        &tight(|l| l.max_nodes = 20),
        "too-many-nodes",
    );
    check(
        "too many attributes",
        &s,
        &tight(|l| l.max_attributes = 3),
        "too-many-attributes",
    );
    let deep = format!("{}{}", "<a>".repeat(5000), "</a>".repeat(5000));
    assert_eq!(
        strict::parse(&deep, &Limits::default()).unwrap_err().rule(),
        "too-deep"
    );
}

/// A value split by a comment is never read truncated: the raw reader refuses it, and the
/// verified element (canonical form without comments) carries it whole.
#[test]
fn doctype_and_entity_prescan_verdicts() {
    // DOCTYPE anywhere wins over ENTITY anywhere; `!` elsewhere (text, attribute values, a
    // comment, the first byte) is not a declaration.
    let limits = Limits::default();
    let rule = |xml: &str| {
        strict::parse(xml, &limits)
            .map(|_| ())
            .map_err(|e| e.rule())
    };
    assert_eq!(rule("<!ENTITY x><!DOCTYPE r><r/>"), Err("doctype-refused"));
    assert_eq!(rule("<r><!-- <!ENTITY x> --></r>"), Err("entity-refused"));
    assert_eq!(rule("<r a=\"<!DOCTYPE\"/>"), Err("doctype-refused"));
    assert_eq!(rule("<r>Hi! <!-- ! --><![CDATA[!]]></r>"), Ok(()));
    assert_eq!(rule("!<r/>"), Err("malformed"));
    assert_eq!(rule("<r>&lt;!DOCTYPE</r>"), Ok(()));
}

#[test]
fn comment_split_value_is_never_truncated() {
    let xml = read("corpus/05_pretty_response.xml")
        .replace("alice@example.com", "admin<!-- split -->@evil.example");
    let doc = strict::parse(&xml, &Limits::default()).unwrap();
    let name_id = doc
        .descendants()
        .find(|n| n.has_tag_name((SAML, "NameID")))
        .unwrap();
    assert_eq!(
        element_text(name_id).unwrap_err().rule(),
        "text-split-by-comment"
    );

    let signed =
        sign_enveloped(&xml, &assertion_path(), &rsa_key(), &SignOptions::default()).unwrap();
    let verified = verify_enveloped(
        &signed,
        &assertion_path(),
        &trusted(),
        &VerifyPolicy::default(),
    )
    .unwrap();
    let doc = verified.document().unwrap();
    let name_id = doc
        .descendants()
        .find(|n| n.has_tag_name((SAML, "NameID")))
        .unwrap();
    assert_eq!(element_text(name_id).unwrap(), "admin@evil.example");
}

#[test]
fn text_getter_joins_cdata_and_refuses_elements() {
    let xml = format!(r#"<a xmlns="{DS}"><b>x<![CDATA[<y>]]>z</b><c><d/></c><e/></a>"#);
    let doc = strict::parse(&xml, &Limits::default()).unwrap();
    let get = |name: &str| {
        let node = doc
            .descendants()
            .find(|n| n.has_tag_name((DS, name)))
            .unwrap();
        element_text(node)
    };
    assert_eq!(get("b").unwrap(), "x<y>z");
    assert_eq!(get("c").unwrap_err().rule(), "unexpected-element-in-text");
    assert_eq!(get("e").unwrap(), "");
}

#[test]
fn pis_outside_the_document_element_are_fine() {
    let xml = read("corpus/10_pi_outside.xml");
    strict::parse(&xml, &Limits::default()).unwrap();
}

#[test]
fn verified_element_is_only_the_signed_element() {
    // Whatever else the document holds, the verified value holds the Assertion and nothing more.
    let s = signed().replace(
        "</samlp:Response>",
        "<samlp:Extensions><x>unsigned</x></samlp:Extensions></samlp:Response>",
    );
    let v = verify_enveloped(&s, &assertion_path(), &trusted(), &VerifyPolicy::default()).unwrap();
    assert!(v.canonical_xml().starts_with("<saml:Assertion"));
    assert!(!v.canonical_xml().contains("unsigned"));
    assert!(
        !v.canonical_xml().contains("Signature"),
        "enveloped signature is not part of it"
    );
}
