//! Verification of an enveloped XML-DSig signature on one element chosen by the caller, shaped so
//! that signature wrapping cannot be expressed: the result is the canonical bytes of *that*
//! element, exactly as digested, and nothing else of the document.
//!
//! Rules, in the order they are checked (each failure names its rule):
//! 1. strict reading (limits, no DTD, no PI in content);
//! 2. no ID value occurs twice anywhere in the document (`DuplicateId`);
//! 3. the element is where the caller says (`ElementNotFound`, `AmbiguousElement`);
//! 4. it has one ID attribute (`MissingId`);
//! 5. exactly one ds:Signature, a direct child (`MissingSignature`, `SignatureNotDirectChild`,
//!    `MultipleSignatures`) of the accepted shape (`SignatureStructure`);
//! 6. exclusive C14N for SignedInfo, an allowed SignatureMethod (`DisallowedAlgorithm`);
//! 7. exactly one Reference (`MissingReference`, `MultipleReferences`) whose URI is `#` + the
//!    element's own ID (`ReferenceUriMismatch`), with transforms exactly enveloped-signature +
//!    exc-c14n (`TransformsNotExact`) and an allowed DigestMethod;
//! 8. KeyInfo may select a trusted key, never add one (`UntrustedKey`);
//! 9. the digest (`DigestMismatch`), then the signature value (`SignatureInvalid`).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use roxmltree::{Node, NodeType};

use crate::algorithms::{
    AllowedAlgorithms, DSIG_NS, DigestAlgorithm, ENVELOPED, EXC_C14N, EXC_C14N_WITH_COMMENTS,
    SignatureAlgorithm,
};
use crate::c14n::{C14nOptions, exc_c14n, split_prefix_list};
use crate::error::{Result, XmlSecError};
use crate::keys::{TrustedKeys, certificate_spki};
use crate::select::{ElementPath, has_name};
use crate::strict::{self, Limits, element_text, is_xml_whitespace};

/// Attribute names (without namespace) that carry an element's ID in SAML 2.0 (`ID`), SAML 1.1
/// (`AssertionID`, `ResponseID`, `RequestID`) and WS-* (`Id`).
pub const ID_ATTRIBUTES: [&str; 5] = ["ID", "AssertionID", "ResponseID", "RequestID", "Id"];
const WSU_NS: &str =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd";

/// What the verifier accepts.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct VerifyPolicy {
    /// Allowed SignatureMethod and DigestMethod algorithms.
    pub algorithms: AllowedAlgorithms,
    /// Bounds on the input document.
    pub limits: Limits,
}

/// Facts about a verified signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureInfo {
    /// The signed element's ID.
    pub id: String,
    /// SignatureMethod used.
    pub signature_algorithm: SignatureAlgorithm,
    /// DigestMethod used.
    pub digest_algorithm: DigestAlgorithm,
    /// Index, in insertion order, of the trusted key that verified.
    pub key_index: usize,
}

/// Proof that a `T` comes from an element whose signature verified with a trusted key. Only this
/// crate creates one; callers refine it with [`Verified::try_map`] (e.g. into a SAML assertion
/// model) without losing the proof.
#[derive(Debug, Clone)]
pub struct Verified<T = SignedElement> {
    inner: T,
    info: SignatureInfo,
}

impl<T> Verified<T> {
    /// The verified value.
    pub fn get(&self) -> &T {
        &self.inner
    }

    /// Which key and algorithms verified it.
    pub fn info(&self) -> &SignatureInfo {
        &self.info
    }

    /// Builds a value from the verified one, keeping the proof.
    ///
    /// # Errors
    /// Whatever `f` returns.
    pub fn try_map<U, E>(self, f: impl FnOnce(T) -> Result<U, E>) -> Result<Verified<U>, E> {
        Ok(Verified {
            inner: f(self.inner)?,
            info: self.info,
        })
    }
}

impl<T> std::ops::Deref for Verified<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.inner
    }
}

/// The signed element, as the canonical bytes that were digested (the enveloped Signature left
/// out, comments left out). Re-parse it with [`SignedElement::document`]: its document element is
/// the signed element, and there is nothing else in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedElement {
    canonical: String,
    limits: Limits,
}

impl SignedElement {
    /// The canonical XML of the element.
    #[must_use]
    pub fn canonical_xml(&self) -> &str {
        &self.canonical
    }

    /// Parses the canonical XML (strictly). Note that prefixes used only inside QName values
    /// (`xsi:type="xs:string"`) are bound here only if the signer covered them with an
    /// InclusiveNamespaces PrefixList: what was not signed is not there.
    ///
    /// # Errors
    /// Strict-reading errors (not expected: the bytes were produced from a strictly read tree).
    pub fn document(&self) -> Result<roxmltree::Document<'_>> {
        strict::parse(&self.canonical, &self.limits)
    }
}

