//! The signature stage of SP-side validation (rule `assertion-signed-by-trusted-key`, profiles
//! 2.0 §4.1.4.5: "each assertion MUST be protected by a digital signature. This can be
//! accomplished by signing each individual `<Assertion>` element or by signing the `<Response>`
//! element"; core §5.4 for the signature's shape).
//!
//! By structure, never by ID: the Response is the document element, the assertion its single
//! Assertion or EncryptedAssertion child ([`super::rules::one_assertion_only`] has already
//! refused every other shape). What comes out is the *verified* XML holding the assertion:
//!
//! - the Assertion carries a signature: `sesame_xmlsec` verifies the element at
//!   `Response/Assertion` and we keep its canonical bytes (a Response signature, when present,
//!   must verify too);
//! - only the Response is signed: it is verified, and the assertion is read from the Response's
//!   canonical bytes, never from the document as received;
//! - EncryptedAssertion: decrypted from the verified Response's bytes when the Response is
//!   signed (else from the document), the decryption checked for one assertion and split text,
//!   then the decrypted Assertion's own signature verified (required unless the Response's
//!   signature covers the EncryptedAssertion).

use roxmltree::Node;
use sesame_xmlsec::{
    DigestAlgorithm, ElementPath, Limits, SignatureAlgorithm, SignatureInfo, SignedElement,
    Verified, VerifyPolicy, XmlSecError, decrypt_element, verify_enveloped,
};

use super::SpExpectations;
use super::rules::{SpRule, fail, fail_xmlsec, one_assertion_only, text_not_split};
use crate::error::{Result, SamlError};
use crate::ns;
use crate::xml::is;

/// Which signatures covered the assertion we consumed, for logs and the SSO test tool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Protection {
    /// The Response carried a signature that verified.
    pub response_signed: bool,
    /// The Assertion carried its own signature that verified.
    pub assertion_signed: bool,
    /// The assertion arrived as an EncryptedAssertion.
    pub encrypted: bool,
    /// A verified signature used RSA-SHA1 or a SHA-1 digest (log a warning).
    pub sha1: bool,
}

/// Where the assertion sits in [`SignedAssertion::xml`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum At {
    /// It is the document element (an Assertion's own canonical bytes).
    Root,
    /// It is the single Assertion child of the document element (a Response's canonical bytes,
    /// or the wrapper of a decrypted assertion covered by the Response's signature).
    Child,
}

/// The verified XML holding the assertion, and the proof it carries.
pub(crate) struct SignedAssertion {
    pub proof: Verified<()>,
    pub xml: String,
    pub at: At,
    /// The Response's canonical bytes, when its signature verified.
    pub envelope_xml: Option<String>,
    pub protection: Protection,
}

fn uses_sha1(info: &SignatureInfo) -> bool {
    info.signature_algorithm == SignatureAlgorithm::RsaSha1
        || info.digest_algorithm == DigestAlgorithm::Sha1
}

fn has_direct_signature(node: Node<'_, '_>) -> bool {
    node.children().any(|c| is(c, ns::DSIG, "Signature"))
}

fn signature_failure(what: &str, e: XmlSecError) -> SamlError {
    let mut err = fail_xmlsec(SpRule::AssertionSignedByTrustedKey, e);
    if let SamlError::SpRule(f) = &mut err {
        f.detail = format!("{what} signature: {}", f.detail);
    }
    err
}

fn proof_of(verified: Verified<SignedElement>) -> (Verified<()>, String) {
    let xml = verified.canonical_xml().to_owned();
    let proof = verified
        .try_map(|_| Ok::<(), std::convert::Infallible>(()))
        .unwrap_or_else(|never| match never {});
    (proof, xml)
}

/// Runs the signature stage on the received document; `child` is the Response's single
/// Assertion or EncryptedAssertion child.
pub(crate) fn verify(
    xml: &str,
    root: Node<'_, '_>,
    child: Node<'_, '_>,
    exp: &SpExpectations<'_>,
    limits: &Limits,
) -> Result<SignedAssertion> {
    let policy = VerifyPolicy {
        algorithms: exp.allowed.clone(),
        limits: *limits,
    };
    let response_path = ElementPath::root(ns::PROTOCOL, "Response");
    let response = if has_direct_signature(root) {
        Some(
            verify_enveloped(xml, &response_path, exp.trusted, &policy)
                .map_err(|e| signature_failure("Response", e))?,
        )
    } else {
        None
    };
    let mut protection = Protection {
        response_signed: response.is_some(),
        sha1: response.as_ref().is_some_and(|r| uses_sha1(r.info())),
        ..Protection::default()
    };
    let envelope_xml = response.as_ref().map(|r| r.canonical_xml().to_owned());

    if is(child, ns::ASSERTION, "Assertion") {
        if has_direct_signature(child) || response.is_none() {
            let path = response_path.child(ns::ASSERTION, "Assertion");
            let verified = verify_enveloped(xml, &path, exp.trusted, &policy)
                .map_err(|e| signature_failure("Assertion", e))?;
            protection.assertion_signed = true;
            protection.sha1 |= uses_sha1(verified.info());
            let (proof, xml) = proof_of(verified);
            return Ok(SignedAssertion {
                proof,
                xml,
                at: At::Root,
                envelope_xml,
                protection,
            });
        }
        let Some(response) = response else {
            return Err(fail(SpRule::AssertionSignedByTrustedKey, "not signed"));
        };
        let (proof, xml) = proof_of(response);
        return Ok(SignedAssertion {
            proof,
            xml,
            at: At::Child,
            envelope_xml,
            protection,
        });
    }

    // EncryptedAssertion (core §2.3.4): decrypt what was verified, when something was.
    protection.encrypted = true;
    let source = envelope_xml.as_deref().unwrap_or(xml);
    let decrypted = decrypt_element(
        source,
        &response_path.child(ns::ASSERTION, "EncryptedAssertion"),
        exp.decryption_keys,
        exp.encryption,
        limits,
    )
    .map_err(|e| fail_xmlsec(SpRule::AssertionDecrypts, e))?;
    let assertion_signed = {
        let doc = decrypted
            .document()
            .map_err(|e| fail_xmlsec(SpRule::AssertionDecrypts, e))?;
        let wrapper = doc.root_element();
        text_not_split(wrapper)?;
        let inner = one_assertion_only(wrapper)?;
        if !is(inner, ns::ASSERTION, "Assertion") {
            return Err(fail(
                SpRule::OneAssertionOnly,
                "an EncryptedAssertion decrypts to another EncryptedAssertion",
            ));
        }
        has_direct_signature(inner)
    };
    if assertion_signed || response.is_none() {
        let verified = decrypted
            .verify(ns::ASSERTION, "Assertion", exp.trusted, &policy)
            .map_err(|e| signature_failure("decrypted Assertion", e))?;
        protection.assertion_signed = true;
        protection.sha1 |= uses_sha1(verified.info());
        let (proof, xml) = proof_of(verified);
        return Ok(SignedAssertion {
            proof,
            xml,
            at: At::Root,
            envelope_xml,
            protection,
        });
    }
    let Some(response) = response else {
        return Err(fail(SpRule::AssertionSignedByTrustedKey, "not signed"));
    };
    let (proof, _) = proof_of(response);
    Ok(SignedAssertion {
        proof,
        xml: decrypted.wrapped_xml().to_owned(),
        at: At::Child,
        envelope_xml,
        protection,
    })
}
