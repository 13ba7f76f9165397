//! Differential tests against `xmlsec1` (Debian's CLI): every corpus document, signed by us, must
//! verify with xmlsec1; signed by xmlsec1 (from a template inserted in the original text), it
//! must verify with us. Because xmlsec1 recomputes the digest from its own canonicalization, a
//! verified signature proves our exclusive C14N matches byte for byte.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::*;
use sesame_xmlsec::{
    AllowedAlgorithms, DigestAlgorithm, SignOptions, SignatureAlgorithm, VerifyPolicy,
    sign_enveloped, verify_enveloped,
};

fn policy() -> VerifyPolicy {
    VerifyPolicy {
        algorithms: AllowedAlgorithms::default().with_sha1(),
        ..VerifyPolicy::default()
    }
}

/// Sign/verify combinations exercised for every document.
fn variants() -> Vec<(&'static str, SignatureAlgorithm, DigestAlgorithm)> {
    vec![
        (
            "rsa",
            SignatureAlgorithm::RsaSha256,
            DigestAlgorithm::Sha256,
        ),
        ("rsa", SignatureAlgorithm::RsaSha512, DigestAlgorithm::Sha1),
        // RSA-SHA1 (compat), made by sesame-rsa-sha1 over aws-lc's C API.
        ("rsa", SignatureAlgorithm::RsaSha1, DigestAlgorithm::Sha1),
        ("rsa", SignatureAlgorithm::RsaSha1, DigestAlgorithm::Sha256),
        (
            "ec",
            SignatureAlgorithm::EcdsaSha256,
            DigestAlgorithm::Sha512,
        ),
    ]
}

#[test]
fn corpus_is_big_enough() {
    assert!(
        corpus().len() >= 30,
        "the issue asks for at least 30 documents"
    );
}

#[test]
fn ours_signed_verifies_with_ours_and_xmlsec1() {
    let bin = xmlsec1();
    let trusted = trusted();
    let (rsa, ec) = (rsa_key(), ec_key());
    let mut checked = 0;
    for (name, xml) in corpus() {
        for target in targets(&xml) {
            for (key_name, sig, digest) in variants() {
                let key = if key_name == "rsa" { &rsa } else { &ec };
                let options = SignOptions {
                    signature: sig,
                    digest,
                    ..SignOptions::default()
                };
                let signed = sign_enveloped(&xml, &target.path(), key, &options)
                    .unwrap_or_else(|e| panic!("{name} {target:?}: sign: {e}"));
                let verified = verify_enveloped(&signed, &target.path(), &trusted, &policy())
                    .unwrap_or_else(|e| panic!("{name} {target:?}: our verify: {e}\n{signed}"));
                assert_eq!(verified.info().id, target.id);
                // The verified element re-parses and is the element we asked for.
                let doc = verified.document().unwrap();
                assert_eq!(doc.root_element().tag_name().name(), target.local());
                if let Some(bin) = &bin {
                    let cert = format!("{key_name}.cert.pem");
                    let (ok, log) = xmlsec1_verify(bin, &signed, &target, &cert);
                    assert!(
                        ok,
                        "{name} {target:?} {sig:?}: xmlsec1 refused ours:\n{log}\n{signed}"
                    );
                }
                checked += 1;
            }
        }
    }
    assert!(checked >= 150, "only {checked} signatures checked");
}

/// Signs the Assertion, then the Response around it: both signatures verify with us, and the
/// outer one with xmlsec1 (which checks the first Signature in document order).
#[test]
fn nested_signatures_verify() {
    let bin = xmlsec1();
    let trusted = trusted();
    let key = rsa_key();
    for (name, xml) in corpus() {
        let targets = targets(&xml);
        let [outer, inner] = targets.as_slice() else {
            continue;
        };
        let once = sign_enveloped(&xml, &inner.path(), &key, &SignOptions::default()).unwrap();
        let twice = sign_enveloped(&once, &outer.path(), &key, &SignOptions::default()).unwrap();
        verify_enveloped(&twice, &inner.path(), &trusted, &policy())
            .unwrap_or_else(|e| panic!("{name}: inner: {e}"));
        verify_enveloped(&twice, &outer.path(), &trusted, &policy())
            .unwrap_or_else(|e| panic!("{name}: outer: {e}"));
        if let Some(bin) = &bin {
            let (ok, log) = xmlsec1_verify(bin, &twice, outer, "rsa.cert.pem");
            assert!(ok, "{name}: xmlsec1 refused the outer signature:\n{log}");
        }
    }
}

