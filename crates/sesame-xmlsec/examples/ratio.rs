//! Interleaved sign/verify ratios against raw aws-lc-rs RSA-2048, robust to a noisy shared
//! machine (15 rounds, median): `cargo run --release -p sesame-xmlsec --example ratio`.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::print_stdout,
    clippy::indexing_slicing
)]
use aws_lc_rs::{
    rand::SystemRandom,
    signature::{self, KeyPair, ParsedPublicKey, RsaKeyPair},
};
use sesame_xmlsec::*;
use std::time::Instant;
fn data(path: &str) -> String {
    std::fs::read_to_string(format!("{}/testdata/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}
fn time<F: FnMut()>(n: u32, mut f: F) -> f64 {
    let s = Instant::now();
    for _ in 0..n {
        f();
    }
    s.elapsed().as_secs_f64() / n as f64
}
fn main() {
    let xml = data("bench/response_4k.xml");
    let key = SigningKey::from_pem(&data("keys/rsa.key.pem"), &data("keys/rsa.cert.pem")).unwrap();
    let mut trusted = TrustedKeys::new();
    trusted
        .add_certificate_pem(&data("keys/rsa.cert.pem"))
        .unwrap();
    let path = ElementPath::root("urn:oasis:names:tc:SAML:2.0:protocol", "Response");
    let opts = SignOptions::default();
    let pol = VerifyPolicy::default();
    let signed = sign_enveloped(&xml, &path, &key, &opts).unwrap();
    let der = pem_decode(&data("keys/rsa.key.pem"), "PRIVATE KEY").unwrap();
    let pair = RsaKeyPair::from_pkcs8(&der).unwrap();
    let rng = SystemRandom::new();
    let msg = vec![0x5au8; 600];
    let mut sig = vec![0u8; 256];
    pair.sign(&signature::RSA_PKCS1_SHA256, &rng, &msg, &mut sig)
        .unwrap();
    let public = ParsedPublicKey::new(
        &signature::RSA_PKCS1_2048_8192_SHA256,
        pair.public_key().as_ref(),
    )
    .unwrap();
    let (mut rs, mut rv) = (vec![], vec![]);
    for _ in 0..15 {
        let a = time(100, || {
            pair.sign(&signature::RSA_PKCS1_SHA256, &rng, &msg, &mut sig)
                .unwrap()
        });
        let b = time(100, || {
            std::hint::black_box(sign_enveloped(&xml, &path, &key, &opts).unwrap());
        });
        let c = time(1500, || public.verify_sig(&msg, &sig).unwrap());
        let d = time(1500, || {
            std::hint::black_box(verify_enveloped(&signed, &path, &trusted, &pol).unwrap());
        });
        rs.push(a / b);
        rv.push(c / d);
        println!(
            "raw sign {:.1} µs, xml sign {:.1} µs, raw verify {:.1} µs, xml verify {:.1} µs",
            a * 1e6,
            b * 1e6,
            c * 1e6,
            d * 1e6
        );
    }
    rs.sort_by(f64::total_cmp);
    rv.sort_by(f64::total_cmp);
    println!(
        "median sign ratio {:.3}, median verify ratio {:.3}",
        rs[7], rv[7]
    );
}