/// Verifies the enveloped signature of the element at `target` in `xml`.
///
/// # Errors
/// See the module documentation: each rule has its variant.
pub fn verify_enveloped(
    xml: &str,
    target: &ElementPath<'_>,
    trusted: &TrustedKeys,
    policy: &VerifyPolicy,
) -> Result<Verified> {
    let doc = strict::parse(xml, &policy.limits)?;
    check_unique_ids(&doc)?;
    let element = target.find(&doc)?;
    verify_element(element, trusted, policy)
}

pub(crate) fn verify_element(
    element: Node<'_, '_>,
    trusted: &TrustedKeys,
    policy: &VerifyPolicy,
) -> Result<Verified> {
    let id = own_id(element)?;
    let signature = the_signature(element)?;
    let parts = SignatureParts::read(signature, &policy.algorithms, trusted)?;

    // XML-DSig §4.4.3.3 same-document reference; SAML core 2.0 §5.4.2: the URI must point to
    // the element that carries the signature, and nothing else.
    let expected_len = id.len() + 1;
    if parts.reference_uri.len() != expected_len
        || parts.reference_uri.strip_prefix('#') != Some(id)
    {
        return Err(XmlSecError::ReferenceUriMismatch {
            uri: parts.reference_uri.to_owned(),
        });
    }

    let key_index = select_key(parts.certificates.as_slice(), trusted)?;

    let prefixes = split_prefix_list(parts.reference_prefixes.unwrap_or(""));
    let canonical = exc_c14n(
        element,
        &C14nOptions {
            with_comments: false,
            inclusive_prefixes: &prefixes,
            exclude: Some(signature.id()),
        },
    )?;
    let digest = parts.digest_algorithm.digest(canonical.as_bytes());
    if digest.as_ref() != parts.digest_value.as_slice() {
        return Err(XmlSecError::DigestMismatch);
    }

    let si_prefixes = split_prefix_list(parts.signed_info_prefixes.unwrap_or(""));
    let signed_info = exc_c14n(
        parts.signed_info,
        &C14nOptions {
            with_comments: parts.signed_info_with_comments,
            inclusive_prefixes: &si_prefixes,
            exclude: None,
        },
    )?;
    let key_index = trusted.verify(
        key_index,
        parts.signature_algorithm,
        signed_info.as_bytes(),
        &parts.signature_value,
    )?;
    Ok(Verified {
        inner: SignedElement {
            canonical,
            limits: policy.limits,
        },
        info: SignatureInfo {
            id: id.to_owned(),
            signature_algorithm: parts.signature_algorithm,
            digest_algorithm: parts.digest_algorithm,
            key_index,
        },
    })
}

/// Refuses a document in which an ID value occurs more than once (on any element, under any of
/// the ID attribute names): the shape every wrapping attack needs.
pub(crate) fn check_unique_ids(doc: &roxmltree::Document<'_>) -> Result<()> {
    let mut ids: Vec<&str> = Vec::with_capacity(8);
    for node in doc.descendants().filter(Node::is_element) {
        for attr in node.attributes() {
            // By name first (no namespace lookup for the common non-ID attribute): unqualified
            // ID attribute names, xml:id, wsu:Id.
            let is_id = match attr.name() {
                "Id" => matches!(attr.namespace(), None | Some(WSU_NS)),
                "id" => attr.namespace() == Some(crate::c14n::XML_NS),
                name if ID_ATTRIBUTES.contains(&name) => attr.namespace().is_none(),
                _ => false,
            };
            if is_id {
                ids.push(attr.value());
            }
        }
    }
    ids.sort_unstable();
    if let Some(pair) = ids.windows(2).find(|w| w.first() == w.get(1)) {
        return Err(XmlSecError::DuplicateId {
            id: pair.first().copied().unwrap_or_default().to_owned(),
        });
    }
    Ok(())
}

/// The element's own ID: exactly one of [`ID_ATTRIBUTES`], non-empty.
pub(crate) fn own_id<'a>(element: Node<'a, '_>) -> Result<&'a str> {
    let mut found = None;
    for attr in element.attributes() {
        if attr.namespace().is_none() && ID_ATTRIBUTES.contains(&attr.name()) {
            if found.is_some() {
                return Err(XmlSecError::MissingId);
            }
            found = Some(attr.value());
        }
    }
    found
        .filter(|id| !id.is_empty())
        .ok_or(XmlSecError::MissingId)
}

