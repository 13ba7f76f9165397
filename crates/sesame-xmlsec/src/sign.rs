//! Enveloped XML-DSig signing of one element (SAML core 2.0 §5.4).
//!
//! The signed element is written back into the document *in its canonical form*, with the
//! Signature spliced in: what we digested is then literally what any verifier recomputes, whatever
//! its parser. The rest of the document text is left untouched.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use roxmltree::{Node, NodeType};

use crate::algorithms::{DSIG_NS, DigestAlgorithm, ENVELOPED, EXC_C14N, SignatureAlgorithm};
use crate::c14n::{C14nOptions, Mark, escape_attr, exc_c14n_into};
use crate::error::{Result, XmlSecError};
use crate::keys::SigningKey;
use crate::select::{ElementPath, has_name};
use crate::strict::{self, Limits, element_prefix};
use crate::verify::{check_unique_ids, own_id};

/// Where the Signature goes among the children of the signed element.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Placement {
    /// Right after the `Issuer` child, or first when there is none: what the SAML 2.0 schemas
    /// require for Assertion, Response, AuthnRequest, LogoutRequest… The default.
    #[default]
    AfterIssuer,
    /// Last child: the SAML 1.1 Assertion schema.
    Last,
}

/// How to sign.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignOptions {
    /// SignatureMethod; must fit the key.
    pub signature: SignatureAlgorithm,
    /// DigestMethod.
    pub digest: DigestAlgorithm,
    /// Where the Signature element goes.
    pub placement: Placement,
    /// Bounds on the input document.
    pub limits: Limits,
}

impl Default for SignOptions {
    /// RSA-SHA256, SHA-256, after Issuer, default limits.
    fn default() -> Self {
        Self {
            signature: SignatureAlgorithm::RsaSha256,
            digest: DigestAlgorithm::Sha256,
            placement: Placement::AfterIssuer,
            limits: Limits::default(),
        }
    }
}

/// Signs the element at `target` with an enveloped signature and returns the whole document
/// with the signature in place.
///
/// The reference is `#` + the element's own ID attribute; transforms are enveloped-signature and
/// exclusive C14N (with an InclusiveNamespaces PrefixList naming the prefixes that appear inside
/// QName-valued content such as `xsi:type="xs:string"`, so that their declarations survive).
///
/// # Errors
/// Strict-reading errors, `ElementNotFound`/`AmbiguousElement`, `MissingId`, `DuplicateId`,
/// `MultipleSignatures` (the element is already signed), `InvalidKey` when the algorithm does not
/// fit the key.
pub fn sign_enveloped(
    xml: &str,
    target: &ElementPath<'_>,
    key: &SigningKey,
    options: &SignOptions,
) -> Result<String> {
    let doc = strict::parse(xml, &options.limits)?;
    let element = target.find(&doc)?;
    check_unique_ids(&doc)?;
    let id = own_id(element)?;
    if element
        .children()
        .any(|c| has_name(c, DSIG_NS, "Signature"))
    {
        return Err(XmlSecError::MultipleSignatures);
    }

    let prefixes = qname_content_prefixes(element);
    let mark = match options.placement {
        Placement::AfterIssuer => match element.first_element_child() {
            Some(first) if first.tag_name().name() == "Issuer" => Mark::AfterNode(first.id()),
            _ => Mark::AfterApexStartTag,
        },
        Placement::Last => Mark::BeforeApexEndTag,
    };
    let c14n = C14nOptions {
        with_comments: false,
        inclusive_prefixes: &prefixes,
        exclude: None,
    };
    let mut canonical = String::with_capacity(element.range().len() + 2048);
    let splice = exc_c14n_into(element, &c14n, &mut canonical, Some(mark))?
        .ok_or(XmlSecError::Malformed("signature position".into()))?;

    let digest = B64.encode(options.digest.digest(canonical.as_bytes()));
    let signed_info_body = signed_info_children(id, options, &prefixes, &digest);
    // The canonical form of SignedInfo (Exc-C14N of the element as we write it below): the ds
    // prefix is declared on it because it is the apex of that canonicalization.
    let mut signed_info = String::with_capacity(signed_info_body.len() + 96);
    signed_info.push_str("<ds:SignedInfo xmlns:ds=\"");
    signed_info.push_str(DSIG_NS);
    signed_info.push_str("\">");
    signed_info.push_str(&signed_info_body);
    signed_info.push_str("</ds:SignedInfo>");
    let signature_value = B64.encode(key.sign(options.signature, signed_info.as_bytes())?);

    let mut signature = String::with_capacity(signed_info.len() + 2400);
    signature.push_str("<ds:Signature xmlns:ds=\"");
    signature.push_str(DSIG_NS);
    signature.push_str("\"><ds:SignedInfo>");
    signature.push_str(&signed_info_body);
    signature.push_str("</ds:SignedInfo><ds:SignatureValue>");
    signature.push_str(&signature_value);
    signature.push_str("</ds:SignatureValue><ds:KeyInfo><ds:X509Data><ds:X509Certificate>");
    signature.push_str(key.certificate_b64());
    signature.push_str("</ds:X509Certificate></ds:X509Data></ds:KeyInfo></ds:Signature>");

    let range = element.range();
    let mut out = String::with_capacity(xml.len() + signature.len() + 64);
    out.push_str(xml.get(..range.start).unwrap_or_default());
    let (head, tail) = canonical
        .split_at_checked(splice)
        .ok_or(XmlSecError::Malformed("signature position".into()))?;
    if needs_default_undeclaration(element) {
        // The canonical form relies on an empty default namespace around it; the parent in this
        // document has a non-empty one, so state the empty one explicitly on the apex. This does
        // not change the canonical form (Exc-C14N never outputs xmlns="" on an apex).
        let name_end = 1 + crate::c14n::element_qname(element)?.len();
        let (open, rest) = head
            .split_at_checked(name_end)
            .ok_or(XmlSecError::Malformed("element name".into()))?;
        out.push_str(open);
        out.push_str(" xmlns=\"\"");
        out.push_str(rest);
    } else {
        out.push_str(head);
    }
    out.push_str(&signature);
    out.push_str(tail);
    out.push_str(xml.get(range.end..).unwrap_or_default());
    Ok(out)
}

