//! Interleaved sign/verify ratios against raw aws-lc-rs RSA-2048, robust to a noisy shared
//! machine (15 rounds, median): `cargo run --release -p sesame-xmlsec --example ratio`.
//! Sign and verify of the target document (`testdata/bench/response_idp.xml`), then verify of the
//! two other benchmark documents (see `testdata/bench/README.md`).
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
    let key = SigningKey::from_pem(&data("keys/rsa.key.pem"), &data("keys/rsa.cert.pem")).unwrap();
    let mut trusted = TrustedKeys::new();
    trusted
        .add_certificate_pem(&data("keys/rsa.cert.pem"))
        .unwrap();
    let path = ElementPath::root("urn:oasis:names:tc:SAML:2.0:protocol", "Response");
    let opts = SignOptions::default();
    let pol = VerifyPolicy::default();
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
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };

    let xml = data("bench/response_idp.xml");
    let signed = sign_enveloped(&xml, &path, &key, &opts).unwrap();
    println!(
        "response_idp.xml: {} bytes, {} signed",
        xml.len(),
        signed.len()
    );
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
    println!(
        "median sign ratio {:.3}, median verify ratio {:.3}",
        median(&mut rs),
        median(&mut rv)
    );

    for file in ["response_idp_groups.xml", "response_pretty.xml"] {
        let xml = data(&format!("bench/{file}"));
        let signed = sign_enveloped(&xml, &path, &key, &opts).unwrap();
        let mut rv = vec![];
        for _ in 0..15 {
            let c = time(1500, || public.verify_sig(&msg, &sig).unwrap());
            let d = time(1500, || {
                std::hint::black_box(verify_enveloped(&signed, &path, &trusted, &pol).unwrap());
            });
            rv.push(c / d);
        }
        println!(
            "{file} ({} bytes signed): median verify ratio {:.3}",
            signed.len(),
            median(&mut rv)
        );
    }
}
