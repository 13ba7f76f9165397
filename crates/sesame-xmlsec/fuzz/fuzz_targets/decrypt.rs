//! Fuzz target: XML-Enc decryption (and verification of what decrypts) of arbitrary input.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use sesame_xmlsec::{
    AllowedEncryption, DecryptionKey, ElementPath, Limits, TrustedKeys, VerifyPolicy,
    decrypt_element,
};

const SAMLP: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
const SAML: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
const XENC: &str = "http://www.w3.org/2001/04/xmlenc#";

fn keys() -> &'static (Vec<DecryptionKey>, TrustedKeys) {
    static KEYS: OnceLock<(Vec<DecryptionKey>, TrustedKeys)> = OnceLock::new();
    KEYS.get_or_init(|| {
        let mut trusted = TrustedKeys::new();
        let _ = trusted.add_certificate_pem(include_str!("../../testdata/keys/rsa.cert.pem"));
        let keys = DecryptionKey::from_pem(include_str!("../../testdata/keys/rsa.key.pem"))
            .into_iter()
            .collect();
        (keys, trusted)
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(xml) = std::str::from_utf8(data) else {
        return;
    };
    let (keys, trusted) = keys();
    let allowed = AllowedEncryption::default().with_cbc();
    for path in [
        ElementPath::root(SAMLP, "Response").child(SAML, "EncryptedAssertion"),
        ElementPath::root(SAMLP, "Response").child(XENC, "EncryptedData"),
        ElementPath::root(XENC, "EncryptedData"),
    ] {
        if let Ok(decrypted) = decrypt_element(xml, &path, keys, &allowed, &Limits::default()) {
            let _ = decrypted.document();
            let _ = decrypted.verify(SAML, "Assertion", trusted, &VerifyPolicy::default());
        }
    }
});