#[test]
fn xmlsec1_signed_verifies_with_ours() {
    let Some(bin) = xmlsec1() else { return };
    let trusted = trusted();
    let mut checked = 0;
    for (name, xml) in corpus() {
        for target in targets(&xml) {
            for (key_name, sig, digest, prefixes) in [
                (
                    "rsa",
                    SignatureAlgorithm::RsaSha256,
                    DigestAlgorithm::Sha256,
                    "",
                ),
                (
                    "rsa",
                    SignatureAlgorithm::RsaSha1,
                    DigestAlgorithm::Sha1,
                    "",
                ),
                (
                    "ec",
                    SignatureAlgorithm::EcdsaSha256,
                    DigestAlgorithm::Sha256,
                    "xs #default",
                ),
            ] {
                let tmpl = insert_into_original(
                    &xml,
                    &target,
                    &template(&target.id, sig, digest, prefixes, true),
                );
                let scratch = Scratch::new("xsign");
                let file = scratch.write("tmpl.xml", &tmpl);
                let out = scratch.0.join("signed.xml").display().to_string();
                let id_arg = format!("--id-attr:{}", target.id_attr);
                let node = format!("{}:{}", target.ns(), target.local());
                let keyspec = format!(
                    "{},{}",
                    key_path(&format!("{key_name}.key.pem")),
                    key_path(&format!("{key_name}.cert.pem"))
                );
                let (ok, o, e) = run(
                    &bin,
                    &[
                        "--sign",
                        &id_arg,
                        &node,
                        "--privkey-pem",
                        &keyspec,
                        "--output",
                        &out,
                        &file,
                    ],
                );
                assert!(ok, "{name}: xmlsec1 --sign failed: {o}{e}");
                let signed = std::fs::read_to_string(&out).unwrap();
                let verified = verify_enveloped(&signed, &target.path(), &trusted, &policy())
                    .unwrap_or_else(|e| {
                        panic!("{name} {target:?} {sig:?}: ours refused xmlsec1's: {e}\n{signed}")
                    });
                assert_eq!(verified.info().signature_algorithm, sig);
                checked += 1;
            }
        }
    }
    assert!(checked >= 90, "only {checked} signatures checked");
}

/// SAML 1.1 wants the Signature last (its Assertion has no Issuer element); the ID is AssertionID.
#[test]
fn saml11_assertion_signed_last() {
    let xml = read("corpus/24_saml11_assertion.xml");
    let target = &targets(&xml)[0];
    assert_eq!(target.id_attr, "AssertionID");
    let options = SignOptions {
        placement: sesame_xmlsec::Placement::Last,
        ..SignOptions::default()
    };
    let signed = sign_enveloped(&xml, &target.path(), &rsa_key(), &options).unwrap();
    assert!(
        signed
            .trim_end()
            .ends_with("</ds:Signature></saml:Assertion>")
    );
    verify_enveloped(
        &signed,
        &target.path(),
        &trusted(),
        &VerifyPolicy::default(),
    )
    .unwrap();
    if let Some(bin) = xmlsec1() {
        let (ok, log) = xmlsec1_verify(&bin, &signed, target, "rsa.cert.pem");
        assert!(ok, "{log}");
    }
}

/// RSA-SHA1 (compat: SAML-IDP-4 "RSA-SHA1 on request", WS-Federation) is signed through
/// `sesame-rsa-sha1`: xmlsec1 verifies it, and so do we — but only when the policy allows SHA-1.
/// The nested case checks both signatures of a Response whose Assertion is signed too.
#[test]
fn rsa_sha1_signed_verifies_with_xmlsec1_and_with_ours_when_allowed() {
    let bin = xmlsec1();
    let trusted = trusted();
    let options = SignOptions {
        signature: SignatureAlgorithm::RsaSha1,
        digest: DigestAlgorithm::Sha1,
        ..SignOptions::default()
    };
    let mut checked = 0;
    for (name, xml) in corpus() {
        let targets = targets(&xml);
        let [outer, inner] = targets.as_slice() else {
            continue;
        };
        let once = sign_enveloped(&xml, &inner.path(), &rsa_key(), &options).unwrap();
        let twice = sign_enveloped(&once, &outer.path(), &rsa_key(), &options).unwrap();
        assert!(twice.contains("Algorithm=\"http://www.w3.org/2000/09/xmldsig#rsa-sha1\""));
        assert!(twice.contains("Algorithm=\"http://www.w3.org/2000/09/xmldsig#sha1\""));
        for target in [inner, outer] {
            let refused =
                verify_enveloped(&twice, &target.path(), &trusted, &VerifyPolicy::default())
                    .unwrap_err();
            assert_eq!(refused.rule(), "disallowed-algorithm", "{name} {target:?}");
            let verified = verify_enveloped(&twice, &target.path(), &trusted, &policy())
                .unwrap_or_else(|e| panic!("{name} {target:?}: {e}"));
            assert_eq!(
                verified.info().signature_algorithm,
                SignatureAlgorithm::RsaSha1
            );
        }
        if let Some(bin) = &bin {
            let (ok, log) = xmlsec1_verify(bin, &twice, outer, "rsa.cert.pem");
            assert!(
                ok,
                "{name}: xmlsec1 refused our RSA-SHA1 signature:\n{log}\n{twice}"
            );
            let (ok, log) = xmlsec1_verify(bin, &once, inner, "rsa.cert.pem");
            assert!(
                ok,
                "{name}: xmlsec1 refused our RSA-SHA1 signature:\n{log}\n{once}"
            );
        }
        checked += 1;
    }
    assert!(checked >= 5, "only {checked} nested documents");
}
