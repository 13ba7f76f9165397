//! Regenerates the fuzz seed corpus from the test documents:
//! `cargo test --test fuzz_seeds -- --ignored`. The seeds are committed under `fuzz/seeds/`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::*;
use sesame_xmlsec::{
    ContentEncryption, ElementPath, EncryptOptions, KeyTransport, SignOptions, encrypt_element,
    sign_enveloped,
};

/// Checks that every corpus document has its fuzz seeds; with `SESAME_WRITE_FUZZ_SEEDS=1` it
/// (re)writes them instead (run by hand when the corpus changes).
#[test]
fn fuzz_seeds_cover_the_corpus() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds");
    if std::env::var_os("SESAME_WRITE_FUZZ_SEEDS").is_none() {
        for (name, _) in corpus() {
            let stem = name.trim_end_matches(".xml");
            let seed = root.join("parse_verify").join(format!("{stem}.xml"));
            assert!(
                seed.exists(),
                "missing fuzz seed {}: run with SESAME_WRITE_FUZZ_SEEDS=1",
                seed.display()
            );
        }
        return;
    }
    let verify_dir = root.join("parse_verify");
    let decrypt_dir = root.join("decrypt");
    std::fs::create_dir_all(&verify_dir).unwrap();
    std::fs::create_dir_all(&decrypt_dir).unwrap();
    let key = rsa_key();
    for (name, xml) in corpus() {
        let stem = name.trim_end_matches(".xml");
        std::fs::write(verify_dir.join(format!("{stem}.xml")), &xml).unwrap();
        for (i, target) in targets(&xml).iter().enumerate() {
            let signed =
                sign_enveloped(&xml, &target.path(), &key, &SignOptions::default()).unwrap();
            std::fs::write(verify_dir.join(format!("{stem}.signed{i}.xml")), &signed).unwrap();
            if i == 1 && target.local() == "Assertion" && target.steps[0].1 == "Response" {
                for (j, content) in ContentEncryption::ALL.into_iter().enumerate() {
                    let options = EncryptOptions {
                        content,
                        key_transport: if j % 2 == 0 {
                            KeyTransport::RsaOaepMgf1pSha1
                        } else {
                            KeyTransport::RsaOaepSha256
                        },
                        ..EncryptOptions::default()
                    };
                    let path = ElementPath::root(SAMLP, "Response").child(SAML, "Assertion");
                    if let Ok(enc) = encrypt_element(&signed, &path, &recipient(), &options) {
                        std::fs::write(decrypt_dir.join(format!("{stem}.enc{j}.xml")), enc)
                            .unwrap();
                    }
                }
            }
        }
    }
}
