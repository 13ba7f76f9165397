//! XML-Enc: our round trip for every algorithm combination, decryption of what `xmlsec1
//! --encrypt` produces, and `xmlsec1 --decrypt` of what we produce. A signed assertion survives
//! encryption and verifies after decryption.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::*;
use sesame_xmlsec::{
    AllowedEncryption, ContentEncryption, ElementPath, EncryptOptions, KeyTransport, Limits,
    SignOptions, VerifyPolicy, XmlSecError, decrypt_element, encrypt_element, sign_enveloped,
};

const CONTENT: [ContentEncryption; 4] = [
    ContentEncryption::Aes256Gcm,
    ContentEncryption::Aes128Gcm,
    ContentEncryption::Aes256Cbc,
    ContentEncryption::Aes128Cbc,
];
const TRANSPORT: [KeyTransport; 2] = [KeyTransport::RsaOaepMgf1pSha1, KeyTransport::RsaOaepSha256];

fn response_path() -> ElementPath<'static> {
    ElementPath::root(SAMLP, "Response")
}

fn assertion_path() -> ElementPath<'static> {
    response_path().child(SAML, "Assertion")
}

fn encrypted_path() -> ElementPath<'static> {
    response_path().child(SAML, "EncryptedAssertion")
}

/// Documents of the corpus that are a Response with one Assertion child.
fn responses() -> Vec<(String, String)> {
    corpus()
        .into_iter()
        .filter(|(_, xml)| targets(xml).len() == 2 && xml.contains("Response"))
        .filter(|(_, xml)| {
            let doc = roxmltree::Document::parse(xml).unwrap();
            doc.root_element().tag_name().namespace() == Some(SAMLP)
        })
        .collect()
}

#[test]
fn round_trip_every_algorithm_and_signature_survives() {
    let key = rsa_key();
    let trusted = trusted();
    let all = AllowedEncryption::default().with_cbc();
    let docs = responses();
    assert!(docs.len() >= 8, "{}", docs.len());
    for (name, xml) in docs {
        let signed =
            sign_enveloped(&xml, &assertion_path(), &key, &SignOptions::default()).unwrap();
        for content in CONTENT {
            for key_transport in TRANSPORT {
                let options = EncryptOptions {
                    content,
                    key_transport,
                    ..EncryptOptions::default()
                };
                let enc = encrypt_element(&signed, &assertion_path(), &recipient(), &options)
                    .unwrap_or_else(|e| panic!("{name}: encrypt: {e}"));
                assert!(!enc.contains("<saml:Subject"), "{name}: plaintext leaked");
                let dec = decrypt_element(
                    &enc,
                    &encrypted_path(),
                    &[other_decryption_key(), decryption_key()],
                    &all,
                    &Limits::default(),
                )
                .unwrap_or_else(|e| panic!("{name} {content:?} {key_transport:?}: decrypt: {e}"));
                let verified = dec
                    .verify(SAML, "Assertion", &trusted, &VerifyPolicy::default())
                    .unwrap_or_else(|e| {
                        panic!("{name}: verify after decrypt: {e}\n{}", dec.wrapped_xml())
                    });
                assert!(verified.info().id.starts_with('_'));
            }
        }
    }
}

#[test]
fn cbc_is_opt_in_and_wrong_key_is_named() {
    let xml = read("corpus/05_pretty_response.xml");
    let options = EncryptOptions {
        content: ContentEncryption::Aes128Cbc,
        ..EncryptOptions::default()
    };
    let enc = encrypt_element(&xml, &assertion_path(), &recipient(), &options).unwrap();
    let err = decrypt_element(
        &enc,
        &encrypted_path(),
        &[decryption_key()],
        &AllowedEncryption::default(),
        &Limits::default(),
    )
    .unwrap_err();
    assert_eq!(err.rule(), "disallowed-algorithm");
    let err = decrypt_element(
        &enc,
        &encrypted_path(),
        &[other_decryption_key()],
        &AllowedEncryption::default().with_cbc(),
        &Limits::default(),
    )
    .unwrap_err();
    assert_eq!(err, XmlSecError::NoDecryptableKey);
}

#[test]
fn tampered_gcm_ciphertext_fails_closed() {
    let xml = read("corpus/05_pretty_response.xml");
    let enc = encrypt_element(
        &xml,
        &assertion_path(),
        &recipient(),
        &EncryptOptions::default(),
    )
    .unwrap();
    // Flip one base64 character of the content CipherValue (the last one in the document).
    let at = enc.rfind("</xenc:CipherValue>").unwrap() - 10;
    let mut bytes = enc.into_bytes();
    bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(bytes).unwrap();
    let err = decrypt_element(
        &tampered,
        &encrypted_path(),
        &[decryption_key()],
        &AllowedEncryption::default(),
        &Limits::default(),
    )
    .unwrap_err();
    assert_eq!(err, XmlSecError::DecryptionFailed);
}