/// The one ds:Signature child of `element`.
fn the_signature<'a, 'i>(element: Node<'a, 'i>) -> Result<Node<'a, 'i>> {
    let mut children = element
        .children()
        .filter(|c| has_name(*c, DSIG_NS, "Signature"));
    match (children.next(), children.next()) {
        (Some(sig), None) => Ok(sig),
        (Some(_), Some(_)) => Err(XmlSecError::MultipleSignatures),
        (None, _) => {
            if element
                .descendants()
                .any(|d| has_name(d, DSIG_NS, "Signature"))
            {
                Err(XmlSecError::SignatureNotDirectChild)
            } else {
                Err(XmlSecError::MissingSignature)
            }
        }
    }
}

/// Element children, refusing non-whitespace text between them.
fn element_children<'a, 'i>(node: Node<'a, 'i>) -> Result<Vec<Node<'a, 'i>>> {
    let mut out = Vec::with_capacity(4);
    for child in node.children() {
        match child.node_type() {
            NodeType::Element => out.push(child),
            NodeType::Text if !is_xml_whitespace(child.text().unwrap_or("")) => {
                return Err(XmlSecError::SignatureStructure(
                    "text inside a signature element",
                ));
            }
            _ => {}
        }
    }
    Ok(out)
}

fn expect<'a, 'i>(node: Option<&Node<'a, 'i>>, local: &'static str) -> Result<Node<'a, 'i>> {
    match node {
        Some(n) if has_name(*n, DSIG_NS, local) => Ok(*n),
        _ => Err(XmlSecError::SignatureStructure(local)),
    }
}

fn algorithm<'a>(node: Node<'a, '_>) -> Result<&'a str> {
    node.attribute("Algorithm")
        .ok_or(XmlSecError::SignatureStructure("Algorithm attribute"))
}

/// The PrefixList of an optional ec:InclusiveNamespaces child, refusing anything else.
fn inclusive_namespaces<'a>(node: Node<'a, '_>) -> Result<Option<&'a str>> {
    let children = element_children(node)?;
    match children.as_slice() {
        [] => Ok(None),
        [inc] if has_name(*inc, EXC_C14N, "InclusiveNamespaces") => {
            Ok(Some(inc.attribute("PrefixList").unwrap_or("")))
        }
        _ => Err(XmlSecError::TransformsNotExact),
    }
}

fn base64_text(node: Node<'_, '_>, what: &'static str) -> Result<Vec<u8>> {
    let text = element_text(node)?;
    // Whitespace is not base64, so text with some never decodes as it is: try it as it is
    // first (our own output, and most signers'), then without the whitespace (line-wrapped
    // base64, common from other signers). Same verdicts as dropping whitespace up front.
    B64.decode(text)
        .or_else(|first| {
            if text.bytes().any(|b| b.is_ascii_whitespace()) {
                let compact: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
                B64.decode(compact)
            } else {
                Err(first)
            }
        })
        .map_err(|_| XmlSecError::Base64(what))
}

/// The pieces of a ds:Signature we accept, read strictly.
struct SignatureParts<'a, 'i> {
    signed_info: Node<'a, 'i>,
    signed_info_with_comments: bool,
    signed_info_prefixes: Option<&'a str>,
    signature_algorithm: SignatureAlgorithm,
    reference_uri: &'a str,
    reference_prefixes: Option<&'a str>,
    digest_algorithm: DigestAlgorithm,
    digest_value: Vec<u8>,
    signature_value: Vec<u8>,
    certificates: Vec<KeyInfoCertificate>,
}

/// An X509Certificate of KeyInfo, read as strictly as every other value.
enum KeyInfoCertificate {
    /// Its text is exactly the base64 of a certificate the caller trusts: key `index`.
    Trusted(usize),
    /// Any other certificate, decoded.
    Der(Vec<u8>),
}