fn signed_info_children(
    id: &str,
    options: &SignOptions,
    prefixes: &[&str],
    digest_b64: &str,
) -> String {
    let mut s = String::with_capacity(1024);
    s.push_str("<ds:CanonicalizationMethod Algorithm=\"");
    s.push_str(EXC_C14N);
    s.push_str("\"></ds:CanonicalizationMethod><ds:SignatureMethod Algorithm=\"");
    s.push_str(options.signature.uri());
    s.push_str("\"></ds:SignatureMethod><ds:Reference URI=\"#");
    escape_attr(id, &mut s);
    s.push_str("\"><ds:Transforms><ds:Transform Algorithm=\"");
    s.push_str(ENVELOPED);
    s.push_str("\"></ds:Transform><ds:Transform Algorithm=\"");
    s.push_str(EXC_C14N);
    s.push_str("\">");
    if !prefixes.is_empty() {
        s.push_str("<ec:InclusiveNamespaces xmlns:ec=\"");
        s.push_str(EXC_C14N);
        s.push_str("\" PrefixList=\"");
        escape_attr(&prefixes.join(" "), &mut s);
        s.push_str("\"></ec:InclusiveNamespaces>");
    }
    s.push_str("</ds:Transform></ds:Transforms><ds:DigestMethod Algorithm=\"");
    s.push_str(options.digest.uri());
    s.push_str("\"></ds:DigestMethod><ds:DigestValue>");
    s.push_str(digest_b64);
    s.push_str("</ds:DigestValue></ds:Reference>");
    s
}

/// True when the element's parent has a non-empty default namespace but the canonical form of
/// the element will not declare one on the apex.
fn needs_default_undeclaration(element: Node<'_, '_>) -> bool {
    let parent_default = element
        .parent_element()
        .and_then(|p| p.default_namespace())
        .unwrap_or("");
    if parent_default.is_empty() {
        return false;
    }
    let declares_default = element_prefix(element).is_none()
        && element
            .tag_name()
            .namespace()
            .is_some_and(|n| !n.is_empty());
    !declares_default
}

/// Prefixes used inside attribute values or text as QNames (`xs:string`), in scope where used.
/// Exclusive C14N does not see them as utilized and would drop their declarations.
fn qname_content_prefixes<'a>(element: Node<'a, '_>) -> Vec<&'a str> {
    let mut found: Vec<&'a str> = Vec::new();
    let mut consider = |node: Node<'a, '_>, value: &str| {
        let Some((prefix, local)) = value.trim().split_once(':') else {
            return;
        };
        if prefix == "xml" || !is_ncname(prefix) || !is_ncname(local) {
            return;
        }
        if let Some(ns) = node.namespaces().find(|ns| ns.name() == Some(prefix))
            && let Some(name) = ns.name()
            && !found.contains(&name)
        {
            found.push(name);
        }
    };
    for node in element.descendants() {
        match node.node_type() {
            NodeType::Element => {
                for attr in node.attributes() {
                    consider(node, attr.value());
                }
            }
            NodeType::Text => {
                if let Some(parent) = node.parent_element() {
                    consider(parent, node.text().unwrap_or(""));
                }
            }
            _ => {}
        }
    }
    found.sort_unstable();
    found
}

fn is_ncname(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))
}