/// Our encryption decrypts with `xmlsec1 --decrypt`, for every combination.
#[test]
fn xmlsec1_decrypts_ours() {
    let Some(bin) = xmlsec1() else { return };
    let xml = read("corpus/12_xsi_type_ancestor_prefixes.xml");
    // xmlsec1 1.2.37 knows only rsa-oaep-mgf1p (xmlenc11#rsa-oaep came with xmlsec 1.3).
    for content in CONTENT {
        {
            let key_transport = KeyTransport::RsaOaepMgf1pSha1;
            let options = EncryptOptions {
                content,
                key_transport,
                ..EncryptOptions::default()
            };
            let enc = encrypt_element(&xml, &assertion_path(), &recipient(), &options).unwrap();
            let scratch = Scratch::new("xdec");
            let file = scratch.write("enc.xml", &enc);
            let (ok, out, err) = run(
                &bin,
                &[
                    "--decrypt",
                    "--privkey-pem",
                    &key_path("rsa.key.pem"),
                    &file,
                ],
            );
            assert!(
                ok,
                "{content:?} {key_transport:?}: xmlsec1 --decrypt failed: {err}"
            );
            assert!(out.contains("alice@example.com"), "{out}");
        }
    }
}

/// `xmlsec1 --encrypt` output (from a template) decrypts with ours.
#[test]
fn ours_decrypts_xmlsec1() {
    let Some(bin) = xmlsec1() else { return };
    let xml = read("corpus/12_xsi_type_ancestor_prefixes.xml");
    let cases = [
        (
            ContentEncryption::Aes256Gcm,
            "aes-256",
            KeyTransport::RsaOaepMgf1pSha1,
        ),
        (
            ContentEncryption::Aes128Gcm,
            "aes-128",
            KeyTransport::RsaOaepMgf1pSha1,
        ),
        (
            ContentEncryption::Aes256Cbc,
            "aes-256",
            KeyTransport::RsaOaepMgf1pSha1,
        ),
        (
            ContentEncryption::Aes128Cbc,
            "aes-128",
            KeyTransport::RsaOaepMgf1pSha1,
        ),
    ];
    for (content, session, transport) in cases {
        let transport_params = match transport {
            KeyTransport::RsaOaepMgf1pSha1 => r#"<ds:DigestMethod Algorithm="http://www.w3.org/2000/09/xmldsig#sha1"/>"#.to_owned(),
            KeyTransport::RsaOaepSha256 => r#"<ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><xenc11:MGF xmlns:xenc11="http://www.w3.org/2009/xmlenc11#" Algorithm="http://www.w3.org/2009/xmlenc11#mgf1sha256"/>"#.to_owned(),
        };
        let tmpl = format!(
            concat!(
                r#"<xenc:EncryptedData xmlns:xenc="http://www.w3.org/2001/04/xmlenc#" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" Type="http://www.w3.org/2001/04/xmlenc#Element">"#,
                r#"<xenc:EncryptionMethod Algorithm="{content}"/><ds:KeyInfo><xenc:EncryptedKey>"#,
                r#"<xenc:EncryptionMethod Algorithm="{transport}">{params}</xenc:EncryptionMethod>"#,
                r#"<xenc:CipherData><xenc:CipherValue/></xenc:CipherData></xenc:EncryptedKey></ds:KeyInfo>"#,
                r#"<xenc:CipherData><xenc:CipherValue/></xenc:CipherData></xenc:EncryptedData>"#
            ),
            content = content.uri(),
            transport = transport.uri(),
            params = transport_params,
        );
        let scratch = Scratch::new("xenc");
        let tmpl_file = scratch.write("tmpl.xml", &tmpl);
        let data_file = scratch.write("data.xml", &xml);
        let node = format!("{SAML}:Assertion");
        let (ok, out, err) = run(
            &bin,
            &[
                "--encrypt",
                "--pubkey-cert-pem",
                &key_path("rsa.cert.pem"),
                "--session-key",
                session,
                "--xml-data",
                &data_file,
                "--node-name",
                &node,
                &tmpl_file,
            ],
        );
        assert!(ok, "{content:?}: xmlsec1 --encrypt failed: {err}");
        assert!(!out.contains("alice@example.com"));
        // xmlsec1 replaces the Assertion by a bare EncryptedData child of the Response.
        let path = response_path().child("http://www.w3.org/2001/04/xmlenc#", "EncryptedData");
        let dec = decrypt_element(
            &out,
            &path,
            &[decryption_key()],
            &AllowedEncryption::default().with_cbc(),
            &Limits::default(),
        )
        .unwrap_or_else(|e| {
            panic!("{content:?} {transport:?}: ours refused xmlsec1's: {e}\n{out}")
        });
        assert!(dec.element_xml().contains("alice@example.com"));
        let doc = dec.document().unwrap();
        let assertion = doc.root_element().first_element_child().unwrap();
        assert_eq!(assertion.tag_name().namespace(), Some(SAML));
        // The xs prefix declared on the Response is in scope for the decrypted element.
        assert_eq!(
            assertion.lookup_namespace_uri(Some("xs")),
            Some("http://www.w3.org/2001/XMLSchema")
        );
    }
}