impl<'a, 'i> SignatureParts<'a, 'i> {
    fn read(
        signature: Node<'a, 'i>,
        allowed: &AllowedAlgorithms,
        trusted: &TrustedKeys,
    ) -> Result<Self> {
        // XML-DSig 1.1 §4.2: SignedInfo, SignatureValue, KeyInfo?, Object*. We refuse Object:
        // SAML never needs it and it is where wrapped content likes to hide.
        let children = element_children(signature)?;
        let signed_info = expect(children.first(), "SignedInfo")?;
        let signature_value = expect(children.get(1), "SignatureValue")?;
        let key_info = match children.get(2) {
            None => None,
            Some(_) => Some(expect(children.get(2), "KeyInfo")?),
        };
        if children.len() > 3 {
            return Err(XmlSecError::SignatureStructure(
                "Signature child after KeyInfo",
            ));
        }

        // XML-DSig 1.1 §4.4: CanonicalizationMethod, SignatureMethod, Reference+.
        let si = element_children(signed_info)?;
        let c14n = expect(si.first(), "CanonicalizationMethod")?;
        let c14n_alg = algorithm(c14n)?;
        let signed_info_with_comments = match c14n_alg {
            EXC_C14N => false,
            EXC_C14N_WITH_COMMENTS => true,
            other => {
                return Err(XmlSecError::DisallowedAlgorithm {
                    role: "CanonicalizationMethod",
                    uri: other.to_owned(),
                });
            }
        };
        let signed_info_prefixes = inclusive_namespaces(c14n)?;
        let method = expect(si.get(1), "SignatureMethod")?;
        let signature_algorithm = allowed.signature(algorithm(method)?)?;
        if method.has_children() && !element_children(method)?.is_empty() {
            return Err(XmlSecError::SignatureStructure(
                "SignatureMethod parameters",
            ));
        }
        let references = si.get(2..).unwrap_or_default();
        let reference = match references {
            [] => return Err(XmlSecError::MissingReference),
            [one] => expect(Some(one), "Reference")?,
            _ => return Err(XmlSecError::MultipleReferences),
        };
        let reference_uri = reference
            .attribute("URI")
            .ok_or(XmlSecError::ReferenceUriMismatch { uri: String::new() })?;

        // XML-DSig 1.1 §4.4.3: Transforms?, DigestMethod, DigestValue. We require the transforms
        // SAML core 2.0 §5.4.3/§5.4.4 name: enveloped-signature then exclusive C14N.
        let parts = element_children(reference)?;
        let transforms = match parts.first() {
            Some(t) if has_name(*t, DSIG_NS, "Transforms") => *t,
            _ => return Err(XmlSecError::TransformsNotExact),
        };
        let reference_prefixes = match element_children(transforms)?.as_slice() {
            [enveloped, c14n]
                if has_name(*enveloped, DSIG_NS, "Transform")
                    && has_name(*c14n, DSIG_NS, "Transform")
                    && enveloped.attribute("Algorithm") == Some(ENVELOPED)
                    && element_children(*enveloped)?.is_empty()
                    && c14n.attribute("Algorithm") == Some(EXC_C14N) =>
            {
                inclusive_namespaces(*c14n)?
            }
            _ => return Err(XmlSecError::TransformsNotExact),
        };
        let digest_method = expect(parts.get(1), "DigestMethod")?;
        let digest_algorithm = allowed.digest(algorithm(digest_method)?)?;
        let digest_value = base64_text(expect(parts.get(2), "DigestValue")?, "DigestValue")?;
        if parts.len() > 3 {
            return Err(XmlSecError::SignatureStructure(
                "Reference child after DigestValue",
            ));
        }

        let signature_value = base64_text(signature_value, "SignatureValue")?;
        let mut certificates = Vec::new();
        if let Some(key_info) = key_info {
            for cert in key_info
                .descendants()
                .filter(|n| has_name(*n, DSIG_NS, "X509Certificate"))
            {
                // The text of a certificate we were configured with is valid base64 of that
                // certificate: no need to decode it and walk it to its key for every message.
                let text = element_text(cert)?;
                certificates.push(match trusted.position_by_certificate_b64(text) {
                    Some(index) => KeyInfoCertificate::Trusted(index),
                    None => KeyInfoCertificate::Der(base64_text(cert, "X509Certificate")?),
                });
            }
        }
        Ok(Self {
            signed_info,
            signed_info_with_comments,
            signed_info_prefixes,
            signature_algorithm,
            reference_uri,
            reference_prefixes,
            digest_algorithm,
            digest_value,
            signature_value,
            certificates,
        })
    }
}

/// KeyInfo selects among trusted keys: with certificates, one of them must carry a trusted
/// public key (else `UntrustedKey`); without, every trusted key is a candidate.
fn select_key(certificates: &[KeyInfoCertificate], trusted: &TrustedKeys) -> Result<Option<usize>> {
    if certificates.is_empty() {
        return Ok(None);
    }
    for cert in certificates {
        match cert {
            KeyInfoCertificate::Trusted(index) => return Ok(Some(*index)),
            KeyInfoCertificate::Der(der) => {
                if let Ok(spki) = certificate_spki(der)
                    && let Some(index) = trusted.position(&spki.der)
                {
                    return Ok(Some(index));
                }
            }
        }
    }
    Err(XmlSecError::UntrustedKey)
}
