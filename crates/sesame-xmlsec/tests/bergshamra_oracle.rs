//! Second, independent oracle: the `bergshamra` crate (pure Rust XML security, `aws-lc` feature),
//! in its strict SAML mode (`DsigContext::new`: trusted keys only, strict structure).
//! Our signatures verify with it; its signatures verify with us; our encryption decrypts with it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use bergshamra::{DsigContext, EncContext, KeysManager, VerifyResult};
use common::*;
use sesame_xmlsec::{
    AllowedAlgorithms, ContentEncryption, DigestAlgorithm, ElementPath, EncryptOptions,
    KeyTransport, SignOptions, SignatureAlgorithm, VerifyPolicy, encrypt_element, sign_enveloped,
    verify_enveloped,
};

fn verifier(target: &Target) -> DsigContext {
    let mut keys = KeysManager::new();
    for cert in ["keys/rsa.cert.pem", "keys/ec.cert.pem"] {
        keys.add_key(bergshamra::keys::loader::load_x509_cert_pem(read(cert).as_bytes()).unwrap());
    }
    let mut ctx = DsigContext::new(keys).with_skip_time_checks(true);
    // bergshamra already knows Id, ID, id and AssertionID; registering one twice makes every
    // ID look duplicated.
    if !["Id", "ID", "id", "AssertionID"].contains(&target.id_attr.as_str()) {
        ctx.add_id_attr(&target.id_attr);
    }
    ctx
}

fn signer(key: &str) -> DsigContext {
    let mut keys = KeysManager::new();
    keys.add_key(bergshamra::keys::loader::load_pem_auto(read(key).as_bytes(), None).unwrap());
    let mut ctx = DsigContext::new_permissive(keys);
    for attr in ["ResponseID", "RequestID"] {
        ctx.add_id_attr(attr);
    }
    ctx
}

#[test]
fn ours_signed_verifies_with_bergshamra() {
    let (rsa, ec) = (rsa_key(), ec_key());
    let mut checked = 0;
    for (name, xml) in corpus() {
        for target in targets(&xml) {
            for (key, sig) in [
                (&rsa, SignatureAlgorithm::RsaSha256),
                (&rsa, SignatureAlgorithm::RsaSha1),
                (&ec, SignatureAlgorithm::EcdsaSha256),
            ] {
                let options = SignOptions {
                    signature: sig,
                    ..SignOptions::default()
                };
                let signed = sign_enveloped(&xml, &target.path(), key, &options).unwrap();
                match bergshamra::verify(&verifier(&target), &signed) {
                    Ok(VerifyResult::Valid { .. }) => {}
                    Ok(VerifyResult::Invalid { reason }) => {
                        panic!("{name} {target:?} {sig:?}: bergshamra: invalid: {reason}\n{signed}")
                    }
                    Err(e) => panic!("{name} {target:?} {sig:?}: bergshamra error: {e}\n{signed}"),
                }
                checked += 1;
            }
        }
    }
    assert!(checked >= 90, "{checked}");
}

#[test]
fn bergshamra_signed_verifies_with_ours() {
    let trusted = trusted();
    let policy = VerifyPolicy {
        algorithms: AllowedAlgorithms::default().with_sha1(),
        ..VerifyPolicy::default()
    };
    let mut checked = 0;
    for (name, xml) in corpus() {
        for target in targets(&xml) {
            // RSA-SHA1 is absent: bergshamra's aws-lc backend cannot sign it (ours signs it
            // through sesame-rsa-sha1, checked in the other direction above).
            for (key, sig, digest, prefixes) in [
                (
                    "keys/rsa.key.pem",
                    SignatureAlgorithm::RsaSha256,
                    DigestAlgorithm::Sha256,
                    "",
                ),
                (
                    "keys/rsa.key.pem",
                    SignatureAlgorithm::RsaSha512,
                    DigestAlgorithm::Sha1,
                    "xs",
                ),
                (
                    "keys/ec.key.pem",
                    SignatureAlgorithm::EcdsaSha256,
                    DigestAlgorithm::Sha512,
                    "",
                ),
            ] {
                let tmpl = insert_into_original(
                    &xml,
                    &target,
                    &template(&target.id, sig, digest, prefixes, false),
                );
                let signed = bergshamra::sign(&signer(key), &tmpl)
                    .unwrap_or_else(|e| panic!("{name} {target:?}: bergshamra sign: {e}"));
                verify_enveloped(&signed, &target.path(), &trusted, &policy).unwrap_or_else(|e| {
                    panic!("{name} {target:?} {sig:?}: ours refused bergshamra's: {e}\n{signed}")
                });
                checked += 1;
            }
        }
    }
    assert!(checked >= 90, "{checked}");
}

#[test]
fn ours_encrypted_decrypts_with_bergshamra() {
    let xml = read("corpus/12_xsi_type_ancestor_prefixes.xml");
    let path = ElementPath::root(SAMLP, "Response").child(SAML, "Assertion");
    for content in ContentEncryption::ALL {
        for key_transport in [KeyTransport::RsaOaepMgf1pSha1, KeyTransport::RsaOaepSha256] {
            let options = EncryptOptions {
                content,
                key_transport,
                ..EncryptOptions::default()
            };
            let enc = encrypt_element(&xml, &path, &recipient(), &options).unwrap();
            let mut keys = KeysManager::new();
            keys.add_key(
                bergshamra::keys::loader::load_pem_auto(read("keys/rsa.key.pem").as_bytes(), None)
                    .unwrap(),
            );
            let out = bergshamra::decrypt(&EncContext::new(keys), &enc).unwrap_or_else(|e| {
                panic!("{content:?} {key_transport:?}: bergshamra decrypt: {e}")
            });
            assert!(out.contains("alice@example.com"), "{out}");
        }
    }
}

/// Control: the oracle is not vacuous — it refuses a tampered document and an untrusted key.
#[test]
fn bergshamra_oracle_can_fail() {
    let xml = read("corpus/05_pretty_response.xml");
    let target = &targets(&xml)[1];
    let signed = sign_enveloped(&xml, &target.path(), &rsa_key(), &SignOptions::default()).unwrap();
    let tampered = signed.replace("alice@example.com", "admin@example.com");
    assert!(!matches!(
        bergshamra::verify(&verifier(target), &tampered),
        Ok(VerifyResult::Valid { .. })
    ));
    let untrusted = sign_enveloped(
        &xml,
        &target.path(),
        &untrusted_rsa_key(),
        &SignOptions::default(),
    )
    .unwrap();
    assert!(!matches!(
        bergshamra::verify(&verifier(target), &untrusted),
        Ok(VerifyResult::Valid { .. })
    ));
}
