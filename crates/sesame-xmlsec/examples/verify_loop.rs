//! Profiling helper: sign a benchmark document once, then verify it in a loop, for `perf record`
//! or `valgrind --tool=callgrind`:
//! `verify_loop [bench/response_idp.xml] [iterations]` (`SIGNED_OUT=path` also writes the signed
//! document there).
#![allow(missing_docs, clippy::unwrap_used)]
use sesame_xmlsec::*;
fn data(path: &str) -> String {
    std::fs::read_to_string(format!("{}/testdata/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}
fn main() {
    let file = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "bench/response_idp.xml".into());
    let n: u32 = std::env::args()
        .nth(2)
        .map_or(200_000, |s| s.parse().unwrap());
    let xml = data(&file);
    let key = SigningKey::from_pem(&data("keys/rsa.key.pem"), &data("keys/rsa.cert.pem")).unwrap();
    let mut trusted = TrustedKeys::new();
    trusted
        .add_certificate_pem(&data("keys/rsa.cert.pem"))
        .unwrap();
    let path = ElementPath::root("urn:oasis:names:tc:SAML:2.0:protocol", "Response");
    let signed = sign_enveloped(&xml, &path, &key, &SignOptions::default()).unwrap();
    let pol = VerifyPolicy::default();
    if let Some(out) = std::env::var_os("SIGNED_OUT") {
        std::fs::write(out, &signed).unwrap();
    }
    for _ in 0..n {
        std::hint::black_box(
            verify_enveloped(std::hint::black_box(&signed), &path, &trusted, &pol).unwrap(),
        );
    }
}
