//! Sign and verify a ~4 KB SAML Response with RSA-2048, next to the raw aws-lc-rs RSA-2048 sign
//! and verify of the same SignedInfo-sized message, measured in the same run. Targets (issue 3):
//! sign ≥ 0.9 × raw sign rate, verify ≥ 0.5 × raw verify rate.
//!
//! The target document is `testdata/bench/response_idp.xml` (4.9 KB once signed: what our IdP
//! issues for a typical user, the certificate in KeyInfo); `response_pretty.xml` (7 KB signed,
//! pretty-printed, third-party style) is verified too, for reference. See that folder's README.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stderr,
    missing_docs
)]

use std::hint::black_box;
use std::time::Duration;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self, KeyPair, ParsedPublicKey, RsaKeyPair};
use criterion::{Criterion, criterion_group, criterion_main};
use sesame_xmlsec::{
    ElementPath, SignOptions, SigningKey, TrustedKeys, VerifyPolicy, sign_enveloped,
    verify_enveloped,
};

const SAMLP: &str = "urn:oasis:names:tc:SAML:2.0:protocol";

fn data(path: &str) -> String {
    std::fs::read_to_string(format!("{}/testdata/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn bench(c: &mut Criterion) {
    let xml = data("bench/response_idp.xml");
    let pretty = data("bench/response_pretty.xml");
    let key = SigningKey::from_pem(&data("keys/rsa.key.pem"), &data("keys/rsa.cert.pem")).unwrap();
    let mut trusted = TrustedKeys::new();
    trusted
        .add_certificate_pem(&data("keys/rsa.cert.pem"))
        .unwrap();
    let path = ElementPath::root(SAMLP, "Response");
    let options = SignOptions::default();
    let policy = VerifyPolicy::default();
    let signed = sign_enveloped(&xml, &path, &key, &options).unwrap();
    let signed_pretty = sign_enveloped(&pretty, &path, &key, &options).unwrap();
    eprintln!(
        "input {} bytes, signed Response {} bytes (pretty: {} bytes, signed {} bytes)",
        xml.len(),
        signed.len(),
        pretty.len(),
        signed_pretty.len()
    );

    // Raw aws-lc-rs on a message the size of a SignedInfo.
    let der = sesame_xmlsec::pem_decode(&data("keys/rsa.key.pem"), "PRIVATE KEY").unwrap();
    let pair = RsaKeyPair::from_pkcs8(&der).unwrap();
    let rng = SystemRandom::new();
    let message = vec![0x5a_u8; 600];
    let mut sig = vec![0u8; pair.public_modulus_len()];
    pair.sign(&signature::RSA_PKCS1_SHA256, &rng, &message, &mut sig)
        .unwrap();
    let public = ParsedPublicKey::new(
        &signature::RSA_PKCS1_2048_8192_SHA256,
        pair.public_key().as_ref(),
    )
    .unwrap();

    let mut g = c.benchmark_group("rsa2048");
    g.measurement_time(Duration::from_secs(6)).sample_size(60);
    g.bench_function("raw_sign", |b| {
        b.iter(|| {
            pair.sign(
                &signature::RSA_PKCS1_SHA256,
                &rng,
                black_box(&message),
                &mut sig,
            )
            .unwrap();
        })
    });
    g.bench_function("xml_sign_response", |b| {
        b.iter(|| sign_enveloped(black_box(&xml), &path, &key, &options).unwrap())
    });
    g.bench_function("raw_verify", |b| {
        b.iter(|| public.verify_sig(black_box(&message), &sig).unwrap())
    });
    g.bench_function("xml_verify_response", |b| {
        b.iter(|| verify_enveloped(black_box(&signed), &path, &trusted, &policy).unwrap())
    });
    g.bench_function("xml_verify_and_reparse_response", |b| {
        b.iter(|| {
            let v = verify_enveloped(black_box(&signed), &path, &trusted, &policy).unwrap();
            let doc = v.document().unwrap();
            black_box(doc.root_element().id());
        })
    });
    g.bench_function("xml_verify_response_pretty_7k", |b| {
        b.iter(|| verify_enveloped(black_box(&signed_pretty), &path, &trusted, &policy).unwrap())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
