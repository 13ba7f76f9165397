//! Fuzz target: strict parse, text getter, exclusive C14N and signature verification of
//! arbitrary input. Nothing may panic, whatever the bytes.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use sesame_xmlsec::{
    AllowedAlgorithms, ElementPath, Limits, TrustedKeys, VerifyPolicy, c14n, element_text, strict,
    verify_enveloped,
};

const SAMLP: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
const SAML: &str = "urn:oasis:names:tc:SAML:2.0:assertion";

fn trusted() -> &'static TrustedKeys {
    static KEYS: OnceLock<TrustedKeys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let mut keys = TrustedKeys::new();
        let _ = keys.add_certificate_pem(include_str!("../../testdata/keys/rsa.cert.pem"));
        let _ = keys.add_certificate_pem(include_str!("../../testdata/keys/ec.cert.pem"));
        keys
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(xml) = std::str::from_utf8(data) else {
        return;
    };
    let limits = Limits::default();
    if let Ok(doc) = strict::parse(xml, &limits) {
        for node in doc.descendants().filter(|n| n.is_element()).take(200) {
            let _ = element_text(node);
        }
        let _ = c14n::exc_c14n(doc.root_element(), &c14n::C14nOptions::default());
        let name = doc.root_element().tag_name();
        let root = ElementPath::root(name.namespace().unwrap_or(""), name.name());
        let policy = VerifyPolicy {
            algorithms: AllowedAlgorithms::default().with_sha1(),
            limits,
        };
        if let Ok(verified) = verify_enveloped(xml, &root, trusted(), &policy) {
            let _ = verified.document();
        }
    }
    let assertion = ElementPath::root(SAMLP, "Response").child(SAML, "Assertion");
    let _ = verify_enveloped(xml, &assertion, trusted(), &VerifyPolicy::default());
});
